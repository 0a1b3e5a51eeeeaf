//! The worker's side: the page's own Wasm, loaded a second time in a
//! module Web Worker (`worker-HASH.js`, written by `web/build/finish.mjs`),
//! runs the [`Session`] and answers the page's requests, one at a time, in
//! the order they came. The page's main thread never simulates.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::session::{Request, Session};

/// The message the worker sends once it listens: the page holds its
/// requests until then.
pub const READY: &str = "ready";

/// Called by the worker's script once the Wasm is loaded: from now on each
/// message is an encoded `(id, request)` (see [`crate::session::encode`])
/// and gets an encoded reply.
#[wasm_bindgen]
pub fn worker_start() {
    console_error_panic_hook::set_once();
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let session = RefCell::new(Session::new());
    let reply_to = scope.clone();
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        let bytes = js_sys::Uint8Array::new(&e.data()).to_vec();
        let (id, request): (u64, Request) = match crate::session::decode(&bytes) {
            Ok(m) => m,
            Err(err) => {
                web_sys::console::error_1(&format!("podpath worker: a message it cannot read: {err}").into());
                return;
            }
        };
        let reply = session.borrow_mut().handle(id, request);
        match crate::session::encode(&reply) {
            Ok(bytes) => {
                let _ = reply_to.post_message(&js_sys::Uint8Array::from(&bytes[..]));
            }
            Err(err) => web_sys::console::error_1(&format!("podpath worker: an answer it cannot write: {err}").into()),
        }
        session.borrow_mut().release();
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let _ = scope.post_message(&JsValue::from_str(READY));
}

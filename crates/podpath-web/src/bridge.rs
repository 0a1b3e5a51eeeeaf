//! The page's side of the session: sends the model's requests to the
//! worker and turns its replies into actions.
//!
//! Simulations are superseded, not queued: while one runs in the worker,
//! only the newest text waits to follow it (an edit made meanwhile replaces
//! the one waiting), so the page shows the cluster of the last keystroke
//! after at most two simulations. Other requests go at once, in order.
//! Until the worker says it listens, everything waits here.
//!
//! Where no worker can run (the page's own tests in a browser, or a
//! worker that failed to load), the same session runs on the main thread,
//! one request per task: slower on a big cluster, never wrong.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::Callback;

use crate::session::{Answer, Reply, Request, Session};
use crate::state::Action;
use crate::worker::READY;

enum Backend {
    /// Messages not yet answered by a worker that has not said it listens.
    Worker {
        worker: web_sys::Worker,
        _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
        _on_error: Closure<dyn FnMut(web_sys::Event)>,
    },
    Local(Rc<RefCell<Session>>),
}

pub struct Bridge {
    backend: Option<Backend>,
    ready: bool,
    /// Requests waiting for the worker to listen, in order.
    queue: Vec<(u64, Request)>,
    /// The simulation running, and the newest one waiting for it.
    running: Option<u64>,
    waiting: Option<(u64, Request)>,
    /// What the session must be told again if the worker fails and it
    /// starts over on the main thread: the newest simulation, then the
    /// newest trace opened or closed. (The terminal's shell starts afresh.)
    replay: Vec<(u64, Request)>,
    /// The highest request number taken from the model.
    pub taken: u64,
    dispatch: Callback<Action>,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("ready", &self.ready)
            .field("running", &self.running)
            .field("taken", &self.taken)
            .finish_non_exhaustive()
    }
}

/// The worker script's address, which the build writes into the page.
fn worker_url() -> Option<String> {
    let document = web_sys::window()?.document()?;
    let meta = document.query_selector("meta[name=podpath-worker]").ok()??;
    meta.get_attribute("content").filter(|c| !c.is_empty())
}

impl Bridge {
    /// A bridge whose replies become `dispatch`ed actions. The worker is
    /// started at once; until it listens requests wait.
    pub fn start(dispatch: Callback<Action>) -> Rc<RefCell<Bridge>> {
        let bridge = Rc::new(RefCell::new(Bridge {
            backend: None,
            ready: false,
            queue: Vec::new(),
            running: None,
            waiting: None,
            replay: Vec::new(),
            taken: 0,
            dispatch,
        }));
        let backend = worker_url().and_then(|url| spawn(&url, &bridge));
        let mut b = bridge.borrow_mut();
        match backend {
            Some(w) => b.backend = Some(w),
            None => {
                b.backend = Some(Backend::Local(Rc::default()));
                b.ready = true;
            }
        }
        drop(b);
        bridge
    }

    /// Takes a request from the model.
    pub fn submit(this: &Rc<RefCell<Bridge>>, id: u64, request: Request) {
        let mut b = this.borrow_mut();
        b.taken = b.taken.max(id);
        if matches!(request, Request::Simulate { .. }) {
            // Only the newest simulation is worth running.
            b.replay.retain(|(_, r)| !matches!(r, Request::Simulate { .. }));
            b.replay.insert(0, (id, request.clone()));
            if b.running.is_some() || !b.ready {
                b.waiting = Some((id, request));
                return;
            }
            b.running = Some(id);
        } else if matches!(request, Request::Trace(_) | Request::CloseTrace) {
            b.replay.retain(|(_, r)| !matches!(r, Request::Trace(_) | Request::CloseTrace));
            b.replay.push((id, request.clone()));
        }
        if !b.ready {
            b.queue.push((id, request));
            return;
        }
        drop(b);
        Bridge::post(this, id, request);
    }

    fn post(this: &Rc<RefCell<Bridge>>, id: u64, request: Request) {
        let b = this.borrow();
        match &b.backend {
            Some(Backend::Worker { worker, .. }) => match crate::session::encode(&(id, &request)) {
                Ok(bytes) => {
                    let _ = worker.post_message(&js_sys::Uint8Array::from(&bytes[..]));
                }
                Err(e) => web_sys::console::error_1(&format!("podpath: a request it cannot write: {e}").into()),
            },
            Some(Backend::Local(session)) => {
                // A task of its own, as a worker's answer would come.
                let (session, this) = (session.clone(), this.clone());
                gloo::timers::callback::Timeout::new(0, move || {
                    let reply = session.borrow_mut().handle(id, request);
                    Bridge::answer(&this, reply);
                    session.borrow_mut().release();
                })
                .forget();
            }
            None => {}
        }
    }

    /// The worker listens: what waited goes, the simulation first.
    fn listening(this: &Rc<RefCell<Bridge>>) {
        let mut b = this.borrow_mut();
        b.ready = true;
        let mut out: Vec<(u64, Request)> = Vec::new();
        if let Some((id, r)) = b.waiting.take() {
            b.running = Some(id);
            out.push((id, r));
        }
        out.append(&mut b.queue);
        drop(b);
        for (id, r) in out {
            Bridge::post(this, id, r);
        }
    }

    /// A reply came: the next simulation may go; the model takes it in.
    fn answer(this: &Rc<RefCell<Bridge>>, reply: Reply) {
        let mut b = this.borrow_mut();
        let next = if matches!(reply.answer, Answer::Simulated { .. }) && b.running == Some(reply.id) {
            b.running = None;
            b.waiting.take().inspect(|(id, _)| b.running = Some(*id))
        } else {
            None
        };
        let dispatch = b.dispatch.clone();
        drop(b);
        if let Some((id, r)) = next {
            Bridge::post(this, id, r);
        }
        dispatch.emit(Action::Reply(reply));
    }

    /// The worker could not run: the session starts again here, from the
    /// newest simulation and the open trace.
    fn fall_back(this: &Rc<RefCell<Bridge>>, why: String) {
        web_sys::console::warn_1(
            &format!("podpath: the simulation worker failed ({why}); simulating on the page").into(),
        );
        let mut b = this.borrow_mut();
        b.backend = Some(Backend::Local(Rc::default()));
        b.ready = true;
        b.running = None;
        b.queue.clear();
        b.waiting = None;
        let replay = b.replay.clone();
        drop(b);
        for (id, r) in replay {
            if matches!(r, Request::Simulate { .. }) {
                this.borrow_mut().running = Some(id);
            }
            Bridge::post(this, id, r);
        }
    }
}

/// Starts the worker, with its replies routed to `bridge`.
fn spawn(url: &str, bridge: &Rc<RefCell<Bridge>>) -> Option<Backend> {
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options(url, &options).ok()?;
    let on_message = {
        let bridge = bridge.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if e.data().as_string().as_deref() == Some(READY) {
                Bridge::listening(&bridge);
                return;
            }
            let bytes = js_sys::Uint8Array::new(&e.data()).to_vec();
            match crate::session::decode::<Reply>(&bytes) {
                Ok(reply) => Bridge::answer(&bridge, reply),
                Err(err) => web_sys::console::error_1(&format!("podpath: an answer it cannot read: {err}").into()),
            }
        })
    };
    let on_error = {
        let bridge = bridge.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            let why = e
                .dyn_ref::<web_sys::ErrorEvent>()
                .map(|e| e.message())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "it did not load".to_owned());
            Bridge::fall_back(&bridge, why);
        })
    };
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Some(Backend::Worker { worker, _on_message: on_message, _on_error: on_error })
}

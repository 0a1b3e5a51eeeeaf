//! The page's side of the session: sends the model's requests to the
//! worker and turns its replies into actions.
//!
//! Simulations are superseded, not queued: while one runs in the worker,
//! only the newest text waits to follow it (an edit made meanwhile replaces
//! the one waiting), so the page shows the cluster of the last keystroke
//! after at most two simulations. Other requests go at once, in order.
//! Until the worker says it listens, everything waits here.
//!
//! Where no worker can run (the page's own tests in a browser, a worker
//! that failed to load, did not start within [`READY_WITHIN_MS`], or
//! died), the same session runs on the main thread, one request per task:
//! slower on a big cluster, never wrong. It takes over from the newest
//! simulation and the open trace, then what was still unanswered; the
//! terminal's shell starts afresh, and says so.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::Callback;

use crate::session::{Reply, Request, Session};
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

/// How long the worker may take to say it listens before the page
/// simulates by itself (it loads the Wasm the page has already loaded).
pub const READY_WITHIN_MS: u32 = 20_000;

pub struct Bridge {
    backend: Option<Backend>,
    ready: bool,
    /// Fires if the worker has not said it listens in time.
    ready_timer: Option<gloo::timers::callback::Timeout>,
    /// Requests waiting for the worker to listen, in order.
    queue: Vec<(u64, Request)>,
    /// The simulation running, and the newest one waiting for it.
    running: Option<u64>,
    waiting: Option<(u64, Request)>,
    /// What the session must be told again if the worker fails and it
    /// starts over on the main thread: the newest simulation, then the
    /// newest trace opened or closed. (The terminal's shell starts afresh.)
    replay: Vec<(u64, Request)>,
    /// Requests sent and not answered yet, other than simulations.
    unanswered: Vec<(u64, Request)>,
    /// The newest cluster's number, so that a session taking over numbers
    /// its clusters on from it.
    generation: u64,
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
            ready_timer: None,
            queue: Vec::new(),
            running: None,
            waiting: None,
            replay: Vec::new(),
            unanswered: Vec::new(),
            generation: 0,
            taken: 0,
            dispatch,
        }));
        let backend = worker_url().and_then(|url| spawn(&url, &bridge));
        let mut b = bridge.borrow_mut();
        match backend {
            Some(w) => {
                b.backend = Some(w);
                let late = bridge.clone();
                b.ready_timer = Some(gloo::timers::callback::Timeout::new(READY_WITHIN_MS, move || {
                    Bridge::fall_back(&late, "it did not start".to_owned());
                }));
            }
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
        } else {
            if matches!(request, Request::Trace(_) | Request::CloseTrace) {
                b.replay.retain(|(_, r)| !matches!(r, Request::Trace(_) | Request::CloseTrace));
                b.replay.push((id, request.clone()));
            }
            b.unanswered.push((id, request.clone()));
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
                Err(e) => {
                    // Never answered: let what waits behind it go.
                    web_sys::console::error_1(&format!("podpath: a request it cannot write: {e}").into());
                    drop(b);
                    Bridge::done(this, id);
                }
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
        b.ready_timer = None;
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

    /// Request `id` is over: if it was the simulation running, the one
    /// waiting goes.
    fn done(this: &Rc<RefCell<Bridge>>, id: u64) {
        let mut b = this.borrow_mut();
        b.unanswered.retain(|(i, _)| *i != id);
        let next = if b.running == Some(id) {
            b.running = None;
            b.waiting.take().inspect(|(id, _)| b.running = Some(*id))
        } else {
            None
        };
        drop(b);
        if let Some((id, r)) = next {
            Bridge::post(this, id, r);
        }
    }

    /// A reply came: the next simulation may go; the model takes it in.
    fn answer(this: &Rc<RefCell<Bridge>>, reply: Reply) {
        {
            let mut b = this.borrow_mut();
            b.generation = b.generation.max(reply.generation);
        }
        Bridge::done(this, reply.id);
        let dispatch = this.borrow().dispatch.clone();
        dispatch.emit(Action::Reply(reply));
    }

    /// The worker could not run: the session starts again here, from the
    /// newest simulation and the open trace, then what was unanswered.
    fn fall_back(this: &Rc<RefCell<Bridge>>, why: String) {
        let mut b = this.borrow_mut();
        if matches!(b.backend, Some(Backend::Local(_))) {
            return;
        }
        web_sys::console::warn_1(
            &format!("podpath: the simulation worker failed ({why}); simulating on the page").into(),
        );
        if let Some(Backend::Worker { worker, .. }) = &b.backend {
            worker.set_onmessage(None);
            worker.set_onerror(None);
            worker.terminate();
        }
        let was_ready = b.ready;
        b.backend = Some(Backend::Local(Rc::new(RefCell::new(Session::after(b.generation)))));
        b.ready = true;
        b.ready_timer = None;
        b.running = None;
        b.waiting = None;
        b.queue.clear();
        // The newest simulation and the open trace, then what was still
        // unanswered (its trace requests are in the replay already).
        let mut replay = b.replay.clone();
        replay.extend(
            std::mem::take(&mut b.unanswered)
                .into_iter()
                .filter(|(_, r)| !matches!(r, Request::Trace(_) | Request::CloseTrace)),
        );
        let dispatch = b.dispatch.clone();
        drop(b);
        if was_ready {
            dispatch.emit(Action::Restarted(why));
        }
        for (id, r) in replay {
            if matches!(r, Request::Simulate { .. }) {
                this.borrow_mut().running = Some(id);
            } else {
                this.borrow_mut().unanswered.push((id, r.clone()));
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

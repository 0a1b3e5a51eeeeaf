//! The playground's state: the scenario text, the switches, what the
//! session last answered, and the requests waiting to go to it. Pure:
//! `reduce` only records what to ask (`outbox`) and takes answers in
//! (`Action::Reply`); the session runs in a worker (`session.rs`), and the
//! hook that talks to it (`hooks::use_session`) sends what the outbox
//! holds and says so (`Action::Sent`), which empties it.

use std::rc::Rc;

use podpath_core::cluster::Protocol;
use podpath_core::lesson::{Lesson, Outcome};
use podpath_core::topology::Place;
use podpath_core::trace::Trace;
use podpath_core::{Cni, Diagnostic, Overrides, ProxyMode};
use yew::Reducible;

use crate::scene::Scene;
use crate::session::{Answer, Ask, MatrixAnswer, Reply, Request, RulesAnswer, TraceAnswer};

/// The shared handle every component reads the model through.
pub type ModelHandle = yew::UseReducerHandle<Model>;

#[derive(Clone, Debug)]
pub struct Model {
    /// Which scenario the text belongs to (the autosave key).
    pub scenario: String,
    /// What the editor holds, always: never replaced by anything but an edit.
    pub text: String,
    pub overrides: Overrides,
    /// The text the shown diagnostics were computed from.
    pub simulated: String,
    pub diagnostics: Rc<Vec<Diagnostic>>,
    /// The cluster on screen: the latest one without errors, so a half-typed
    /// edit does not blank the topology.
    pub scene: Rc<Scene>,
    /// Counts the traces shown, to number each [`TraceView`].
    traces: u64,
    /// True when `scene` is older than the text (the text has errors).
    pub stale: bool,
    /// A message for the user that is not about the text (a bad link, say).
    pub notice: Option<String>,
    /// Whether the topology shows the platform's own pods (CoreDNS,
    /// kube-proxy, the CNI agents…); hidden by default, as `kubectl get pods`
    /// hides other namespaces.
    pub show_system: bool,
    /// The port and protocol the policy matrix is computed for.
    pub matrix_port: u16,
    /// The trace on screen: what was asked, and the session's answer. The
    /// session traces it again whenever the cluster changes (an edit, a
    /// switch), so the difference a switch makes shows at once.
    pub trace: Option<Rc<TraceView>>,
    /// The hop the animation is at (request hops, then reply hops).
    pub step: Option<usize>,
    pub playing: bool,
    /// Hops per second while playing.
    pub speed: u32,
    /// A pod clicked as the source of the next trace, waiting for a target.
    pub pick: Option<String>,
    /// The tab open below the topology.
    pub tab: Tab,
    /// A rule line to show in the node-rules tab (the node, and the line).
    pub rule_focus: Option<(String, String)>,
    /// The protocol traces use: TCP, UDP or ICMP (ping).
    pub protocol: Protocol,
    /// The terminal: the lines run, and what it has shown.
    pub history: Rc<Vec<String>>,
    pub scrollback: Rc<Vec<TermEntry>>,
    /// The lesson the scenario belongs to, and how its goals stand on the
    /// cluster on screen (checked again at every simulation).
    pub lesson: Option<Rc<Lesson>>,
    pub outcomes: Rc<Vec<Outcome>>,
    /// Where the terminal's shell is: its prompt, and what Tab completes.
    pub at: podpath_core::shell::Where,
    /// The tabs' latest answers: the matrix, a node's rules, a lookup.
    /// With the generation of the cluster each was computed on.
    pub matrix: Option<Rc<(u64, MatrixAnswer)>>,
    pub rules: Option<Rc<(u64, RulesAnswer)>>,
    pub dns: Option<Rc<(String, String, String)>>,
    /// Requests for the session not sent yet, numbered; the session hook
    /// sends them after each render.
    pub outbox: Rc<Vec<(u64, Request)>>,
    /// The number the next request gets.
    next_id: u64,
    /// The latest simulation asked for, and its text; the latest answered.
    asked: (u64, Rc<str>),
    answered: u64,
    /// The latest request that opens or closes a trace, and the trace it
    /// asked for: answers to older ones are not shown, and a simulation's
    /// trace is shown only if it is that one, traced again.
    trace_asked: (u64, Option<Ask>),
}

/// One command in the terminal: the prompt it was typed at, the line, and
/// what it printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TermEntry {
    pub prompt: String,
    pub line: String,
    pub output: String,
    pub status: u8,
}

/// The most commands the terminal keeps on screen.
const SCROLLBACK: usize = 200;

/// The tabs below the topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Matrix,
    Rules,
    Dns,
    Terminal,
    Capture,
}

impl Tab {
    pub const ALL: [Tab; 5] = [Tab::Matrix, Tab::Rules, Tab::Dns, Tab::Capture, Tab::Terminal];

    pub fn label(self) -> &'static str {
        match self {
            Tab::Matrix => "Policy matrix",
            Tab::Rules => "Node rules",
            Tab::Dns => "DNS",
            Tab::Terminal => "Terminal",
            Tab::Capture => "Capture",
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Tab::Matrix => "matrix",
            Tab::Rules => "rules",
            Tab::Dns => "dns",
            Tab::Terminal => "terminal",
            Tab::Capture => "capture",
        }
    }
}

/// A trace on screen: what was asked, the session's answer, and where the
/// page draws each hop.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceView {
    /// The source and destination as typed (`NS/POD`, `external`, a name, a URL).
    pub from: String,
    pub to: String,
    pub port: u16,
    /// The seed of the random choices (a terminal command's own).
    pub seed: u64,
    pub result: Result<Trace, String>,
    /// Where each hop (request, then reply) is drawn.
    pub places: Vec<Option<Place>>,
    /// The places the request passes.
    pub route: Vec<Place>,
    /// The nodes the trace touches (kept open in a big cluster).
    pub near: Vec<String>,
    /// Which trace of the session this is: what views derived from it
    /// (the capture, the pcap) are kept by.
    pub id: u64,
}

impl TraceView {
    fn new(t: TraceAnswer, id: u64) -> TraceView {
        TraceView {
            from: t.ask.from,
            to: t.ask.to,
            port: t.ask.port,
            seed: t.ask.seed,
            result: t.result,
            places: t.places,
            route: t.route,
            near: t.near,
            id,
        }
    }

    /// How many hops the walk has, request and reply.
    pub fn len(&self) -> usize {
        self.result.as_ref().map_or(0, |t| t.hops.len() + t.reply.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PartialEq for Model {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
            && self.overrides == other.overrides
            && self.simulated == other.simulated
            && self.stale == other.stale
            && self.notice == other.notice
            && self.show_system == other.show_system
            && self.matrix_port == other.matrix_port
            && self.trace == other.trace
            && self.step == other.step
            && self.playing == other.playing
            && self.speed == other.speed
            && self.pick == other.pick
            && self.tab == other.tab
            && self.rule_focus == other.rule_focus
            && self.protocol == other.protocol
            && Rc::ptr_eq(&self.scrollback, &other.scrollback)
            && Rc::ptr_eq(&self.outcomes, &other.outcomes)
            && Rc::ptr_eq(&self.scene, &other.scene)
            && Rc::ptr_eq(&self.diagnostics, &other.diagnostics)
            && self.matrix == other.matrix
            && self.rules == other.rules
            && self.dns == other.dns
            && self.at == other.at
            && self.next_id == other.next_id
    }
}

#[derive(Debug)]
pub enum Action {
    /// The user typed: keep the text now, simulate after the debounce.
    Edit(String),
    /// Recompute the cluster from the current text.
    Simulate,
    /// Show a message above the workspace (`None` dismisses it).
    Notify(Option<String>),
    SetCni(Option<Cni>),
    SetProxyMode(Option<ProxyMode>),
    ShowSystem(bool),
    SetMatrixPort(u16),
    /// Trace from a source to a destination, in the words the CLI takes
    /// (`NS/POD`, `node/NAME`, `external`; an IP, `NS/POD`, a name, a URL).
    Trace {
        from: String,
        to: String,
        port: u16,
    },
    CloseTrace,
    /// A pod was clicked: the source of the next trace, or its destination
    /// when a source is waiting (which starts the trace).
    PickPod(String),
    /// Move the animation: one hop on, one back, to a hop.
    StepForward,
    StepBack,
    StepTo(usize),
    Play,
    Pause,
    /// A tick of the player: one hop on, stopping at the end.
    Tick,
    SetSpeed(u32),
    SetTab(Tab),
    /// The protocol of traces (the open one is traced again).
    SetProtocol(Protocol),
    /// Show a rule line in the node-rules tab.
    ShowRule {
        node: String,
        rule: String,
    },
    /// A line typed into the terminal: run it; a command that sends
    /// packets shows and plays its trace.
    Run(String),
    /// Start the lesson again from its scenario.
    ResetLesson,
    /// Ask the session for what a view shows (a node's rules, a lookup,
    /// the matrix).
    Ask(Request),
    /// The session answered.
    Reply(Reply),
    /// The requests up to this number have gone to the session.
    Sent(u64),
    /// The session started again (its worker failed): the terminal's
    /// shell starts afresh, and says so.
    Restarted(String),
}

impl Model {
    /// A model for `text`, its simulation asked for at once.
    pub fn new(scenario: &str, text: String, notice: Option<String>) -> Model {
        let mut m = Model {
            scenario: scenario.to_owned(),
            text,
            overrides: Overrides::default(),
            simulated: String::new(),
            diagnostics: Rc::default(),
            scene: Rc::default(),
            traces: 0,
            stale: false,
            notice,
            show_system: false,
            matrix_port: 80,
            trace: None,
            step: None,
            playing: false,
            speed: 2,
            pick: None,
            tab: Tab::Matrix,
            rule_focus: None,
            protocol: Protocol::Tcp,
            history: Rc::default(),
            scrollback: Rc::default(),
            lesson: crate::scenarios::lesson(scenario).map(Rc::new),
            outcomes: Rc::default(),
            matrix: None,
            rules: None,
            dns: None,
            at: podpath_core::shell::Where::default(),
            outbox: Rc::default(),
            next_id: 1,
            asked: (0, Rc::from("")),
            answered: 0,
            trace_asked: (0, None),
        };
        m.simulate();
        m
    }

    /// Records a request for the session; returns its number.
    fn ask(&mut self, request: Request) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let mut outbox = (*self.outbox).clone();
        outbox.push((id, request));
        self.outbox = Rc::new(outbox);
        id
    }

    /// Asks for the cluster of the current text.
    fn simulate(&mut self) {
        let request = Request::Simulate {
            text: self.text.clone(),
            overrides: self.overrides.clone(),
            lesson: self.lesson.as_deref().cloned().map(Box::new),
        };
        let id = self.ask(request);
        self.asked = (id, Rc::from(self.text.as_str()));
    }

    /// Shows the goals of `lesson` for this text (a shared link that
    /// names a lesson carries the learner's text).
    pub fn attach_lesson(&mut self, lesson: Option<Lesson>) {
        self.lesson = lesson.map(Rc::new);
        self.simulate();
    }

    /// Asks for a trace; the answer opens it, the animation at its first hop.
    fn trace_words(&mut self, from: String, to: String, port: u16) {
        self.trace_seeded(from, to, port, 0);
    }

    fn trace_seeded(&mut self, from: String, to: String, port: u16, seed: u64) {
        let ask = Ask { from, to, port, protocol: self.protocol, seed };
        self.trace_asked = (self.ask(Request::Trace(ask.clone())), Some(ask));
    }

    /// Opens a trace the session sent.
    fn show_trace(&mut self, t: TraceAnswer, play: bool) {
        self.traces += 1;
        let view = TraceView::new(t, self.traces);
        self.step = (!view.is_empty()).then_some(0);
        self.playing = play && self.step.is_some();
        self.trace = Some(Rc::new(view));
    }

    /// Counts the clusters shown: what views derived from the cluster are
    /// kept by (`hooks::use_scene_memo`). 0 until the first answer.
    pub fn generation(&self) -> u64 {
        self.scene.generation
    }

    /// The hops of the open trace, request then reply.
    pub fn hop_count(&self) -> usize {
        self.trace.as_ref().map_or(0, |t| t.len())
    }

    /// Whether the text has changed since the last simulation answered.
    pub fn pending(&self) -> bool {
        self.text != self.simulated
    }

    /// Whether the text has changed since the last simulation asked for
    /// (the debounce then asks again).
    pub fn unasked(&self) -> bool {
        *self.text != *self.asked.1
    }

    /// Whether a simulation has been asked for that has not answered yet.
    pub fn busy(&self) -> bool {
        self.answered < self.asked.0 || self.generation() == 0
    }

    /// Takes the session's answer in.
    fn answer(&mut self, reply: Reply) {
        match reply.answer {
            Answer::Simulated { diagnostics, stale, scene, outcomes, trace } => {
                if reply.id == self.asked.0 {
                    self.simulated = self.asked.1.to_string();
                }
                self.answered = self.answered.max(reply.id);
                self.diagnostics = Rc::new(diagnostics);
                self.stale = stale;
                if let Some(scene) = scene {
                    self.scene = Rc::new(*scene);
                }
                if self.lesson.is_some() {
                    self.outcomes = Rc::new(outcomes);
                }
                // The open trace, traced again on the new cluster, if it is
                // still the one asked for (a trace asked for since may have
                // been answered on the older cluster: this one is newer).
                if let Some(t) = trace.filter(|t| self.trace_asked.1.as_ref() == Some(&t.ask)) {
                    self.show_trace(*t, false);
                }
            }
            Answer::Traced(t) if reply.id >= self.trace_asked.0 => self.show_trace(*t, false),
            Answer::Traced(_) | Answer::Closed => {}
            Answer::Ran(r) => {
                let r = *r;
                // `kubectl run` built the cluster again with its pod.
                if let Some(scene) = r.scene {
                    self.scene = Rc::new(*scene);
                }
                self.history = Rc::new(r.history);
                self.at = r.at;
                let mut scrollback = if r.clear { Vec::new() } else { (*self.scrollback).clone() };
                if !r.clear {
                    scrollback.push(TermEntry { prompt: r.prompt, line: r.line, output: r.output, status: r.status });
                    let over = scrollback.len().saturating_sub(SCROLLBACK);
                    scrollback.drain(..over);
                }
                self.scrollback = Rc::new(scrollback);
                // What the command sent plays on the topology, unless a
                // trace was opened or closed since.
                if let Some(t) = r.traced.filter(|_| reply.id > self.trace_asked.0) {
                    self.protocol = t.ask.protocol;
                    self.pick = None;
                    self.trace_asked = (reply.id, Some(t.ask.clone()));
                    self.show_trace(t, true);
                }
            }
            Answer::Rules(r) => self.rules = Some(Rc::new((reply.generation, r))),
            Answer::Resolved { name, namespace, text } => self.dns = Some(Rc::new((name, namespace, text))),
            Answer::Matrix(m) => self.matrix = Some(Rc::new((reply.generation, m))),
        }
    }
}

impl Reducible for Model {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Edit(text) => {
                if text == next.text {
                    return self;
                }
                next.text = text;
            }
            Action::Notify(notice) => next.notice = notice,
            Action::Simulate => {
                if !next.unasked() {
                    return self;
                }
                next.simulate();
            }
            Action::SetCni(cni) => {
                next.overrides.cni = cni;
                next.simulate();
            }
            Action::ShowSystem(show) => next.show_system = show,
            Action::SetProxyMode(mode) => {
                next.overrides.proxy_mode = mode;
                next.simulate();
            }
            Action::SetMatrixPort(port) => next.matrix_port = port,
            Action::Trace { from, to, port } => {
                next.pick = None;
                next.trace_words(from, to, port);
            }
            Action::PickPod(pod) => match next.pick.take() {
                Some(from) if from != pod => {
                    let port = next.trace.as_ref().map_or(80, |t| t.port);
                    next.trace_words(from, pod, port);
                }
                Some(_) => {}
                None => next.pick = Some(pod),
            },
            Action::StepForward | Action::Tick => {
                let last = next.hop_count().saturating_sub(1);
                match next.step {
                    Some(i) if i < last => next.step = Some(i + 1),
                    None if next.hop_count() > 0 => next.step = Some(0),
                    _ => next.playing = false,
                }
                if matches!(action, Action::StepForward) {
                    next.playing = false;
                }
            }
            Action::StepBack => {
                next.playing = false;
                next.step = next.step.map(|i| i.saturating_sub(1));
            }
            Action::StepTo(i) => {
                next.playing = false;
                next.step = (i < next.hop_count()).then_some(i).or(next.step);
            }
            Action::Play => {
                // Playing from the end starts over.
                if next.step.is_some_and(|i| i + 1 >= next.hop_count()) {
                    next.step = Some(0);
                }
                next.playing = next.hop_count() > 0;
            }
            Action::Pause => next.playing = false,
            Action::SetSpeed(s) => next.speed = s.clamp(1, 8),
            Action::SetTab(tab) => next.tab = tab,
            Action::SetProtocol(p) => {
                next.protocol = p;
                if let Some(t) = next.trace.clone() {
                    next.trace_words(t.from.clone(), t.to.clone(), t.port);
                }
            }
            Action::ShowRule { node, rule } => {
                next.tab = Tab::Rules;
                next.rule_focus = Some((node, rule));
            }
            Action::CloseTrace => {
                next.trace = None;
                next.step = None;
                next.playing = false;
                next.trace_asked = (next.ask(Request::CloseTrace), None);
            }
            Action::ResetLesson => {
                if let Some(l) = next.lesson.clone() {
                    next.text = l.spec.scenario.clone();
                    next.trace = None;
                    next.step = None;
                    next.trace_asked = (next.ask(Request::CloseTrace), None);
                    next.simulate();
                }
            }
            Action::Run(line) => {
                next.ask(Request::Run(line));
            }
            Action::Ask(request) => {
                next.ask(request);
            }
            Action::Reply(reply) => next.answer(reply),
            Action::Sent(upto) => {
                if next.outbox.iter().all(|(id, _)| *id > upto) {
                    return self;
                }
                next.outbox = Rc::new(next.outbox.iter().filter(|(id, _)| *id > upto).cloned().collect());
            }
            Action::Restarted(why) => {
                next.at = podpath_core::shell::Where::default();
                let mut scrollback = (*next.scrollback).clone();
                scrollback.push(TermEntry {
                    prompt: String::new(),
                    line: String::new(),
                    output: format!("(the simulation restarted on the page: {why}; the shell starts again here)\n"),
                    status: 0,
                });
                next.scrollback = Rc::new(scrollback);
            }
        }
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::default_scenario;
    use crate::session::Session;

    /// The session as the worker runs it: what the outbox holds goes in,
    /// in order, once; the answers come back as actions.
    #[derive(Default)]
    struct Worker {
        session: Session,
        sent: u64,
    }

    impl Worker {
        fn settle(&mut self, mut m: Rc<Model>) -> Rc<Model> {
            loop {
                let todo: Vec<(u64, Request)> = m.outbox.iter().filter(|(id, _)| *id > self.sent).cloned().collect();
                if todo.is_empty() {
                    return m;
                }
                for (id, request) in todo {
                    self.sent = id;
                    let reply = self.session.handle(id, request);
                    m = m.reduce(Action::Reply(reply));
                }
            }
        }

        fn open(&mut self, name: &str, text: &str) -> Rc<Model> {
            self.settle(Rc::new(Model::new(name, text.to_owned(), None)))
        }

        /// A session with the bundled scenario or lesson `name` open.
        fn opened(name: &str) -> (Worker, Rc<Model>) {
            let mut w = Worker::default();
            let text = crate::scenarios::find(name).expect("a bundled scenario");
            let m = w.open(name, &text);
            (w, m)
        }

        fn reduce(&mut self, m: Rc<Model>, a: Action) -> Rc<Model> {
            self.settle(m.reduce(a))
        }
    }

    #[test]
    fn a_bad_edit_keeps_the_last_good_cluster_and_reports_the_line() {
        let (name, text) = default_scenario();
        let mut w = Worker::default();
        let m = Rc::new(Model::new(name, text.to_owned(), None));
        assert!(m.busy() && m.scene.pods.is_empty(), "nothing is drawn before the session answers");
        let m = w.settle(m);
        let pods = m.scene.pods.len();
        assert!(pods > 0 && m.diagnostics.is_empty() && !m.busy());

        let broken = format!("{text}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: [x\n");
        let lines = broken.lines().count() as u32;
        let m = w.reduce(m, Action::Edit(broken.clone()));
        assert!(m.pending(), "an edit waits for the debounce");
        let m = w.reduce(m, Action::Simulate);
        assert!(m.stale && !m.pending());
        assert_eq!(m.scene.pods.len(), pods, "the last good cluster stays");
        assert_eq!(m.diagnostics[0].origin.line, lines + 1);
        assert_eq!(m.text, broken, "the text is never replaced");

        let m = w.reduce(m, Action::Edit(text.to_owned()));
        let m = w.reduce(m, Action::Simulate);
        assert!(!m.stale && m.diagnostics.is_empty());
    }

    #[test]
    fn an_answer_to_an_older_text_leaves_the_edit_pending() {
        let (name, text) = default_scenario();
        let mut w = Worker::default();
        let m = Rc::new(Model::new(name, text.to_owned(), None));
        // Typed again before the first simulation answered: its answer is
        // shown, but the newer text is still to be simulated.
        let (id, request) = m.outbox[0].clone();
        let m = m.reduce(Action::Edit(format!("{text}\n# more\n"))).reduce(Action::Simulate);
        let m = m.reduce(Action::Reply(w.session.handle(id, request)));
        assert!(m.pending() && m.busy() && !m.scene.pods.is_empty());
    }

    #[test]
    fn an_edit_undone_while_its_simulation_runs_is_simulated_again() {
        let (mut w, m) = Worker::opened(default_scenario().0);
        let text = default_scenario().1;
        // B asked for; before its answer comes the user undoes the edit.
        let m = m.reduce(Action::Edit(format!("{text}\n# b\n"))).reduce(Action::Simulate);
        let m = m.reduce(Action::Edit(text.to_owned()));
        assert!(m.unasked(), "the debounce asks again: the text is not the one asked for");
        let m = w.reduce(m, Action::Simulate);
        assert_eq!(m.simulated, text);
        assert!(!m.pending() && !m.busy());
    }

    #[test]
    fn a_trace_asked_between_two_simulations_shows_on_the_newer_cluster() {
        let (mut w, m) = Worker::opened("policies");
        let text = crate::scenarios::find("policies").unwrap();
        let debug = m.scene.pods.iter().find(|p| p.namespace == "tools").unwrap().key();
        let db = m.scene.pods.iter().find(|p| p.name == "db").unwrap().key();
        let m = w.reduce(m, Action::Trace { from: debug, to: db, port: 80 });
        // An edit (A), a switch to Flannel (B, waiting behind A), and the
        // protocol changed (T, sent at once): the worker runs A, T, B.
        let m = m.reduce(Action::Edit(format!("{text}\n# a\n"))).reduce(Action::Simulate);
        let m = m.reduce(Action::SetCni(Some(Cni::Flannel)));
        let m = m.reduce(Action::SetProtocol(Protocol::Udp));
        let pending: Vec<(u64, Request)> = m.outbox.iter().filter(|(id, _)| *id > w.sent).cloned().collect();
        let kind = |r: &Request| matches!(r, Request::Trace(_));
        let order = pending
            .iter()
            .filter(|(_, r)| !kind(r))
            .take(1)
            .chain(pending.iter().filter(|(_, r)| kind(r)))
            .chain(pending.iter().filter(|(_, r)| !kind(r)).skip(1));
        let mut m = m;
        for (id, request) in order.cloned().collect::<Vec<_>>() {
            w.sent = w.sent.max(id);
            m = m.reduce(Action::Reply(w.session.handle(id, request)));
        }
        let t = m.trace.as_ref().unwrap();
        let trace = t.result.as_ref().unwrap();
        assert_eq!((trace.hops[0].packet.protocol, m.scene.cni), (Protocol::Udp, Cni::Flannel));
        assert_eq!(trace.verdict.as_str(), "delivered", "Flannel's cluster, not the one before it");
    }

    #[test]
    fn a_trace_closed_before_its_command_answered_stays_closed() {
        let (mut w, m) = Worker::opened(default_scenario().0);
        let client = m.scene.pods.iter().find(|p| p.namespace == "shop").unwrap().name.clone();
        let m = m.reduce(Action::Run(format!("kubectl exec -n shop {client} -- ping -c 1 kube-dns.kube-system")));
        let m = w.reduce(m, Action::CloseTrace);
        assert!(m.trace.is_none() && m.scrollback.len() == 1, "the output is shown, the trace is not");
    }

    #[test]
    fn a_switch_shows_the_page_busy_until_its_cluster_comes() {
        let (mut w, m) = Worker::opened(default_scenario().0);
        assert!(!m.busy());
        let m = m.reduce(Action::SetCni(Some(Cni::Cilium)));
        assert!(m.busy() && !m.pending(), "the text is unchanged, the cluster is not in yet");
        let m = w.settle(m);
        assert!(!m.busy() && m.scene.cni == Cni::Cilium);
    }

    #[test]
    fn a_tab_answer_for_an_older_cluster_is_not_taken_for_the_new_one() {
        let (mut w, m) = Worker::opened("policies");
        let m = w.reduce(m, Action::Ask(Request::Matrix { port: 80, system: false }));
        assert_eq!(m.matrix.as_ref().unwrap().0, m.generation());
        let m = w.reduce(m, Action::SetCni(Some(Cni::Flannel)));
        assert_ne!(m.matrix.as_ref().unwrap().0, m.generation(), "the matrix view asks again for this one");
    }

    #[test]
    fn what_was_sent_leaves_the_outbox() {
        let (name, text) = default_scenario();
        let m = Rc::new(Model::new(name, text.to_owned(), None));
        let last = m.outbox.last().unwrap().0;
        let m = m.reduce(Action::Sent(last));
        assert!(m.outbox.is_empty());
    }

    #[test]
    fn switching_the_cni_rebuilds_with_its_addresses() {
        let (mut w, m) = Worker::opened(default_scenario().0);
        let m = w.reduce(m, Action::SetCni(Some(Cni::Calico)));
        assert_eq!(m.scene.cni, Cni::Calico);
        let pod_network = m.scene.pods.iter().filter(|p| !p.host_network);
        assert!(pod_network.clone().count() > 0);
        assert!(pod_network.clone().all(|p| p.ip.as_deref().unwrap().starts_with("192.168.")));
    }

    #[test]
    fn a_trace_follows_the_switches_and_the_player_walks_it() {
        let (mut w, m) = Worker::opened("policies");
        let debug = m.scene.pods.iter().find(|p| p.namespace == "tools").unwrap().key();
        let db = m.scene.pods.iter().find(|p| p.name == "db").unwrap().key();
        // Click the source, then the destination: the trace starts.
        let m = w.reduce(m, Action::PickPod(debug.clone()));
        assert_eq!(m.pick.as_deref(), Some(debug.as_str()));
        let m = w.reduce(m, Action::PickPod(db.clone()));
        let verdict = |m: &Model| m.trace.as_ref().unwrap().result.as_ref().unwrap().verdict.as_str();
        assert_eq!(verdict(&m), "dropped");
        assert_eq!((m.step, m.pick.as_deref()), (Some(0), None));
        let t = m.trace.as_ref().unwrap();
        assert_eq!(t.places.len(), t.len(), "every hop has its place");

        // Flannel enforces nothing: the same trace, traced again, gets through.
        let m = w.reduce(m, Action::SetCni(Some(Cni::Flannel)));
        assert_eq!(verdict(&m), "delivered");
        let policy = m.trace.as_ref().unwrap().result.as_ref().unwrap().policy.clone().unwrap();
        assert_eq!(policy.ingress.verdict.as_str(), "not-enforced");

        // Play to the end, one tick a hop; back; straight to a hop.
        let n = m.hop_count();
        let mut m = w.reduce(m, Action::Play);
        assert!(m.playing);
        for _ in 0..n + 3 {
            m = w.reduce(m, Action::Tick);
        }
        assert_eq!((m.step, m.playing), (Some(n - 1), false), "stops at the last hop");
        let m = w.reduce(m, Action::StepBack);
        assert_eq!(m.step, Some(n - 2));
        let m = w.reduce(m, Action::StepTo(1));
        assert_eq!(m.step, Some(1));
        let m = w.reduce(m, Action::StepTo(n + 10));
        assert_eq!(m.step, Some(1), "a hop that is not there changes nothing");

        // Closed, it is not traced again by the next simulation.
        let m = w.reduce(m, Action::CloseTrace);
        let m = w.reduce(m, Action::SetCni(Some(Cni::Calico)));
        assert!(m.trace.is_none());
    }

    #[test]
    fn the_protocol_switch_traces_again_as_ping() {
        let (mut w, m) = Worker::opened(default_scenario().0);
        let pods: Vec<String> = m.scene.pods.iter().filter(|p| p.namespace == "shop").map(|p| p.key()).collect();
        let m = w.reduce(m, Action::Trace { from: pods[0].clone(), to: pods[1].clone(), port: 80 });
        let proto = |m: &Model| m.trace.as_ref().unwrap().result.as_ref().unwrap().hops[0].packet.protocol;
        assert_eq!(proto(&m), Protocol::Tcp);
        let m = w.reduce(m, Action::SetProtocol(Protocol::Icmp));
        assert_eq!((proto(&m), m.step), (Protocol::Icmp, Some(0)));
    }

    #[test]
    fn a_terminal_command_plays_its_trace() {
        let (mut w, m) = Worker::opened(default_scenario().0);
        let client = m.scene.pods.iter().find(|p| p.namespace == "shop").unwrap().name.clone();
        let m = w.reduce(m, Action::Run(format!("kubectl exec -n shop {client} -- ping -c 1 kube-dns.kube-system")));
        let entry = m.scrollback.last().unwrap();
        assert_eq!(entry.prompt, "$ ");
        assert!(entry.output.starts_with("PING kube-dns.kube-system.svc.cluster.local"), "{}", entry.output);
        let t = m.trace.as_ref().expect("ping's trace is shown");
        assert_eq!(
            (t.from.as_str(), t.to.as_str(), m.protocol.name()),
            (format!("shop/{client}").as_str(), "kube-dns.kube-system", "icmp")
        );
        assert!(m.playing && m.step == Some(0), "and plays");
        // An interactive shell changes the prompt; clear empties the screen.
        let m = w.reduce(m, Action::Run(format!("kubectl exec -it -n shop {client} -- sh")));
        assert_eq!(m.at.prompt(), format!("root@{client}:/# "));
        let m = w.reduce(m, Action::Run("clear".into()));
        assert!(m.scrollback.is_empty());
        assert_eq!(m.history.len(), 3);
        // Tab completes on the page, from the scene and where the shell is.
        let m = w.reduce(m, Action::Run(format!("kubectl exec -it -n shop {client} -- sh")));
        assert_eq!(podpath_core::shell::complete(&m.at, &m.scene.names, "exi"), ["exit"]);
        let m = w.reduce(m, Action::Run("exit".into()));
        let frontends = podpath_core::shell::complete(&m.at, &m.scene.names, "kubectl exec -n shop fro");
        assert_eq!(frontends.len(), 2, "{frontends:?}");
    }

    #[test]
    fn a_lesson_checks_its_goals_at_each_simulation_and_starts_over() {
        let text = crate::scenarios::find("pods-and-ips").expect("a bundled lesson opens by name");
        let mut w = Worker::default();
        let m = w.open("pods-and-ips", &text);
        let lesson = m.lesson.clone().expect("the model knows its lesson");
        assert_eq!(m.outcomes.len(), lesson.spec.goals.len());
        assert!(!m.outcomes[0].passed, "one replica at the start");
        let m = w.reduce(m, Action::Edit(text.replace("replicas: 1", "replicas: 3")));
        let m = w.reduce(m, Action::Simulate);
        assert!(m.outcomes.iter().all(|o| o.passed), "{:?}", m.outcomes);
        let m = w.reduce(m, Action::ResetLesson);
        assert_eq!(m.text, text);
        assert!(!m.outcomes[0].passed);
    }

    #[test]
    fn the_tabs_ask_for_what_they_show() {
        let (mut w, m) = Worker::opened("policies");
        let node = m.scene.nodes[1].name.clone();
        let m = w.reduce(m, Action::Ask(Request::Rules(node.clone())));
        let rules = m.rules.clone().unwrap();
        let (generation, rules) = (rules.0, &rules.1);
        assert_eq!((generation, rules.node.as_str()), (m.generation(), node.as_str()));
        assert!(rules.dump.contains("KUBE-SERVICES") && rules.routes.contains("dev"), "{}", rules.dump);
        let m = w.reduce(m, Action::Ask(Request::Matrix { port: 80, system: false }));
        let matrix = m.matrix.clone().unwrap();
        let matrix = &matrix.1;
        assert_eq!((matrix.pods.len(), matrix.allowed.len()), (matrix.count, matrix.count));
        assert!(matrix.allowed.iter().flatten().any(|a| !a), "a policy here blocks something");
        let m = w.reduce(
            m,
            Action::Ask(Request::Resolve { name: "kube-dns.kube-system".into(), namespace: "default".into() }),
        );
        assert!(m.dns.as_ref().unwrap().2.contains("search default.svc.cluster.local"), "{:?}", m.dns);
    }
}

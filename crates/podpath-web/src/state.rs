//! The playground's state: the scenario text, the switches, and the core's
//! answer for them. Pure: `reduce` calls the core and nothing else.

use std::rc::Rc;

use podpath_core::cluster::Protocol;
use podpath_core::lesson::{Lesson, Outcome};
use podpath_core::shell::Shell;
use podpath_core::trace::{self, Trace};
use podpath_core::{simulate_with, Cluster, Cni, Diagnostic, Overrides, ProxyMode, Source};
use yew::Reducible;

/// The shared handle every component reads the model through.
pub type ModelHandle = yew::UseReducerHandle<Model>;

/// The file name diagnostics use for the editor's buffer.
pub const EDITOR_FILE: &str = "scenario.yaml";

#[derive(Clone, Debug)]
pub struct Model {
    /// Which scenario the text belongs to (the autosave key).
    pub scenario: String,
    /// What the editor holds, always: never replaced by anything but an edit.
    pub text: String,
    pub overrides: Overrides,
    /// The text the shown cluster and diagnostics were computed from.
    pub simulated: String,
    pub diagnostics: Rc<Vec<Diagnostic>>,
    /// The cluster on screen: the latest one without errors, so a half-typed
    /// edit does not blank the topology.
    pub cluster: Rc<Cluster>,
    /// Counts the clusters shown: what views derived from the cluster are
    /// kept by (`hooks::use_cluster_memo`).
    pub generation: u64,
    /// Counts the traces made, to number each [`TraceView`].
    traces: u64,
    /// True when `cluster` is older than the text (the text has errors).
    pub stale: bool,
    /// A message for the user that is not about the text (a bad link, say).
    pub notice: Option<String>,
    /// Whether the topology shows the platform's own pods (CoreDNS,
    /// kube-proxy, the CNI agents…); hidden by default, as `kubectl get pods`
    /// hides other namespaces.
    pub show_system: bool,
    /// The port and protocol the policy matrix is computed for.
    pub matrix_port: u16,
    /// The trace on screen: what was asked, and the core's answer. It is
    /// traced again whenever the cluster changes (an edit, a switch), so
    /// the difference a switch makes shows at once.
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
    /// The terminal's shell session, and what it has shown.
    pub shell: Rc<Shell>,
    pub scrollback: Rc<Vec<TermEntry>>,
    /// The lesson the scenario belongs to, and how its goals stand on the
    /// cluster on screen (checked again at every simulation).
    pub lesson: Option<Rc<Lesson>>,
    pub outcomes: Rc<Vec<Outcome>>,
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

/// A trace the user asked for, and the core's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceView {
    /// The source and destination as typed (`NS/POD`, `external`, a name, a URL).
    pub from: String,
    pub to: String,
    pub port: u16,
    /// The seed of the random choices (a terminal command's own).
    pub seed: u64,
    pub result: Result<Trace, String>,
    /// Which trace of the session this is: what views derived from it
    /// (the capture, the pcap) are kept by.
    pub id: u64,
}

impl TraceView {
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
            && self.generation == other.generation
            && Rc::ptr_eq(&self.diagnostics, &other.diagnostics)
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
}

impl Model {
    /// A model for `text`, simulated at once.
    pub fn new(scenario: &str, text: String, notice: Option<String>) -> Model {
        let mut m = Model {
            scenario: scenario.to_owned(),
            text,
            overrides: Overrides::default(),
            simulated: String::new(),
            diagnostics: Rc::default(),
            cluster: Rc::default(),
            generation: 0,
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
            shell: Rc::default(),
            scrollback: Rc::default(),
            lesson: crate::scenarios::lesson(scenario).map(Rc::new),
            outcomes: Rc::default(),
        };
        m.simulate(true);
        m
    }

    fn simulate(&mut self, first: bool) {
        let (cluster, diags) = simulate_with(&[Source::new(EDITOR_FILE, self.text.clone())], &self.overrides);
        let has_errors = diags.iter().any(Diagnostic::is_error);
        if !has_errors || first {
            self.cluster = Rc::new(cluster);
            self.generation += 1;
        }
        self.stale = has_errors && !first;
        self.diagnostics = Rc::new(diags);
        self.simulated = self.text.clone();
        self.check_lesson();
        // The open trace follows the cluster: traced again, from the start.
        if let Some(t) = self.trace.clone() {
            self.trace_seeded(t.from.clone(), t.to.clone(), t.port, t.seed);
        }
    }

    /// Shows the goals of `lesson` for this text (a shared link that
    /// names a lesson carries the learner's text).
    pub fn attach_lesson(&mut self, lesson: Option<Lesson>) {
        self.lesson = lesson.map(Rc::new);
        self.check_lesson();
    }

    /// The lesson's goals on the cluster on screen.
    fn check_lesson(&mut self) {
        if let Some(l) = &self.lesson {
            self.outcomes = Rc::new(podpath_core::lesson::check(l, &self.cluster));
        }
    }

    /// Traces and shows the result, the animation at its first hop.
    fn trace_words(&mut self, from: String, to: String, port: u16) {
        self.trace_seeded(from, to, port, 0);
    }

    fn trace_seeded(&mut self, from: String, to: String, port: u16, seed: u64) {
        let result = trace::target::trace_words(&self.cluster, &from, &to, port, self.protocol, seed);
        self.traces += 1;
        self.trace = Some(Rc::new(TraceView { from, to, port, seed, result, id: self.traces }));
        self.step = self.trace.as_ref().filter(|t| !t.is_empty()).map(|_| 0);
        self.playing = false;
    }

    /// The hops of the open trace, request then reply.
    pub fn hop_count(&self) -> usize {
        self.trace.as_ref().map_or(0, |t| t.len())
    }

    /// Whether the text has changed since the last simulation.
    pub fn pending(&self) -> bool {
        self.text != self.simulated
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
                if !self.pending() {
                    return self;
                }
                next.simulate(false);
            }
            Action::SetCni(cni) => {
                next.overrides.cni = cni;
                next.simulate(false);
            }
            Action::ShowSystem(show) => next.show_system = show,
            Action::SetProxyMode(mode) => {
                next.overrides.proxy_mode = mode;
                next.simulate(false);
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
            }
            Action::ResetLesson => {
                if let Some(l) = next.lesson.clone() {
                    next.text = l.spec.scenario.clone();
                    next.trace = None;
                    next.step = None;
                    next.simulate(false);
                }
            }
            Action::Run(line) => {
                let mut shell = (*next.shell).clone();
                let prompt = shell.prompt();
                let out = shell.run(&next.cluster, &line);
                next.shell = Rc::new(shell);
                let mut scrollback = if out.clear { Vec::new() } else { (*next.scrollback).clone() };
                if !out.clear {
                    scrollback.push(TermEntry { prompt, line, output: out.text, status: out.status });
                    let over = scrollback.len().saturating_sub(SCROLLBACK);
                    scrollback.drain(..over);
                }
                next.scrollback = Rc::new(scrollback);
                // What the command sent plays on the topology.
                if let Some(t) = out.traced {
                    let t = *t;
                    next.protocol = t.protocol;
                    next.pick = None;
                    next.traces += 1;
                    next.trace = Some(Rc::new(TraceView {
                        from: t.from,
                        to: t.to,
                        port: t.port,
                        seed: t.seed,
                        result: Ok(t.trace),
                        id: next.traces,
                    }));
                    next.step = next.trace.as_ref().filter(|t| !t.is_empty()).map(|_| 0);
                    next.playing = next.step.is_some();
                }
            }
        }
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::default_scenario;

    fn reduce(m: Rc<Model>, a: Action) -> Rc<Model> {
        m.reduce(a)
    }

    #[test]
    fn a_bad_edit_keeps_the_last_good_cluster_and_reports_the_line() {
        let (name, text) = default_scenario();
        let m = Rc::new(Model::new(name, text.to_owned(), None));
        let pods = m.cluster.pods.len();
        assert!(pods > 0 && m.diagnostics.is_empty());

        let broken = format!("{text}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: [x\n");
        let lines = broken.lines().count() as u32;
        let m = reduce(m, Action::Edit(broken.clone()));
        assert!(m.pending(), "an edit waits for the debounce");
        let m = reduce(m, Action::Simulate);
        assert!(m.stale);
        assert_eq!(m.cluster.pods.len(), pods, "the last good cluster stays");
        assert_eq!(m.diagnostics[0].origin.line, lines + 1);
        assert_eq!(m.text, broken, "the text is never replaced");

        let m = reduce(m, Action::Edit(text.to_owned()));
        let m = reduce(m, Action::Simulate);
        assert!(!m.stale && m.diagnostics.is_empty());
    }

    #[test]
    fn switching_the_cni_rebuilds_with_its_addresses() {
        let (name, text) = default_scenario();
        let m = Rc::new(Model::new(name, text.to_owned(), None));
        let m = reduce(m, Action::SetCni(Some(Cni::Calico)));
        assert_eq!(m.cluster.settings.cni, Cni::Calico);
        let pod_network = m.cluster.pods.iter().filter(|p| !p.host_network);
        assert!(pod_network.clone().count() > 0);
        assert!(pod_network.clone().all(|p| p.ip.unwrap().to_string().starts_with("192.168.")));
    }

    #[test]
    fn a_trace_follows_the_switches_and_the_player_walks_it() {
        let text = crate::scenarios::find("policies").unwrap();
        let text = text.as_str();
        let m = Rc::new(Model::new("policies", text.to_owned(), None));
        let debug = m.cluster.pods.iter().find(|p| p.namespace == "tools").unwrap().key();
        let db = m.cluster.pods.iter().find(|p| p.name == "db").unwrap().key();
        // Click the source, then the destination: the trace starts.
        let m = reduce(m, Action::PickPod(debug.clone()));
        assert_eq!(m.pick.as_deref(), Some(debug.as_str()));
        let m = reduce(m, Action::PickPod(db.clone()));
        let verdict = |m: &Model| m.trace.as_ref().unwrap().result.as_ref().unwrap().verdict.as_str();
        assert_eq!(verdict(&m), "dropped");
        assert_eq!((m.step, m.pick.as_deref()), (Some(0), None));

        // Flannel enforces nothing: the same trace, traced again, gets through.
        let m = reduce(m, Action::SetCni(Some(Cni::Flannel)));
        assert_eq!(verdict(&m), "delivered");
        let policy = m.trace.as_ref().unwrap().result.as_ref().unwrap().policy.clone().unwrap();
        assert_eq!(policy.ingress.verdict.as_str(), "not-enforced");

        // Play to the end, one tick a hop; back; straight to a hop.
        let n = m.hop_count();
        let mut m = reduce(m, Action::Play);
        assert!(m.playing);
        for _ in 0..n + 3 {
            m = reduce(m, Action::Tick);
        }
        assert_eq!((m.step, m.playing), (Some(n - 1), false), "stops at the last hop");
        let m = reduce(m, Action::StepBack);
        assert_eq!(m.step, Some(n - 2));
        let m = reduce(m, Action::StepTo(1));
        assert_eq!(m.step, Some(1));
        let m = reduce(m, Action::StepTo(n + 10));
        assert_eq!(m.step, Some(1), "a hop that is not there changes nothing");
    }

    #[test]
    fn the_protocol_switch_traces_again_as_ping() {
        let (name, text) = default_scenario();
        let m = Rc::new(Model::new(name, text.to_owned(), None));
        let pods: Vec<String> = m.cluster.pods.iter().filter(|p| p.namespace == "shop").map(|p| p.key()).collect();
        let m = reduce(m, Action::Trace { from: pods[0].clone(), to: pods[1].clone(), port: 80 });
        let proto = |m: &Model| m.trace.as_ref().unwrap().result.as_ref().unwrap().hops[0].packet.protocol;
        assert_eq!(proto(&m), Protocol::Tcp);
        let m = reduce(m, Action::SetProtocol(Protocol::Icmp));
        assert_eq!((proto(&m), m.step), (Protocol::Icmp, Some(0)));
    }

    #[test]
    fn a_terminal_command_plays_its_trace() {
        let (name, text) = default_scenario();
        let m = Rc::new(Model::new(name, text.to_owned(), None));
        let client = m.cluster.pods.iter().find(|p| p.namespace == "shop").unwrap().name.clone();
        let m = reduce(m, Action::Run(format!("kubectl exec -n shop {client} -- ping -c 1 kube-dns.kube-system")));
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
        let m = reduce(m, Action::Run(format!("kubectl exec -it -n shop {client} -- sh")));
        assert_eq!(m.shell.prompt(), format!("root@{client}:/# "));
        let m = reduce(m, Action::Run("clear".into()));
        assert!(m.scrollback.is_empty());
        assert_eq!(m.shell.history().len(), 3);
    }

    #[test]
    fn a_lesson_checks_its_goals_at_each_simulation_and_starts_over() {
        let text = crate::scenarios::find("pods-and-ips").expect("a bundled lesson opens by name");
        let m = Rc::new(Model::new("pods-and-ips", text.clone(), None));
        let lesson = m.lesson.clone().expect("the model knows its lesson");
        assert_eq!(m.outcomes.len(), lesson.spec.goals.len());
        assert!(!m.outcomes[0].passed, "one replica at the start");
        let m = reduce(m, Action::Edit(text.replace("replicas: 1", "replicas: 3")));
        let m = reduce(m, Action::Simulate);
        assert!(m.outcomes.iter().all(|o| o.passed), "{:?}", m.outcomes);
        let m = reduce(m, Action::ResetLesson);
        assert_eq!(m.text, text);
        assert!(!m.outcomes[0].passed);
    }
}

//! The page's simulation session and the messages that reach it.
//!
//! The [`Session`] owns the cluster, the terminal's shell, the lesson and
//! the open trace; the page's main thread owns none of them. The page
//! sends a [`Request`] and gets a [`Reply`]: the scene of each new cluster,
//! a trace with where each hop is drawn, a terminal line's output, a
//! node's rules, a DNS lookup, the policy matrix. In the browser the
//! session runs in a Web Worker (`worker.rs`) and the messages travel as
//! bytes ([`encode`], [`decode`]); tests call [`Session::handle`]
//! directly. Pure: no web-sys here.

use podpath_core::cluster::Protocol;
use podpath_core::lesson::{Lesson, Outcome};
use podpath_core::policy::matrix::matrix;
use podpath_core::policy::Engine;
use podpath_core::proxy::Dataplane;
use podpath_core::shell::Shell;
use podpath_core::system::is_system_namespace;
use podpath_core::topology::{Place, Topology};
use podpath_core::trace::walk::Walk;
use podpath_core::trace::Trace;
use podpath_core::{simulate_with, Cluster, Diagnostic, Overrides, Source};
use serde::{Deserialize, Serialize};

use crate::scene::Scene;

/// The file name diagnostics use for the editor's buffer.
pub const EDITOR_FILE: &str = "scenario.yaml";

/// Above this many pods the matrix table would not fit a screen.
pub const MATRIX_MAX_PODS: usize = 60;

/// A trace as asked: the words the CLI takes, the protocol, the seed of
/// its random choices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ask {
    pub from: String,
    pub to: String,
    pub port: u16,
    pub protocol: Protocol,
    pub seed: u64,
}

/// What the page asks of the session, numbered by the page (`id`), which
/// the reply carries back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Build the cluster of this text. Errors keep the last good cluster
    /// (unless there is none yet). The open trace is traced again, and the
    /// lesson's goals checked.
    Simulate {
        text: String,
        overrides: Overrides,
        lesson: Option<Box<Lesson>>,
    },
    /// Trace, and keep it open (traced again after each simulation).
    Trace(Ask),
    CloseTrace,
    /// A line typed into the terminal.
    Run(String),
    /// A node's routes and its service proxy's dump.
    Rules(String),
    /// A name resolved as a ClusterFirst pod in a namespace would.
    Resolve {
        name: String,
        namespace: String,
    },
    /// The NetworkPolicy matrix on a TCP port, with the platform's pods or not.
    Matrix {
        port: u16,
        system: bool,
    },
}

/// A trace and where the page draws it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceAnswer {
    pub ask: Ask,
    pub result: Result<Trace, String>,
    /// Where each hop of the walk (request, then reply) is drawn.
    pub places: Vec<Option<Place>>,
    /// The places the request passes, in order.
    pub route: Vec<Place>,
    /// The nodes the route and the trace's ends touch: a big cluster keeps
    /// these open.
    pub near: Vec<String>,
}

/// What a terminal line did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunAnswer {
    /// The prompt it was typed at.
    pub prompt: String,
    pub line: String,
    pub output: String,
    pub status: u8,
    pub clear: bool,
    pub history: Vec<String>,
    /// Where the shell is now: its prompt, and what Tab completes.
    pub at: podpath_core::shell::Where,
    /// The trace of what the command sent, to show and play.
    pub traced: Option<TraceAnswer>,
    /// The cluster again, when the line changed its objects (`kubectl run`).
    pub scene: Option<Box<Scene>>,
}

/// A node's dumps.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RulesAnswer {
    pub node: String,
    pub routes: String,
    /// `iptables-save`, `ipvsadm -Ln`…
    pub command: String,
    pub dump: String,
}

/// The matrix: `pods` as `NS/NAME`, `allowed[from][to]`; empty when there
/// are no policies or more than [`MATRIX_MAX_PODS`] pods (`count`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MatrixAnswer {
    pub port: u16,
    pub system: bool,
    pub count: usize,
    pub pods: Vec<String>,
    pub allowed: Vec<Vec<bool>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Answer {
    /// The diagnostics of the text, and the new cluster's scene unless the
    /// text had errors (the page keeps the last good one). `outcomes`:
    /// the lesson's goals on the cluster now shown.
    Simulated {
        diagnostics: Vec<Diagnostic>,
        stale: bool,
        scene: Option<Box<Scene>>,
        outcomes: Vec<Outcome>,
        trace: Option<Box<TraceAnswer>>,
    },
    Traced(Box<TraceAnswer>),
    Ran(Box<RunAnswer>),
    Rules(RulesAnswer),
    Resolved {
        name: String,
        namespace: String,
        text: String,
    },
    Matrix(MatrixAnswer),
    Closed,
}

/// An answer, with the request's number and the generation of the cluster
/// it was computed on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub id: u64,
    pub generation: u64,
    pub answer: Answer,
}

/// A message as it crosses between the page and its worker: postcard's
/// compact form, whose per-type code is a fraction of JSON's in the Wasm.
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_allocvec(message)
}

pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, postcard::Error> {
    postcard::from_bytes(bytes)
}

/// The cluster and everything that lives beside it between requests.
#[derive(Default, Debug)]
pub struct Session {
    cluster: Cluster,
    /// Whether a cluster has been built yet (until then, one with errors
    /// is shown rather than none).
    built: bool,
    generation: u64,
    topology: Option<Topology>,
    shell: Shell,
    lesson: Option<Lesson>,
    open: Option<Ask>,
    /// The cluster a simulation replaced, kept until [`Session::release`]:
    /// freeing 20,000 pods takes a tenth of a second the answer need not wait for.
    retired: Option<Cluster>,
    /// The editor's text and the switches it was last simulated with: the
    /// terminal's `kubectl run` builds the cluster again from them.
    input: (String, Overrides),
}

impl Session {
    pub fn new() -> Session {
        Session::default()
    }

    /// A session that numbers its clusters on from `generation`: one that
    /// takes over from another, so the page's views see new clusters.
    pub fn after(generation: u64) -> Session {
        Session { generation, ..Session::default() }
    }

    /// The cluster on screen.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// Frees the cluster the last simulation replaced (once its answer is out).
    pub fn release(&mut self) {
        self.retired = None;
    }

    pub fn handle(&mut self, id: u64, request: Request) -> Reply {
        let answer = match request {
            Request::Simulate { text, overrides, lesson } => self.simulate(text, &overrides, lesson),
            Request::Trace(ask) => {
                self.open = Some(ask.clone());
                Answer::Traced(Box::new(self.trace(ask)))
            }
            Request::CloseTrace => {
                self.open = None;
                Answer::Closed
            }
            Request::Run(line) => Answer::Ran(Box::new(self.run(line))),
            Request::Rules(node) => Answer::Rules(self.rules(node)),
            Request::Resolve { name, namespace } => {
                let res = podpath_core::trace::Resolution::cluster_first(
                    &self.cluster,
                    &namespace,
                    name.trim(),
                    podpath_core::dns::RType::A,
                );
                let text = format!("# /etc/resolv.conf\n{}\n{}", res.conf.render(), res.report(0));
                Answer::Resolved { name, namespace, text }
            }
            Request::Matrix { port, system } => Answer::Matrix(self.matrix(port, system)),
        };
        Reply { id, generation: self.generation, answer }
    }

    /// The editor's text, and the pods the terminal created.
    fn sources(&self, text: &str) -> Vec<Source> {
        let mut sources = vec![Source::new(EDITOR_FILE, text.to_owned())];
        sources.extend(self.shell.objects());
        sources
    }

    fn simulate(&mut self, text: String, overrides: &Overrides, lesson: Option<Box<Lesson>>) -> Answer {
        let first = !self.built;
        let (cluster, diagnostics) = simulate_with(&self.sources(&text), overrides);
        self.input = (text.clone(), overrides.clone());
        let has_errors = diagnostics.iter().any(Diagnostic::is_error);
        self.lesson = lesson.map(|l| *l);
        let scene = (!has_errors || first).then(|| self.install(cluster));
        let outcomes = self.lesson.as_ref().map(|l| podpath_core::lesson::check(l, &self.cluster)).unwrap_or_default();
        let trace = match (&scene, self.open.clone()) {
            (Some(_), Some(ask)) => Some(Box::new(self.trace(ask))),
            _ => None,
        };
        Answer::Simulated { diagnostics, stale: has_errors && !first, scene, outcomes, trace }
    }

    fn topology(&mut self) -> &Topology {
        self.topology.get_or_insert_with(|| Topology::build(&self.cluster))
    }

    fn trace(&mut self, ask: Ask) -> TraceAnswer {
        let result = podpath_core::trace::target::trace_words(
            &self.cluster,
            &ask.from,
            &ask.to,
            ask.port,
            ask.protocol,
            ask.seed,
        );
        self.placed(ask, result)
    }

    /// A trace with where the page draws each hop.
    fn placed(&mut self, ask: Ask, result: Result<Trace, String>) -> TraceAnswer {
        let topology = self.topology();
        let (places, route) = match &result {
            Ok(t) => {
                let walk = Walk::new(t);
                let n = t.hops.len() + t.reply.len();
                let places = (0..n).map(|i| walk.frame(i).and_then(|f| topology.place_of(f.hop))).collect();
                (places, topology.route(t))
            }
            Err(_) => (Vec::new(), Vec::new()),
        };
        let ends = [&ask.from, &ask.to].into_iter().filter(|k| k.contains('/')).map(|k| Place::Pod(k.clone()));
        let near_places: Vec<Place> = route.iter().cloned().chain(ends).collect();
        let near = topology.nodes_near(&near_places).into_iter().collect();
        TraceAnswer { ask, result, places, route, near }
    }

    /// Builds the cluster again after the terminal changed its objects
    /// (`kubectl run`, a pod deleted), keeping the editor's input.
    fn rebuild(&mut self) -> Box<Scene> {
        let (text, overrides) = self.input.clone();
        let (cluster, _) = simulate_with(&self.sources(&text), &overrides);
        self.install(cluster)
    }

    /// Makes `cluster` the session's, numbered anew, and its scene.
    fn install(&mut self, cluster: Cluster) -> Box<Scene> {
        self.retired = Some(std::mem::replace(&mut self.cluster, cluster));
        self.built = true;
        self.generation += 1;
        self.topology = None;
        Box::new(Scene::of(&self.cluster, self.generation))
    }

    fn run(&mut self, line: String) -> RunAnswer {
        let prompt = self.shell.prompt();
        let mut out = self.shell.run(&self.cluster, &line);
        let mut scene = None;
        if self.shell.take_rebuild() {
            scene = Some(self.rebuild());
            let more = self.shell.resume(&self.cluster);
            out.text.push_str(&more.text);
            out.status = more.status;
            out.traced = more.traced.or(out.traced);
            if self.shell.take_rebuild() {
                scene = Some(self.rebuild());
            }
        }
        let traced = out.traced.map(|t| {
            let t = *t;
            let ask = Ask { from: t.from, to: t.to, port: t.port, protocol: t.protocol, seed: t.seed };
            self.open = Some(ask.clone());
            self.placed(ask, Ok(t.trace))
        });
        RunAnswer {
            prompt,
            line,
            output: out.text,
            status: out.status,
            clear: out.clear,
            history: self.shell.history().to_vec(),
            at: self.shell.at().clone(),
            traced,
            scene,
        }
    }

    fn rules(&self, node: String) -> RulesAnswer {
        let plane = self.cluster.dataplane(&node);
        let routes = self.cluster.network().node(&node).map(|n| n.host.ip_route()).unwrap_or_default();
        RulesAnswer {
            routes,
            command: plane.map_or("", Dataplane::dump_command).to_owned(),
            dump: plane.map(Dataplane::render).unwrap_or_default(),
            node,
        }
    }

    fn matrix(&self, port: u16, system: bool) -> MatrixAnswer {
        let cluster = &self.cluster;
        // Counted before the table is computed: a big cluster's would not
        // fit memory.
        let count =
            cluster.pods.iter().filter(|p| !p.host_network && (system || !is_system_namespace(&p.namespace))).count();
        let mut out = MatrixAnswer { port, system, count, ..MatrixAnswer::default() };
        if cluster.network_policies.is_empty() || count > MATRIX_MAX_PODS {
            return out;
        }
        let m = matrix(&Engine::new(cluster), port, Protocol::Tcp, None);
        let keep: Vec<usize> = (0..m.pods.len())
            .filter(|i| system || !is_system_namespace(m.pods[*i].split('/').next().unwrap_or("")))
            .collect();
        out.pods = keep.iter().map(|i| m.pods[*i].clone()).collect();
        out.allowed = keep.iter().map(|i| keep.iter().map(|j| m.allowed[*i][*j]).collect()).collect();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::default_scenario;

    fn simulated(s: &mut Session, text: &str) -> Answer {
        let req = Request::Simulate { text: text.to_owned(), overrides: Overrides::default(), lesson: None };
        s.handle(1, req).answer
    }

    #[test]
    fn a_simulation_sends_the_scene_and_an_error_keeps_the_last_one() {
        let mut s = Session::new();
        let (_, text) = default_scenario();
        let Answer::Simulated { scene: Some(scene), stale: false, .. } = simulated(&mut s, text) else {
            panic!("the first simulation sends its scene")
        };
        assert_eq!(scene.pods.len(), s.cluster().pods.len());
        assert_eq!(scene.nodes.len(), s.cluster().nodes.len());
        let broken = format!("{text}---\nkind: Pod\nmetadata: {{name: [x\n");
        let Answer::Simulated { scene: None, stale: true, diagnostics, .. } = simulated(&mut s, &broken) else {
            panic!("a text with errors sends no scene")
        };
        assert!(!diagnostics.is_empty());
        assert_eq!(s.cluster().pods.len(), scene.pods.len(), "the last good cluster stays");
    }

    #[test]
    fn every_message_survives_its_trip_between_threads() {
        let mut s = Session::new();
        let (_, text) = default_scenario();
        let first =
            s.handle(1, Request::Simulate { text: text.to_owned(), overrides: Overrides::default(), lesson: None });
        let pods: Vec<String> = s.cluster().pods.iter().filter(|p| p.namespace == "shop").map(|p| p.key()).collect();
        let ask = Ask { from: pods[0].clone(), to: "web.shop".into(), port: 80, protocol: Protocol::Tcp, seed: 0 };
        let traced = s.handle(2, Request::Trace(ask));
        let Answer::Traced(t) = &traced.answer else { panic!("a trace answers a trace") };
        let trace = t.result.as_ref().expect("the default scenario traces");
        assert_eq!(t.places.len(), trace.hops.len() + trace.reply.len(), "a place per hop");
        assert!(t.places.iter().all(Option::is_some));
        let run = s.handle(
            3,
            Request::Run(format!("kubectl exec -n shop {} -- curl -s http://api", pods[0].split_once('/').unwrap().1)),
        );
        for reply in [first, traced, run] {
            let bytes = encode(&reply).unwrap();
            assert_eq!(decode::<Reply>(&bytes).unwrap(), reply);
        }
        let lesson = crate::scenarios::lesson("pods-and-ips").unwrap();
        let request = (
            4u64,
            Request::Simulate { text: "x".into(), overrides: Overrides::default(), lesson: Some(Box::new(lesson)) },
        );
        assert_eq!(decode::<(u64, Request)>(&encode(&request).unwrap()).unwrap(), request);
    }

    /// The terminal's `kubectl run` adds its pod to the cluster the page
    /// shows (the scene comes with the answer), keeps it across edits of the
    /// editor, and `--rm` takes it away when the shell exits.
    #[test]
    fn kubectl_run_adds_its_pod_and_rm_takes_it_away() {
        let mut s = Session::new();
        let (_, text) = default_scenario();
        simulated(&mut s, text);
        let run = |s: &mut Session, line: &str| match s.handle(2, Request::Run(line.to_owned())).answer {
            Answer::Ran(r) => *r,
            other => panic!("{other:?}"),
        };
        let has = |scene: &Scene| scene.pods.iter().any(|p| p.namespace == "default" && p.name == "test-1");
        let r = run(&mut s, "kubectl run --rm -i -t --image=alpine test-1 -- sh");
        assert_eq!(r.output, "If you don't see a command prompt, try pressing enter.\n");
        assert!(r.scene.as_deref().is_some_and(has), "the scene has the new pod");
        assert_eq!(r.at.prompt(), "/ # ");
        let Answer::Simulated { scene: Some(scene), .. } = simulated(&mut s, text) else { panic!("a scene") };
        assert!(has(&scene), "an edit keeps the pods the terminal made");
        let r = run(&mut s, "exit");
        assert_eq!(r.output, "pod \"test-1\" deleted\n");
        assert!(r.scene.as_deref().is_some_and(|sc| !has(sc)));
    }
}

//! The playground's state: the scenario text, the switches, and the core's
//! answer for them. Pure: `reduce` calls the core and nothing else.

use std::rc::Rc;

use podpath_core::trace::{self, Trace};
use podpath_core::{simulate_with, Cluster, Cni, Diagnostic, Overrides, ProxyMode, Source};
use yew::Reducible;

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
    /// The trace on screen: what was asked, and the core's answer.
    pub trace: Option<Rc<TraceView>>,
}

/// A trace the user opened (from a matrix cell, for now).
#[derive(Clone, Debug, PartialEq)]
pub struct TraceView {
    pub from: String,
    pub to: String,
    pub port: u16,
    pub result: Result<Trace, String>,
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
            && Rc::ptr_eq(&self.cluster, &other.cluster)
            && Rc::ptr_eq(&self.diagnostics, &other.diagnostics)
    }
}

#[derive(Debug)]
pub enum Action {
    /// The user typed: keep the text now, simulate after the debounce.
    Edit(String),
    /// Recompute the cluster from the current text.
    Simulate,
    SetCni(Option<Cni>),
    SetProxyMode(Option<ProxyMode>),
    ShowSystem(bool),
    SetMatrixPort(u16),
    /// Trace a TCP connection from one pod to another (`NS/NAME`).
    Trace {
        from: String,
        to: String,
        port: u16,
    },
    CloseTrace,
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
            stale: false,
            notice,
            show_system: false,
            matrix_port: 80,
            trace: None,
        };
        m.simulate(true);
        m
    }

    fn simulate(&mut self, first: bool) {
        let (cluster, diags) = simulate_with(&[Source::new(EDITOR_FILE, self.text.clone())], &self.overrides);
        let has_errors = diags.iter().any(Diagnostic::is_error);
        if !has_errors || first {
            self.cluster = Rc::new(cluster);
        }
        self.stale = has_errors && !first;
        self.diagnostics = Rc::new(diags);
        self.simulated = self.text.clone();
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
                let pod = |s: &str| {
                    let (namespace, name) = s.split_once('/').unwrap_or(("default", s));
                    (namespace.to_owned(), name.to_owned())
                };
                let ((fns, fname), (tns, tname)) = (pod(&from), pod(&to));
                let req = trace::Request {
                    from: trace::From::Pod { namespace: fns, name: fname },
                    to: trace::To::Pod { namespace: tns, name: tname },
                    port,
                    protocol: "tcp".into(),
                    node: None,
                    seed: 0,
                };
                let result = trace::trace(&next.cluster, &req).map_err(|e| e.to_string());
                next.trace = Some(Rc::new(TraceView { from, to, port, result }));
            }
            Action::CloseTrace => next.trace = None,
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
}

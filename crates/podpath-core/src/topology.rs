//! The cluster as a graph of places for drawing: the client outside, the
//! nodes, the pods on them and the Services in front of pods, with the
//! links between them (a node runs a pod, a Service is backed by a pod).
//!
//! The page lays its boxes out from this graph: where each hop of a trace
//! is drawn ([`Topology::place_of`]), the route the packet takes across the
//! boxes ([`Topology::route`]), and which nodes stay open when a big cluster
//! folds the rest ([`Topology::nodes_near`]). petgraph's indexes stay inside;
//! callers speak in [`Place`]s.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

use crate::trace::{Hop, Trace};
use crate::Cluster;

/// Something the page draws as a box.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub enum Place {
    /// The client outside the cluster.
    Outside,
    /// A node, by name.
    Node(String),
    /// A pod, as `NAMESPACE/NAME`.
    Pod(String),
    /// A Service, as `NAMESPACE/NAME`.
    Service(String),
}

/// How two places are linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// The node runs the pod (node → pod).
    Runs,
    /// The Service sends to the pod: it is one of its endpoints (service → pod).
    Backs,
}

/// The places of a cluster and their links.
#[derive(Debug, Default)]
pub struct Topology {
    graph: DiGraph<Place, Link>,
    index: BTreeMap<Place, NodeIndex>,
}

impl Topology {
    /// Every node, scheduled pod and Service of `cluster`, the client
    /// outside, and the links between them (endpoints from the
    /// EndpointSlices, so a Service without ready pods links to none).
    pub fn build(cluster: &Cluster) -> Topology {
        let mut t = Topology::default();
        t.add(Place::Outside);
        for n in &cluster.nodes {
            t.add(Place::Node(n.name.clone()));
        }
        for p in &cluster.pods {
            let pod = t.add(Place::Pod(p.key()));
            if let Some(node) = p.node.as_ref().and_then(|n| t.index.get(&Place::Node(n.clone())).copied()) {
                t.graph.add_edge(node, pod, Link::Runs);
            }
        }
        for s in &cluster.services {
            let key = format!("{}/{}", s.namespace, s.name);
            let svc = t.add(Place::Service(key));
            let pods: BTreeSet<&str> =
                cluster.slices_of(s).flat_map(|es| &es.endpoints).filter_map(|e| e.pod.as_deref()).collect();
            for pod in pods {
                if let Some(&p) = t.index.get(&Place::Pod(pod.to_owned())) {
                    t.graph.add_edge(svc, p, Link::Backs);
                }
            }
        }
        t
    }

    fn add(&mut self, place: Place) -> NodeIndex {
        if let Some(&i) = self.index.get(&place) {
            return i;
        }
        let i = self.graph.add_node(place.clone());
        self.index.insert(place, i);
        i
    }

    fn linked(&self, place: &Place, link: Link, direction: Direction) -> impl Iterator<Item = &Place> + '_ {
        let i = self.index.get(place).copied();
        i.into_iter().flat_map(move |i| {
            self.graph.edges_directed(i, direction).filter(move |e| *e.weight() == link).map(move |e| {
                use petgraph::visit::EdgeRef;
                let other = if direction == Direction::Outgoing { e.target() } else { e.source() };
                &self.graph[other]
            })
        })
    }

    /// The node a pod runs on.
    pub fn host(&self, pod: &str) -> Option<&str> {
        self.linked(&Place::Pod(pod.to_owned()), Link::Runs, Direction::Incoming).find_map(|p| match p {
            Place::Node(n) => Some(n.as_str()),
            _ => None,
        })
    }

    /// The pods behind a Service (its endpoints' pods), sorted.
    pub fn backends(&self, service: &str) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .linked(&Place::Service(service.to_owned()), Link::Backs, Direction::Outgoing)
            .filter_map(|p| match p {
                Place::Pod(k) => Some(k.as_str()),
                _ => None,
            })
            .collect();
        crate::order::sort(&mut out);
        out
    }

    /// Where a hop happens: in a pod's network namespace (its `at` starts
    /// with the pod's key), outside the cluster, or on its node.
    pub fn place_of(&self, hop: &Hop) -> Option<Place> {
        if let Some(pod) = hop.at.pod().map(|p| Place::Pod(p.to_owned())) {
            if self.index.contains_key(&pod) {
                return Some(pod);
            }
        }
        if hop.at == crate::step::Place::Outside {
            return Some(Place::Outside);
        }
        hop.node.as_ref().map(|n| Place::Node(n.clone()))
    }

    /// The places a trace's request passes, in order, without repeats in a
    /// row: what the page draws the packet's route through.
    pub fn route(&self, trace: &Trace) -> Vec<Place> {
        let mut out: Vec<Place> = Vec::new();
        for place in trace.hops.iter().filter_map(|h| self.place_of(h)) {
            if out.last() != Some(&place) {
                out.push(place);
            }
        }
        out
    }

    /// The nodes that `places` are on or reach: a node itself, a pod's
    /// node, the nodes of a Service's backends. A big cluster keeps these
    /// open and folds the others.
    pub fn nodes_near<'a>(&self, places: impl IntoIterator<Item = &'a Place>) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for place in places {
            match place {
                Place::Node(n) => {
                    out.insert(n.clone());
                }
                Place::Pod(p) => out.extend(self.host(p).map(str::to_owned)),
                Place::Service(s) => {
                    for pod in self.backends(s) {
                        out.extend(self.host(pod).map(str::to_owned));
                    }
                }
                Place::Outside => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{trace, From, Request, To};
    use crate::{simulate, Source};

    const SCENARIO: &str = "\
apiVersion: podpath.dev/v1alpha1
kind: Cluster
metadata: {name: t}
spec: {cni: flannel, nodes: 4}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop}
spec:
  containers: [{name: c, image: curl}]
";

    #[test]
    fn links_pods_to_nodes_and_services_to_backends() {
        let (cluster, _) = simulate(&[Source::new("t.yaml", SCENARIO)]);
        let t = Topology::build(&cluster);
        let client = cluster.pod("shop", "client").unwrap();
        assert_eq!(t.host("shop/client"), client.node.as_deref());
        let backends = t.backends("shop/web");
        assert_eq!(backends.len(), 2);
        assert!(backends.iter().all(|b| b.starts_with("shop/web-")), "{backends:?}");
        // The nodes near the Service are where its pods run.
        let near = t.nodes_near(&[Place::Service("shop/web".into())]);
        let hosts: BTreeSet<String> = backends.iter().filter_map(|b| t.host(b)).map(str::to_owned).collect();
        assert_eq!(near, hosts);
        assert!(t.backends("shop/nothing").is_empty());
    }

    #[test]
    fn a_trace_route_runs_from_pod_through_nodes_to_pod() {
        let (cluster, _) = simulate(&[Source::new("t.yaml", SCENARIO)]);
        let t = Topology::build(&cluster);
        let web = t.backends("shop/web").into_iter().find(|b| t.host(b) != t.host("shop/client")).unwrap().to_owned();
        let (namespace, name) = web.split_once('/').unwrap();
        let req = Request {
            from: From::Pod { namespace: "shop".into(), name: "client".into() },
            to: To::Pod { namespace: namespace.into(), name: name.into() },
            port: 80,
            protocol: crate::cluster::Protocol::Tcp,
            node: None,
            seed: 0,
        };
        let tr = trace(&cluster, &req).unwrap();
        let route = t.route(&tr);
        let client_node = t.host("shop/client").unwrap().to_owned();
        let web_node = t.host(&web).unwrap().to_owned();
        assert_eq!(
            route,
            vec![Place::Pod("shop/client".into()), Place::Node(client_node), Place::Node(web_node), Place::Pod(web),]
        );
    }
}

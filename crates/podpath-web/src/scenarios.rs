//! Scenarios and lessons bundled with the site, by the name `?scenario=NAME`
//! uses. The default scenario is in the Wasm, so a first visit draws at
//! once; every other one is a static file of the site (`scenarios/`,
//! `lessons/`, copied by Trunk), fetched when it is opened and precached by
//! the service worker, so the page does not carry twenty-odd texts it may
//! never show and they still open offline.

use std::cell::RefCell;
use std::collections::BTreeMap;

/// A bundled scenario or lesson: its name, its title, and its file,
/// relative to the page.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: &'static str,
    pub title: &'static str,
    pub path: &'static str,
}

impl Entry {
    pub fn is_lesson(&self) -> bool {
        self.path.starts_with("lessons/")
    }
}

/// Every bundled scenario; the first is the default.
pub const SCENARIOS: &[Entry] = &[
    Entry { name: "shop", title: "A small shop across three nodes", path: "scenarios/shop.yaml" },
    Entry { name: "policies", title: "The shop locked down with NetworkPolicies", path: "scenarios/policies.yaml" },
];

/// Every bundled lesson, in order (`web/lessons/`; a test keeps the names
/// and titles equal to the files').
pub const LESSONS: &[Entry] = &[
    Entry { name: "pods-and-ips", title: "Pods and their addresses", path: "lessons/01-pods-and-ips.yaml" },
    Entry {
        name: "services-clusterip",
        title: "A Service and its ClusterIP",
        path: "lessons/02-services-clusterip.yaml",
    },
    Entry {
        name: "dns-search-path",
        title: "DNS, the search path and ExternalName",
        path: "lessons/03-dns-externalname.yaml",
    },
    Entry {
        name: "selector-typo",
        title: "Troubleshooting: a Service with no endpoints",
        path: "lessons/04-selector-typo.yaml",
    },
    Entry {
        name: "default-deny-dns",
        title: "Default deny, and the DNS it forgets",
        path: "lessons/05-default-deny-dns.yaml",
    },
    Entry {
        name: "namespace-isolation",
        title: "Namespaces do not isolate: a policy does",
        path: "lessons/06-namespace-isolation.yaml",
    },
    Entry {
        name: "flannel-ignores-policy",
        title: "Flannel and the policy nobody enforces",
        path: "lessons/07-flannel-ignores-policy.yaml",
    },
    Entry {
        name: "ipvs-rejects-ping",
        title: "Ping a ClusterIP: lost with iptables, refused with IPVS",
        path: "lessons/08-ipvs-rejects-ping.yaml",
    },
    Entry {
        name: "named-target-port",
        title: "Troubleshooting: a targetPort that names no port",
        path: "lessons/09-named-target-port.yaml",
    },
    Entry {
        name: "ingress-nginx",
        title: "Ingress with ingress-nginx: the class that picks the controller",
        path: "lessons/10-ingress-nginx.yaml",
    },
    Entry {
        name: "traefik-path-types",
        title: "Ingress with Traefik: Exact and Prefix paths",
        path: "lessons/11-traefik-path-types.yaml",
    },
    Entry {
        name: "nodeport-traffic-policy",
        title: "NodePort and externalTrafficPolicy",
        path: "lessons/12-nodeport-traffic-policy.yaml",
    },
    Entry {
        name: "weave-endport",
        title: "Weave Net and a port range it does not read",
        path: "lessons/13-weave-endport.yaml",
    },
    Entry {
        name: "headless-statefulset",
        title: "A name per pod: headless Services and StatefulSets",
        path: "lessons/14-headless-statefulset.yaml",
    },
    Entry {
        name: "namespace-selector",
        title: "Allowing a namespace: its labels, not its name",
        path: "lessons/15-namespace-selector.yaml",
    },
    Entry {
        name: "iptables-chains-affinity",
        title: "kube-proxy's iptables chains, and session affinity",
        path: "lessons/16-iptables-chains-affinity.yaml",
    },
    Entry {
        name: "nftables-mode",
        title: "kube-proxy's nftables mode, compared with iptables",
        path: "lessons/17-nftables-mode.yaml",
    },
    Entry {
        name: "calico-vxlan",
        title: "Calico: IP-in-IP or VXLAN between nodes",
        path: "lessons/18-calico-vxlan.yaml",
    },
    Entry {
        name: "cilium-socket-lb",
        title: "Cilium without kube-proxy: socket load balancing and Geneve",
        path: "lessons/19-cilium-socket-lb.yaml",
    },
    Entry {
        name: "loadbalancer-client-ip",
        title: "LoadBalancer: keep the client's address",
        path: "lessons/20-loadbalancer-client-ip.yaml",
    },
    Entry {
        name: "policy-after-dnat",
        title: "Troubleshooting: a policy that blocks too much",
        path: "lessons/21-policy-after-dnat.yaml",
    },
    Entry {
        name: "gateway-first-route",
        title: "Gateway API: a first Gateway and HTTPRoute",
        path: "lessons/22-gateway-first-route.yaml",
    },
    Entry {
        name: "ingress-nginx-to-gateway",
        title: "From ingress-nginx to the Gateway API: the same URLs, the same backends",
        path: "lessons/23-ingress-nginx-to-gateway.yaml",
    },
    Entry {
        name: "gateway-canary-and-grants",
        title: "Gateway API: a canary by weight and by header, and a route across namespaces",
        path: "lessons/24-gateway-canary-and-grants.yaml",
    },
];

/// The default scenario's text, the one text the Wasm carries.
const DEFAULT_TEXT: &str = include_str!("../../../web/scenarios/shop.yaml");

thread_local! {
    /// The texts fetched so far, by name.
    static FETCHED: RefCell<BTreeMap<&'static str, String>> = const { RefCell::new(BTreeMap::new()) };
    /// The lessons parsed so far, by name: the page asks for one several
    /// times as it opens (its scenario, its goals).
    static PARSED: RefCell<BTreeMap<&'static str, podpath_core::lesson::Lesson>> = const { RefCell::new(BTreeMap::new()) };
}

/// The bundled scenario or lesson of that name.
pub fn entry(name: &str) -> Option<&'static Entry> {
    SCENARIOS.iter().chain(LESSONS).find(|e| e.name == name)
}

/// The names of the bundled scenarios (not the lessons), for messages.
pub fn scenario_names() -> Vec<&'static str> {
    SCENARIOS.iter().map(|e| e.name).collect()
}

/// The file as the page has it: the default's is built in, the others
/// once fetched.
fn text_of(e: &Entry) -> Option<String> {
    if e.name == SCENARIOS[0].name {
        return Some(DEFAULT_TEXT.to_owned());
    }
    #[cfg(all(test, not(target_arch = "wasm32")))]
    if let Ok(text) = std::fs::read_to_string(format!("{}/../../web/{}", env!("CARGO_MANIFEST_DIR"), e.path)) {
        return Some(text);
    }
    FETCHED.with(|f| f.borrow().get(e.name).cloned())
}

/// The scenario a page opens with when nothing else is asked for.
pub fn default_scenario() -> (&'static str, &'static str) {
    (SCENARIOS[0].name, DEFAULT_TEXT)
}

/// The text a scenario or lesson starts from, once the page has its file.
pub fn find(name: &str) -> Option<String> {
    let e = entry(name)?;
    if e.is_lesson() {
        lesson(name).map(|l| l.spec.scenario)
    } else {
        text_of(e)
    }
}

/// The bundled lesson of that name, once the page has its file.
pub fn lesson(name: &str) -> Option<podpath_core::lesson::Lesson> {
    let e = entry(name).filter(|e| e.is_lesson())?;
    if let Some(l) = PARSED.with(|p| p.borrow().get(e.name).cloned()) {
        return Some(l);
    }
    let l = podpath_core::lesson::parse(e.path, &text_of(e)?).ok()?;
    PARSED.with(|p| p.borrow_mut().insert(e.name, l.clone()));
    Some(l)
}

/// `(name, title)` of every bundled lesson, in order.
pub fn lesson_titles() -> Vec<(String, String)> {
    LESSONS.iter().map(|e| (e.name.to_owned(), e.title.to_owned())).collect()
}

/// The file the page must fetch before it can open `name`: none for an
/// unknown name, the default, or a file already fetched.
pub fn to_fetch(name: &str) -> Option<&'static Entry> {
    entry(name).filter(|e| text_of(e).is_none())
}

/// Fetches an entry's file from the site (the service worker answers it
/// offline) and keeps it for [`find`] and [`lesson`].
pub async fn fetch(e: &'static Entry) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let failed = |why: &str| format!("{} could not be loaded ({why})", e.path);
    let window = web_sys::window().ok_or_else(|| failed("no window"))?;
    let answer = JsFuture::from(window.fetch_with_str(e.path)).await.map_err(|_| failed("the network failed"))?;
    let answer: web_sys::Response = answer.dyn_into().map_err(|_| failed("not a response"))?;
    if !answer.ok() {
        return Err(failed(&format!("HTTP {}", answer.status())));
    }
    let body = answer.text().map_err(|_| failed("no body"))?;
    let text = JsFuture::from(body).await.ok().and_then(|t| t.as_string()).ok_or_else(|| failed("no text"))?;
    FETCHED.with(|f| f.borrow_mut().insert(e.name, text));
    Ok(())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// The catalogue names every file of `web/lessons` and `web/scenarios`
    /// once, with the name and title the file gives: the page fetches by it.
    #[test]
    fn the_catalogue_is_the_files() {
        let web = format!("{}/../../web", env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<String> = ["lessons", "scenarios"]
            .iter()
            .flat_map(|dir| {
                let entries = std::fs::read_dir(format!("{web}/{dir}")).unwrap();
                entries.map(move |f| format!("{dir}/{}", f.unwrap().file_name().to_string_lossy()))
            })
            .collect();
        podpath_core::order::sort(&mut files);
        let mut listed: Vec<String> = SCENARIOS.iter().chain(LESSONS).map(|e| e.path.to_owned()).collect();
        podpath_core::order::sort(&mut listed);
        assert_eq!(listed, files);
        for e in LESSONS {
            let l = lesson(e.name).unwrap_or_else(|| panic!("{} parses as a lesson named {}", e.path, e.name));
            assert_eq!((l.metadata.name.as_str(), l.spec.title.as_str()), (e.name, e.title), "{}", e.path);
        }
        let numbered: Vec<&str> = LESSONS.iter().map(|e| e.path).collect();
        assert!(numbered.is_sorted(), "lessons in the order of their files");
        assert!(find("policies").is_some_and(|t| t.contains("NetworkPolicy")));
        assert_eq!(to_fetch("shop"), None, "the default is built in");
        assert_eq!(to_fetch("no-such-thing"), None);
    }
}

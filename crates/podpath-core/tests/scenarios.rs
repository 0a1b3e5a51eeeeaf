//! Realistic scenarios under every CNI plugin: the nodes, pods, addresses,
//! Services, EndpointSlices, policies and Ingresses podpath builds, as
//! `kubectl get -A -o wide` would list them. Snapshots live beside each
//! scenario as `NAME.CNI.out`; `UPDATE_EXPECT=1` rewrites them.

mod common;

use std::path::Path;

use podpath_core::kubectl::{self, Scope};
use podpath_core::{simulate_with, Cni, Overrides, Source};

fn render(text: &str, name: &str, cni: Cni) -> String {
    let overrides = Overrides { cni: Some(cni), ..Overrides::default() };
    let (cluster, diags) = simulate_with(&[Source::new(name, text)], &overrides);
    let mut out = String::new();
    for d in &diags {
        out.push_str(&format!("{d}\n"));
    }
    for n in &cluster.nodes {
        let ranges: Vec<String> = n.network.pod_ranges.iter().map(ToString::to_string).collect();
        let gw = n.network.gateway.map(|g| g.to_string()).unwrap_or_default();
        out.push_str(&format!(
            "node {} {} ranges [{}] device {gw}\n",
            n.name,
            n.internal_ip.unwrap(),
            ranges.join(", ")
        ));
    }
    out.push_str(&kubectl::pods_table(&cluster, &Scope::All, true));
    out.push_str(&kubectl::services_table(&cluster, &Scope::All, true));
    out.push_str(&kubectl::endpoint_slices_table(&cluster, &Scope::All));
    out.push_str(&kubectl::network_policies_table(&cluster, &Scope::All));
    out.push_str(&kubectl::ingresses_table(&cluster, &Scope::All));
    out
}

#[test]
fn scenarios_under_every_cni() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let shop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/scenarios/shop.yaml");
    let mut files = vec![shop];
    let mut own: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    podpath_core::order::sort(&mut own);
    files.extend(own);
    let mut failures = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        for cni in Cni::ALL {
            let got = render(&text, &format!("{stem}.yaml"), cni);
            let out = dir.join(format!("{stem}.{cni}.out"));
            common::check_file(&out, &got, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

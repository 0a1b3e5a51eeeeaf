//! The policy matrix benchmark, in the browser: the same 5,000 pods and
//! 1,000 policies as the native criterion bench, timed with
//! `performance.now()`. Built only with `--features bench`; run by
//! scripts/bench-policy.sh, which compares it with the native number.
#![cfg(feature = "bench")]

use podpath_core::cluster::Protocol;
use podpath_core::policy::matrix::matrix;
use podpath_core::policy::Engine;
use podpath_core::{simulate, Source};
use wasm_bindgen_test::*;

#[path = "../../podpath-core/benches/policy_scenario.rs"]
mod policy_scenario;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn matrix_of_5000_pods_and_1000_policies() {
    let perf = web_sys::window().unwrap().performance().unwrap();
    let t0 = perf.now();
    let (cluster, _) = simulate(&[Source::new("policy-bench.yaml", policy_scenario::scenario())]);
    let built = perf.now() - t0;
    let engine = Engine::new(&cluster);
    let mut best = f64::MAX;
    let mut classes = 0;
    for _ in 0..5 {
        let t = perf.now();
        let m = matrix(&engine, 80, Protocol::Tcp, None);
        best = best.min(perf.now() - t);
        classes = m.classes;
        assert_eq!(m.pods.len(), 5004);
    }
    console_log!("wasm: simulate {built:.0} ms; matrix best of 5 {best:.0} ms ({classes} classes)");
}

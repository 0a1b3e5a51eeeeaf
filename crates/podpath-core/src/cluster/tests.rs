use expect_test::{expect, Expect};

use crate::kubectl::{endpoint_slices_table, nodes_table, pods_table, services_table, Scope};
use crate::{simulate, Source};

/// Builds the fixture and compares `get nodes -o wide`, `get pods -A -o wide`
/// and the diagnostics with the expectation.
fn check(fixture: &str, expect: Expect) {
    let (cluster, diags) = simulate(&[Source::new("fixture.yaml", fixture)]);
    let mut out = nodes_table(&cluster, true);
    out.push('\n');
    out.push_str(&pods_table(&cluster, &Scope::All, true));
    if !cluster.services.is_empty() {
        out.push('\n');
        out.push_str(&services_table(&cluster, &Scope::All, true));
        out.push('\n');
        out.push_str(&endpoint_slices_table(&cluster, &Scope::All));
    }
    // System components have their own test; keep fixtures about the user's objects.
    let out: String = out
        .lines()
        .filter(|l| !l.split_whitespace().next().is_some_and(crate::system::is_system_namespace))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut out = out;
    for d in &diags {
        out.push_str(&format!("{d}\n"));
    }
    for p in cluster.pods.iter().filter(|p| !p.is_running()) {
        if let crate::PodPhase::Pending { message, .. } = &p.phase {
            out.push_str(&format!("{}: {message}\n", p.key()));
        }
    }
    expect.assert_eq(&out);
}

const SHOP: &str = include_str!("../../../../web/scenarios/shop.yaml");

#[test]
fn shop_scenario_spreads_over_workers_with_flannel_addresses() {
    check(
        SHOP,
        expect![[r#"
            NAME                 STATUS   ROLES           AGE         VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE    KERNEL-VERSION   CONTAINER-RUNTIME
            kind-control-plane   Ready    control-plane   <unknown>   v1.37.0   172.18.0.2    <none>        <unknown>   <unknown>        <unknown>
            kind-worker          Ready    <none>          <unknown>   v1.37.0   172.18.0.3    <none>        <unknown>   <unknown>        <unknown>
            kind-worker2         Ready    <none>          <unknown>   v1.37.0   172.18.0.4    <none>        <unknown>   <unknown>        <unknown>

            NAMESPACE       NAME                                        READY   STATUS    RESTARTS   AGE         IP           NODE                 NOMINATED NODE   READINESS GATES
            shop            api-75db7cdc4f-4cdh4                        1/1     Running   0          <unknown>   10.244.1.4   kind-worker          <none>           <none>
            shop            api-75db7cdc4f-m9lx9                        1/1     Running   0          <unknown>   10.244.2.3   kind-worker2         <none>           <none>
            shop            db-0                                        1/1     Running   0          <unknown>   10.244.2.4   kind-worker2         <none>           <none>
            shop            frontend-59779b5cdf-4fwc6                   1/1     Running   0          <unknown>   10.244.2.2   kind-worker2         <none>           <none>
            shop            frontend-59779b5cdf-r29mj                   1/1     Running   0          <unknown>   10.244.1.3   kind-worker          <none>           <none>

            NAMESPACE       NAME                                 TYPE           CLUSTER-IP       EXTERNAL-IP      PORT(S)                      AGE         SELECTOR
            default         kubernetes                           ClusterIP      10.96.0.1        <none>           443/TCP                      <unknown>   <none>
            shop            api                                  ClusterIP      10.97.152.226    <none>           80/TCP                       <unknown>   app.kubernetes.io/name=api
            shop            db                                   ClusterIP      None             <none>           5432/TCP                     <unknown>   app.kubernetes.io/name=db
            shop            frontend                             ClusterIP      10.100.80.120    <none>           80/TCP                       <unknown>   app.kubernetes.io/name=frontend

            NAMESPACE       NAME                                       ADDRESSTYPE   PORTS        ENDPOINTS               AGE
            default         kubernetes                                 IPv4          6443         172.18.0.2              <unknown>
            shop            api-6pwxd                                  IPv4          8080         10.244.2.3,10.244.1.4   <unknown>
            shop            db-2jk9g                                   IPv4          5432         10.244.2.4              <unknown>
            shop            frontend-26prj                             IPv4          80           10.244.2.2,10.244.1.3   <unknown>
        "#]],
    );
}

#[test]
fn same_input_gives_the_same_cluster() {
    let a = simulate(&[Source::new("a", SHOP)]);
    let b = simulate(&[Source::new("a", SHOP)]);
    assert_eq!(a, b);
}

#[test]
fn taints_selectors_and_node_name_decide_placement() {
    check(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: pinned}
spec:
  nodeName: kind-control-plane
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: picky}
spec:
  nodeSelector: {disktype: ssd}
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: tolerant, namespace: kube-system}
spec:
  tolerations: [{operator: Exists}]
  hostNetwork: true
  nodeSelector: {node-role.kubernetes.io/control-plane: ""}
  containers: [{name: c, image: busybox}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: c, image: agent}]
"#,
        expect![[r#"
            NAME                 STATUS   ROLES           AGE         VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE    KERNEL-VERSION   CONTAINER-RUNTIME
            kind-control-plane   Ready    control-plane   <unknown>   v1.37.0   172.18.0.2    <none>        <unknown>   <unknown>        <unknown>
            kind-worker          Ready    <none>          <unknown>   v1.37.0   172.18.0.3    <none>        <unknown>   <unknown>        <unknown>
            kind-worker2         Ready    <none>          <unknown>   v1.37.0   172.18.0.4    <none>        <unknown>   <unknown>        <unknown>

            NAMESPACE       NAME                                        READY   STATUS    RESTARTS   AGE         IP           NODE                 NOMINATED NODE   READINESS GATES
            default         picky                                       0/1     Pending   0          <unknown>   <none>       <none>               <none>           <none>
            default         pinned                                      1/1     Running   0          <unknown>   10.244.0.4   kind-control-plane   <none>           <none>

            NAMESPACE       NAME                                 TYPE           CLUSTER-IP       EXTERNAL-IP      PORT(S)                      AGE         SELECTOR
            default         kubernetes                           ClusterIP      10.96.0.1        <none>           443/TCP                      <unknown>   <none>

            NAMESPACE       NAME                                       ADDRESSTYPE   PORTS        ENDPOINTS               AGE
            default         kubernetes                                 IPv4          6443         172.18.0.2              <unknown>
            default/picky: 0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.
        "#]],
    );
}

#[test]
fn given_nodes_keep_their_addresses_and_cidrs() {
    check(
        r#"
apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {node-role.kubernetes.io/worker: ""}
spec: {podCIDR: 10.244.7.0/24}
status:
  addresses: [{type: InternalIP, address: 10.0.0.11}, {type: ExternalIP, address: 203.0.113.11}]
---
apiVersion: v1
kind: Node
metadata: {name: n2}
status:
  addresses: [{type: InternalIP, address: 10.0.0.12}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: wrong}}
    spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  replicas: 3
  selector: {matchLabels: {app: rs}}
  template:
    metadata: {labels: {app: rs}}
    spec: {containers: [{name: c, image: nginx}]}
"#,
        expect![[r#"
            NAME   STATUS   ROLES    AGE         VERSION   INTERNAL-IP   EXTERNAL-IP    OS-IMAGE    KERNEL-VERSION   CONTAINER-RUNTIME
            n1     Ready    worker   <unknown>   v1.37.0   10.0.0.11     203.0.113.11   <unknown>   <unknown>        <unknown>
            n2     Ready    <none>   <unknown>   v1.37.0   10.0.0.12     <none>         <unknown>   <unknown>        <unknown>

            NAMESPACE       NAME                                        READY   STATUS    RESTARTS   AGE         IP           NODE   NOMINATED NODE   READINESS GATES
            default         rs-2tdfk                                    1/1     Running   0          <unknown>   10.244.7.4   n1     <none>           <none>
            default         rs-66bkf                                    1/1     Running   0          <unknown>   10.244.0.4   n2     <none>           <none>
            default         rs-sl22c                                    1/1     Running   0          <unknown>   10.244.0.3   n2     <none>           <none>

            NAMESPACE       NAME                                 TYPE           CLUSTER-IP       EXTERNAL-IP      PORT(S)                      AGE         SELECTOR
            default         kubernetes                           ClusterIP      10.96.0.1        <none>           443/TCP                      <unknown>   <none>

            NAMESPACE       NAME                                       ADDRESSTYPE   PORTS        ENDPOINTS               AGE
            default         kubernetes                                 IPv4          6443         10.0.0.11               <unknown>
            fixture.yaml:24:16: error: spec.template.metadata.labels: Invalid value: "app=wrong": `selector` does not match template `labels` (selector is app=web)
        "#]],
    );
}

#[test]
fn services_get_addresses_and_endpoints_follow_readiness_and_named_ports() {
    check(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: a, labels: {app: web}}
spec: {containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, labels: {app: web}, annotations: {podpath.dev/ready: "false"}}
spec: {containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 9090}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: c, labels: {app: web}, annotations: {podpath.dev/terminating: "true"}}
spec: {containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: lb}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  clusterIP: 10.96.100.100
  selector: {app: web}
  ports: [{port: 443, targetPort: https, nodePort: 31443}]
---
apiVersion: v1
kind: Service
metadata: {name: typo}
spec:
  selector: {app: wbe}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec: {type: ExternalName, externalName: example.com}
---
apiVersion: v1
kind: Service
metadata: {name: manual}
spec:
  clusterIP: 10.0.0.1
  ports: [{port: 5432}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: manual-1
  labels: {kubernetes.io/service-name: manual}
addressType: IPv4
ports: [{port: 5432}]
endpoints: [{addresses: [192.0.2.10]}, {addresses: [192.0.2.11], conditions: {ready: false}}]
"#,
        expect![[r#"
            NAME                 STATUS   ROLES           AGE         VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE    KERNEL-VERSION   CONTAINER-RUNTIME
            kind-control-plane   Ready    control-plane   <unknown>   v1.37.0   172.18.0.2    <none>        <unknown>   <unknown>        <unknown>
            kind-worker          Ready    <none>          <unknown>   v1.37.0   172.18.0.3    <none>        <unknown>   <unknown>        <unknown>
            kind-worker2         Ready    <none>          <unknown>   v1.37.0   172.18.0.4    <none>        <unknown>   <unknown>        <unknown>

            NAMESPACE       NAME                                        READY   STATUS        RESTARTS   AGE         IP           NODE                 NOMINATED NODE   READINESS GATES
            default         a                                           1/1     Running       0          <unknown>   10.244.2.2   kind-worker2         <none>           <none>
            default         b                                           0/1     Running       0          <unknown>   10.244.1.3   kind-worker          <none>           <none>
            default         c                                           1/1     Terminating   0          <unknown>   10.244.2.3   kind-worker2         <none>           <none>

            NAMESPACE       NAME                                 TYPE           CLUSTER-IP       EXTERNAL-IP      PORT(S)                      AGE         SELECTOR
            default         ext                                  ExternalName   <none>           example.com      <none>                       <unknown>   <none>
            default         kubernetes                           ClusterIP      10.96.0.1        <none>           443/TCP                      <unknown>   <none>
            default         lb                                   LoadBalancer   10.96.100.100    172.18.255.201   443:31443/TCP                <unknown>   app=web
            default         manual                               ClusterIP      10.0.0.1         <none>           5432/TCP                     <unknown>   <none>
            default         typo                                 ClusterIP      10.105.2.34      <none>           80/TCP                       <unknown>   app=wbe
            default         web                                  NodePort       10.108.31.10     <none>           80:32472/TCP                 <unknown>   app=web

            NAMESPACE       NAME                                       ADDRESSTYPE   PORTS        ENDPOINTS                          AGE
            default         kubernetes                                 IPv4          6443         172.18.0.2                         <unknown>
            default         lb-mxvmw                                   IPv4          <unset>      10.244.2.2,10.244.1.3,10.244.2.3   <unknown>
            default         manual-1                                   IPv4          5432         192.0.2.10,192.0.2.11              <unknown>
            default         typo-4wr7g                                 IPv4          <unset>      <unset>                            <unknown>
            default         web-9lpph                                  IPv4          8080         10.244.2.2,10.244.2.3              <unknown>
            default         web-fv5fh                                  IPv4          9090         10.244.1.3                         <unknown>
            fixture.yaml:51:3: warning: service default/manual: spec.clusterIP: Invalid value: "10.0.0.1": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12
            fixture.yaml:33:23: warning: service default/lb: targetPort "https" is not the name of a TCP container port in any selected pod; port 443 will have no endpoints
            fixture.yaml:39:3: warning: service default/typo: selector app=wbe matches no pod in namespace default; it will have no endpoints
        "#]],
    );
}

/// What a fresh cluster runs before anything is applied, per CNI plugin.
#[test]
fn system_components_per_cni() {
    let mut out = String::new();
    for cni in crate::Cni::ALL {
        let proxy = if cni == crate::Cni::Cilium { "ebpf" } else { "iptables" };
        let fixture = format!(
            "apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nspec: {{cni: {cni}, proxyMode: {proxy}, nodes: 2}}\n"
        );
        let (cluster, diags) = simulate(&[Source::new("c.yaml", fixture)]);
        assert!(diags.is_empty(), "{diags:?}");
        out.push_str(&format!("== {cni}\n"));
        out.push_str(&pods_table(&cluster, &Scope::All, true));
        out.push_str(&services_table(&cluster, &Scope::All, false));
        out.push_str(&endpoint_slices_table(&cluster, &Scope::All));
    }
    expect_test::expect_file!["system-components.txt"].assert_eq(&out);
}

#[test]
fn user_objects_replace_system_ones_and_adopt_pods() {
    let fixture = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec:
  replicas: 3
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      tolerations: [{operator: Exists}]
      containers: [{name: coredns, image: coredns}]
---
apiVersion: v1
kind: Pod
metadata: {name: coredns-abc-12345, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  tolerations: [{operator: Exists}]
  containers: [{name: coredns, image: coredns}]
"#;
    let (cluster, diags) = simulate(&[Source::new("f.yaml", fixture)]);
    assert!(diags.is_empty(), "{diags:?}");
    let dns: Vec<&str> = cluster
        .pods
        .iter()
        .filter(|p| p.labels.get("k8s-app").map(String::as_str) == Some("kube-dns"))
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(dns.len(), 3, "one adopted, two created: {dns:?}");
    assert!(dns.contains(&"coredns-abc-12345"));
}

#[test]
fn jobs_run_parallel_pods_and_cronjobs_none() {
    check(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: shop}
spec:
  parallelism: 3
  completions: 2
  template:
    metadata: {labels: {app: migrate}}
    spec:
      restartPolicy: Never
      containers: [{name: m, image: migrate}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: shop}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: n, image: nightly}]
"#,
        expect![[r#"
            NAME                 STATUS   ROLES           AGE         VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE    KERNEL-VERSION   CONTAINER-RUNTIME
            kind-control-plane   Ready    control-plane   <unknown>   v1.37.0   172.18.0.2    <none>        <unknown>   <unknown>        <unknown>
            kind-worker          Ready    <none>          <unknown>   v1.37.0   172.18.0.3    <none>        <unknown>   <unknown>        <unknown>
            kind-worker2         Ready    <none>          <unknown>   v1.37.0   172.18.0.4    <none>        <unknown>   <unknown>        <unknown>

            NAMESPACE       NAME                                        READY   STATUS    RESTARTS   AGE         IP           NODE                 NOMINATED NODE   READINESS GATES
            shop            migrate-b2p8v                               1/1     Running   0          <unknown>   10.244.2.2   kind-worker2         <none>           <none>
            shop            migrate-fxzbs                               1/1     Running   0          <unknown>   10.244.1.3   kind-worker          <none>           <none>

            NAMESPACE       NAME                                 TYPE           CLUSTER-IP       EXTERNAL-IP      PORT(S)                      AGE         SELECTOR
            default         kubernetes                           ClusterIP      10.96.0.1        <none>           443/TCP                      <unknown>   <none>

            NAMESPACE       NAME                                       ADDRESSTYPE   PORTS        ENDPOINTS               AGE
            default         kubernetes                                 IPv4          6443         172.18.0.2              <unknown>
            fixture.yaml:4:27: warning: namespaces "shop" not found: the API server refuses objects in it until it exists (kubectl create namespace shop, or add a Namespace object)
        "#]],
    );
}

#[test]
fn kube_proxy_configuration_sets_the_mode() {
    let text = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nclusterCIDR: 10.244.0.0/16\nipvs: {scheduler: rr}\nconntrack: {maxPerCore: 32768}\n";
    let (cluster, diags) = simulate(&[Source::new("kp.yaml", text)]);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(cluster.settings.proxy_mode, crate::ProxyMode::Ipvs);
    let kp = cluster.settings.kube_proxy.as_ref().unwrap();
    assert_eq!((kp.cluster_cidr.as_str(), kp.ipvs.scheduler.as_str()), ("10.244.0.0/16", "rr"));

    let bad = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: userspace\n";
    let (_, diags) = simulate(&[Source::new("kp.yaml", bad)]);
    assert_eq!(diags.iter().map(ToString::to_string).collect::<Vec<_>>(), ["kp.yaml:1:1: error: KubeProxyConfiguration: mode: Invalid value: \"userspace\": must be iptables, ipvs or nftables"]);
}

#[test]
fn readiness_gates_hold_a_pod_back_until_their_condition_is_true() {
    let text = r#"
apiVersion: v1
kind: Pod
metadata: {name: gated, labels: {app: g}}
spec:
  readinessGates: [{conditionType: "example.com/lb-ready"}]
  containers: [{name: c, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: open, labels: {app: g}}
spec:
  readinessGates: [{conditionType: "example.com/lb-ready"}]
  containers: [{name: c, image: nginx}]
status:
  conditions: [{type: "example.com/lb-ready", status: "True"}]
"#;
    let (cluster, _) = simulate(&[Source::new("g.yaml", text)]);
    assert!(!cluster.pod("default", "gated").unwrap().ready);
    assert!(cluster.pod("default", "open").unwrap().ready);
}

#[test]
fn a_full_calico_block_makes_the_node_claim_another() {
    let text = "apiVersion: podpath.dev/v1alpha1\nkind: Cluster\nspec: {cni: calico, nodes: 1, ingressController: none}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: many}\nspec:\n  replicas: 70\n  selector: {matchLabels: {app: many}}\n  template:\n    metadata: {labels: {app: many}}\n    spec: {containers: [{name: c, image: nginx}]}\n";
    let (cluster, diags) = simulate(&[Source::new("calico.yaml", text)]);
    assert!(diags.is_empty(), "{diags:?}");
    let node = &cluster.nodes[0];
    assert_eq!(node.network.pod_ranges.len(), 2, "{:?}", node.network.pod_ranges);
    let ips: std::collections::BTreeSet<_> =
        cluster.pods.iter().filter(|p| !p.host_network).filter_map(|p| p.ip).collect();
    let pod_network = cluster.pods.iter().filter(|p| !p.host_network).count();
    assert_eq!(ips.len(), pod_network, "no address given twice");
    assert!(ips.iter().all(|ip| node.network.pod_ranges.iter().any(|r| r.contains(ip))));
}

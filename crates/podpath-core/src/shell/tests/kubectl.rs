//! kubectl in the shell: get and describe as kubectl lays them out, the
//! tools' own error messages, history and completion.

use expect_test::expect;

use super::*;

#[test]
fn kubectl_get() {
    check(
        "",
        &[
            "kubectl get pods -n shop -o wide",
            "kubectl get svc -n shop",
            "kubectl get pods -n shop -l app=client -o name",
            "kubectl get pod nope -n shop",
            "kubectl get ep -n shop",
            "kubectl get frobs",
        ],
        expect![[r#"
            $ kubectl get pods -n shop -o wide
            NAME                   READY   STATUS    RESTARTS   AGE         IP                NODE        NOMINATED NODE   READINESS GATES
            big                    0/1     Pending   0          <unknown>   <none>            <none>      <none>           <none>
            client                 1/1     Running   0          <unknown>   192.168.223.194   t-worker2   <none>           <none>
            web-589ccc5944-59b9c   1/1     Running   0          <unknown>   192.168.223.193   t-worker2   <none>           <none>
            web-589ccc5944-hzslc   1/1     Running   0          <unknown>   192.168.247.2     t-worker    <none>           <none>
            $ kubectl get svc -n shop
            NAME    TYPE        CLUSTER-IP      EXTERNAL-IP   PORT(S)   AGE
            empty   ClusterIP   10.109.154.10   <none>        80/TCP    <unknown>
            web     ClusterIP   10.105.26.172   <none>        80/TCP    <unknown>
            $ kubectl get pods -n shop -l app=client -o name
            pod/client
            $ kubectl get pod nope -n shop
            Error from server (NotFound): pods "nope" not found
            [exit 1]
            $ kubectl get ep -n shop
            Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice
            NAME    ENDPOINTS                             AGE
            empty   <none>                                <unknown>
            web     192.168.223.193:80,192.168.247.2:80   <unknown>
            $ kubectl get frobs
            error: the server doesn't have a resource type "frobs"
            [exit 1]
        "#]],
    );
}

#[test]
#[allow(clippy::too_many_lines)] // a transcript: the expected output is the data
fn kubectl_describe() {
    check(
        DENY,
        &[
            "kubectl describe pod client -n shop",
            "kubectl describe pod big -n shop",
            "kubectl describe svc web -n shop",
            "kubectl describe endpoints web -n shop",
            "kubectl describe netpol default-deny -n shop",
        ],
        expect![[r#"
            $ kubectl describe pod client -n shop
            Name:             client
            Namespace:        shop
            Priority:         0
            Service Account:  default
            Node:             t-worker2/172.18.0.4
            Labels:           app=client
            Annotations:      <none>
            Status:           Running
            IP:               192.168.223.194
            IPs:
              IP:  192.168.223.194
            Containers:
              tools:
                Image:          nicolaka/netshoot
                Port:           <none>
                Host Port:      <none>
                State:          Running
                Ready:          True
                Restart Count:  0
                Environment:    <none>
                Mounts:         <none>
            Conditions:
              Type                       Status
              PodReadyToStartContainers  True 
              Initialized                True 
              Ready                      True 
              ContainersReady            True 
              PodScheduled               True 
            QoS Class:                   BestEffort
            Node-Selectors:              <none>
            Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                                         node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
            Events:                      <none>
            $ kubectl describe pod big -n shop
            Name:             big
            Namespace:        shop
            Priority:         0
            Service Account:  default
            Node:             <none>
            Labels:           <none>
            Annotations:      <none>
            Status:           Pending
            IP:               
            IPs:              <none>
            Containers:
              c:
                Image:          busybox
                Port:           <none>
                Host Port:      <none>
                Ready:          False
                Restart Count:  0
                Environment:    <none>
                Mounts:         <none>
            Conditions:
              Type           Status
              PodScheduled   False 
            QoS Class:       BestEffort
            Node-Selectors:  disktype=ssd
            Tolerations:     node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                             node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
            Events:
              Type     Reason            Age        From               Message
              ----     ------            ----       ----               -------
              Warning  FailedScheduling  <unknown>  default-scheduler  0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.
            $ kubectl describe svc web -n shop
            Name:                     web
            Namespace:                shop
            Labels:                   <none>
            Annotations:              <none>
            Selector:                 app=web
            Type:                     ClusterIP
            IP Family Policy:         SingleStack
            IP Families:              IPv4
            IP:                       10.105.26.172
            IPs:                      10.105.26.172
            Port:                     <unset>  80/TCP
            TargetPort:               http/TCP
            Endpoints:                192.168.223.193:80,192.168.247.2:80
            Session Affinity:         None
            Internal Traffic Policy:  Cluster
            Events:                   <none>
            $ kubectl describe endpoints web -n shop
            Name:         web
            Namespace:    shop
            Labels:       <none>
            Annotations:  <none>
            Subsets:
              Addresses:          192.168.223.193,192.168.247.2
              NotReadyAddresses:  <none>
              Ports:
                Name     Port  Protocol
                ----     ----  --------
                <unset>  80    TCP

            Events:  <none>
            $ kubectl describe netpol default-deny -n shop
            Name:         default-deny
            Namespace:    shop
            Labels:       <none>
            Annotations:  <none>
            Spec:
              PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)
              Allowing ingress traffic:
                <none> (Selected pods are isolated for ingress connectivity)
              Allowing egress traffic:
                <none> (Selected pods are isolated for egress connectivity)
              Policy Types: Ingress, Egress
            Events:  <none>

            podpath: selects 4 pod(s) in shop: big, client, web-589ccc5944-59b9c, web-589ccc5944-hzslc
            podpath: their ingress is denied: the policy has no ingress rule (unless another policy allows it)
            podpath: their egress is denied: the policy has no egress rule (unless another policy allows it)
        "#]],
    );
}

#[test]
fn errors_as_the_real_tools_word_them() {
    check(
        "",
        &[
            "kubectl gte pods",
            "kubectl get pods --bogus",
            "kubectl get pods -x",
            "kubectl exec -n shop client -- tracepath web",
            "frob",
            "echo 'open",
            "kubectl exec -n shop big -- curl web",
            "curl",
            "kubectl exec -n shop client -- curl --nope web",
        ],
        expect![[r#"
            $ kubectl gte pods
            error: unknown command "gte" for "kubectl"

            Did you mean this?
            	get

            Run 'kubectl --help' for usage.
            [exit 1]
            $ kubectl get pods --bogus
            error: unknown flag: --bogus
            See 'kubectl get --help' for usage.
            [exit 1]
            $ kubectl get pods -x
            error: unknown shorthand flag: 'x' in -x
            See 'kubectl get --help' for usage.
            [exit 1]
            $ kubectl exec -n shop client -- tracepath web
            error: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "3fed847bd50d19513fdb709bdc6a59aa99b058be8fbf1eeff732bd23e215ddf8": OCI runtime exec failed: exec failed: unable to start container process: exec: "tracepath": executable file not found in $PATH: unknown
            [exit 1]
            $ frob
            bash: frob: command not found
            [exit 127]
            $ echo 'open
            bash: unexpected EOF while looking for matching `''
            bash: syntax error: unexpected end of file
            [exit 2]
            $ kubectl exec -n shop big -- curl web
            Error from server (BadRequest): pod big does not have a host assigned
            [exit 1]
            $ curl
            curl: no URL specified
            curl: try 'curl --help' or 'curl --manual' for more information
            [exit 2]
            $ kubectl exec -n shop client -- curl --nope web
            curl: option --nope: is unknown
            curl: try 'curl --help' or 'curl --manual' for more information
            command terminated with exit code 2
            [exit 2]
        "#]],
    );
}

#[test]
fn history_and_completion() {
    let c = cluster("");
    let mut sh = Shell::new();
    sh.run(&c, "kubectl get pods -n shop");
    sh.run(&c, "kubectl get pods -n shop");
    sh.run(&c, "kubectl get svc -A");
    assert_eq!(sh.history(), ["kubectl get pods -n shop", "kubectl get svc -A"], "a repeated line is kept once");
    assert_eq!(sh.complete(&c, "kub"), ["kubectl"]);
    assert_eq!(sh.complete(&c, "kubectl d"), ["debug", "describe"]);
    assert_eq!(sh.complete(&c, "kubectl get se"), ["services"]);
    assert_eq!(sh.complete(&c, "kubectl -n shop get svc "), ["empty", "web"]);
    assert_eq!(sh.complete(&c, "kubectl exec -n shop c"), ["client"]);
    assert_eq!(sh.complete(&c, "kubectl debug "), ["node/t-control-plane", "node/t-worker", "node/t-worker2"]);
    assert_eq!(sh.complete(&c, "kubectl get pods -n s"), ["shop"]);
    sh.run(&c, "kubectl exec -it -n shop client -- sh");
    assert_eq!(sh.prompt(), "root@client:/# ");
    assert_eq!(sh.complete(&c, "ns"), ["nslookup"]);
}

/// NGINX Gateway Fabric's class, as its install creates it.
const NGINX_CLASS: &str = "
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: nginx}
spec: {controllerName: gateway.nginx.org/nginx-gateway-controller}
";

/// A route asked for by name still shows its Gateway's word on it: the
/// name picks the row, not the objects its status is computed from.
#[test]
fn get_one_httproute_shows_its_parents_status() {
    let gw = &[
        NGINX_CLASS,
        "---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  gatewayClassName: nginx
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: shop}
spec:
  parentRefs: [{name: gw, sectionName: https}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
",
    ]
    .concat();
    let c = cluster(gw);
    let out = session(
        &c,
        &[
            "kubectl get httproute r -n shop -o yaml",
            "kubectl get gateways -n shop",
            "kubectl get httproute -n shop -o name",
        ],
    );
    assert!(out.contains("reason: NoMatchingParent"), "{out}");
    assert!(out.contains("controllerName: gateway.nginx.org/nginx-gateway-controller"), "{out}");
    assert!(out.contains("gw     nginx   172.18.255."), "{out}");
    assert!(out.contains("httproute.gateway.networking.k8s.io/r\n"), "{out}");
}

/// `kubectl describe` of a CRD goes through kubectl's generic describer
/// (describe.go `genericDescriber`, `printUnstructuredContent`,
/// `smartLabelFor`): fields sorted, camelCase split into words, lists of
/// maps one level in. A route that cannot attach says why in its status.
#[test]
fn describe_gateway_api_objects() {
    let gw = &[
        NGINX_CLASS,
        "---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  gatewayClassName: nginx
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    hostname: shop.example.com
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: shop, labels: {app: web}}
spec:
  parentRefs: [{name: gw}]
  hostnames: [other.example.com]
  rules: [{backendRefs: [{name: web, port: 80}]}]
",
    ]
    .concat();
    let c = cluster(gw);
    let out = session(&c, &["kubectl describe httproute r -n shop"]);
    let want = "\
Name:         r
Namespace:    shop
Labels:       app=web
Annotations:  <none>
API Version:  gateway.networking.k8s.io/v1
Kind:         HTTPRoute
Metadata:
  Generation:  1
Spec:
  Hostnames:
    other.example.com
  Parent Refs:
    Name:  gw
  Rules:
    Backend Refs:
      Name:  web
      Port:  80
Status:
  Parents:
    Conditions:
      Last Transition Time:  1970-01-01T00:00:00Z
      Message:               ";
    assert!(out.contains(want), "{out}");
    assert!(out.contains("      Reason:                NoMatchingListenerHostname\n      Status:                False\n      Type:                  Accepted\n"), "{out}");
    assert!(out.contains("    Controller Name:         gateway.nginx.org/nginx-gateway-controller\n    Parent Ref:\n      Group:      gateway.networking.k8s.io\n      Kind:       Gateway\n      Name:       gw\n      Namespace:  shop\n"), "{out}");
    assert!(out.trim_end().lines().last().is_some_and(|l| l.starts_with("Events:") && l.ends_with(" <none>")), "{out}");
    let gw_out = session(&c, &["kubectl describe gtw gw -n shop", "kubectl describe gateway nope -n shop"]);
    assert!(
        gw_out.contains(
            "  Gateway Class Name:  nginx\n  Listeners:\n    Hostname:  shop.example.com\n    Name:      http\n"
        ),
        "{gw_out}"
    );
    assert!(gw_out.contains("  Addresses:\n    Type:   IPAddress\n    Value:  172.18.255."), "{gw_out}");
    assert!(
        gw_out.contains("Error from server (NotFound): gateways.gateway.networking.k8s.io \"nope\" not found"),
        "{gw_out}"
    );
}

/// `ingress2gateway print` at the workstation: its providers read the
/// Ingresses of their class in the namespace (`-n`, default `default`),
/// the objects come out as YAML with the warnings as comments, and
/// without `--providers` it says so as the real tool does.
#[test]
fn ingress2gateway_prints_the_gateway_api_objects() {
    let ing = "
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop, annotations: {nginx.ingress.kubernetes.io/limit-rps: '5'}}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
";
    let c = cluster(ing);
    let out = session(
        &c,
        &[
            "ingress2gateway print",
            "ingress2gateway print --providers=ingress-nginx",
            "ingress2gateway print --providers ingress-nginx -n shop",
        ],
    );
    assert!(out.contains("Error: required flag(s) \"providers\" not set\n"), "{out}");
    assert!(out.contains("Error: no Ingresses found for the providers given\n"), "{out}");
    assert!(out.contains("kind: HTTPRoute\nmetadata:\n  name: web-shop-example-com\n  namespace: shop\n"), "{out}");
    assert!(
        out.contains(
            "# warning: ingress shop/web: annotation nginx.ingress.kubernetes.io/limit-rps: no Gateway API equivalent"
        ),
        "{out}"
    );
}

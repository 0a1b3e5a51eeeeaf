use super::*;

fn one(text: &str) -> (Manifests, Vec<Diagnostic>) {
    load(&[Source::new("in.yaml", text)])
}

fn messages(diags: &[Diagnostic]) -> Vec<String> {
    diags.iter().map(ToString::to_string).collect()
}

#[test]
fn splits_documents_and_keeps_line_numbers() {
    let text = "# header\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n...\n";
    let (m, diags) = one(text);
    assert!(diags.is_empty(), "{diags:?}");
    let lines: Vec<(u32, u32)> = m.objects.iter().map(|o| (o.origin.document, o.origin.line)).collect();
    assert_eq!(lines, vec![(0, 3), (1, 9)]);
}

#[test]
fn syntax_error_points_at_its_line_and_the_rest_still_loads() {
    let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: c}\n";
    let (m, diags) = one(text);
    assert_eq!(m.objects.len(), 2);
    assert_eq!(diags.len(), 1);
    let d = &diags[0];
    assert_eq!((d.origin.document, d.origin.line), (1, 9), "{d}");
    assert_eq!(d.message, "while parsing a flow sequence, expected ',' or ']'", "{d}");
}

#[test]
fn type_error_names_the_field_and_its_place() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: three\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: nginx}]}\n";
    let (m, diags) = one(text);
    assert!(m.objects.is_empty());
    assert_eq!(
        messages(&diags),
        vec!["in.yaml:6:13: error: Deployment web: spec.replicas: invalid type: string \"three\", expected i32"]
    );
}

#[test]
fn missing_kind_and_old_versions_are_errors_unknown_kinds_are_skipped() {
    let text = "apiVersion: v1\nmetadata: {name: x}\n---\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i}\n---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: cert}\n---\napiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: d}\n";
    let (m, diags) = one(text);
    assert_eq!(
        messages(&diags),
        vec![
            "in.yaml:1:1: error: object has no kind; every Kubernetes object needs both",
            "in.yaml:4:1: error: no matches for kind \"Ingress\" in version \"extensions/v1beta1\"; use apiVersion: networking.k8s.io/v1",
            // A misspelt kind of a built-in group: `kubectl apply` fails
            // ("no matches for kind"), where an unknown group may be a CRD.
            "in.yaml:12:1: error: no matches for kind \"Deploymnet\" in version \"apps/v1\"; did you mean \"Deployment\"? (podpath leaves it out)",
        ]
    );
    let skipped: Vec<&str> = m.skipped.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(skipped, vec!["Certificate"]);
}

#[test]
fn list_items_load_with_their_own_lines() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n  spec: {containers: 7}\nmetadata: {resourceVersion: \"\"}\n";
    let (m, diags) = one(text);
    assert_eq!(m.objects.len(), 1);
    assert_eq!(m.objects[0].origin.line, 4);
    assert_eq!(diags.len(), 1);
    // At the field that is wrong, inside the second item.
    assert_eq!((diags[0].origin.line, diags[0].origin.column), (10, 22));
    assert!(diags[0].message.starts_with("items[1]: Pod p: spec.containers: "), "{}", diags[0]);
}

#[test]
fn json_input_loads() {
    let text = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Namespace\",\n  \"metadata\": {\"name\": \"j\"}\n}\n";
    let (m, diags) = one(text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(m.objects.len(), 1);
}

#[test]
fn non_objects_are_reported() {
    let (_, diags) = one("- a\n- b\n");
    assert_eq!(
        messages(&diags),
        vec!["in.yaml:1:1: error: expected a Kubernetes object (a mapping with apiVersion and kind), found a sequence"]
    );
}

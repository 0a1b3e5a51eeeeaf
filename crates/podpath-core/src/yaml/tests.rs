use super::de::from_node;
use super::*;

fn doc(text: &str) -> Node {
    parse(text, 1).unwrap_or_else(|e| panic!("{}:{}: {}", e.mark.line, e.mark.column, e.message))
}

fn plain(text: &str) -> Resolved<'_> {
    resolve_plain(text)
}

/// The core schema's tag resolution, YAML 1.2.2 §10.3.2: the table of
/// plain scalars and what they are.
#[test]
fn plain_scalars_resolve_by_the_core_schema() {
    for null in ["", "~", "null", "Null", "NULL"] {
        assert_eq!(plain(null), Resolved::Null, "{null:?}");
    }
    assert_eq!(plain("true"), Resolved::Bool(true));
    assert_eq!(plain("FALSE"), Resolved::Bool(false));
    assert_eq!(plain("0"), Resolved::Int(0));
    assert_eq!(plain("-19"), Resolved::Int(-19));
    assert_eq!(plain("+12"), Resolved::Int(12));
    assert_eq!(plain("0o14"), Resolved::Int(12));
    assert_eq!(plain("0x1F"), Resolved::Int(31));
    assert_eq!(plain("18446744073709551615"), Resolved::Uint(u64::MAX));
    assert_eq!(plain("1."), Resolved::Float(1.0));
    assert_eq!(plain("-.5"), Resolved::Float(-0.5));
    assert_eq!(plain("2.3e4"), Resolved::Float(23000.0));
    assert_eq!(plain("-.inf"), Resolved::Float(f64::NEG_INFINITY));
    assert!(matches!(plain(".NaN"), Resolved::Float(f) if f.is_nan()));
    // YAML 1.1's booleans and sexagesimals are strings in 1.2, as are
    // things that only look numeric.
    for s in ["yes", "on", "Off", "1:20", "0x", "1e", "500m", "10.96.0.1", "e3", "0b101", "."] {
        assert_eq!(plain(s), Resolved::Str(s), "{s:?}");
    }
}

#[test]
fn quoted_and_tagged_scalars_are_strings() {
    let n = doc("a: '80'\nb: \"true\"\nc: !!str 443\nd: |\n  x\ne: !!int 7\n");
    let values: Vec<Resolved<'_>> = n
        .as_map()
        .unwrap()
        .iter()
        .map(|(_, v)| match &v.kind {
            Kind::Scalar(s) => s.resolve(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        values,
        vec![Resolved::Str("80"), Resolved::Str("true"), Resolved::Str("443"), Resolved::Str("x\n"), Resolved::Int(7)]
    );
}

#[test]
fn every_node_knows_its_line_and_column() {
    let n = doc("apiVersion: v1\nspec:\n  ports:\n  - port: 80\n    targetPort: http\n");
    assert_eq!(n.mark, Mark { line: 1, column: 1 });
    let (key, ports) = n.get("spec").unwrap().entry("ports").unwrap();
    assert_eq!(key.mark, Mark { line: 3, column: 3 });
    let item = &ports.as_seq().unwrap()[0];
    assert_eq!(item.get("targetPort").unwrap().mark, Mark { line: 5, column: 17 });
}

#[test]
fn lines_count_from_the_documents_place_in_its_file() {
    let n = parse("kind: Pod\nmetadata: {name: a}\n", 40).unwrap();
    assert_eq!(n.get("metadata").unwrap().get("name").unwrap().mark, Mark { line: 41, column: 18 });
}

#[test]
fn a_path_finds_its_field_or_the_nearest_written_one() {
    let n = doc("spec:\n  ports:\n  - port: 80\n  - port: 443\n    nodePort: 30443\n");
    assert_eq!(n.find("spec.ports[1].nodePort"), Mark { line: 5, column: 5 });
    assert_eq!(n.find("spec.ports[0]"), Mark { line: 3, column: 5 });
    // The API server's `ports[]` names no item: the list's key.
    assert_eq!(n.find("spec.ports[].nodePort"), Mark { line: 2, column: 3 });
    // A defaulted field that is not written: the nearest one that is.
    assert_eq!(n.find("spec.ports[0].protocol"), Mark { line: 3, column: 5 });
    assert_eq!(n.find("spec.clusterIP"), Mark { line: 1, column: 1 });
    assert_eq!(n.find(""), Mark { line: 1, column: 1 });
}

#[test]
fn aliases_are_expanded_within_a_budget() {
    let n = doc("a: &x {k: v}\nb: *x\n");
    assert_eq!(n.get("b").unwrap().get("k").unwrap().as_str(), Some("v"));
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..8 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let e = parse(&bomb, 1).unwrap_err();
    assert_eq!(e.message, "repetition limit exceeded");
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("data: {}1{}\n", "[".repeat(200), "]".repeat(200));
    let e = parse(&deep, 1).unwrap_err();
    assert_eq!(e.message, "recursion limit exceeded");
    assert_eq!(e.mark.line, 1);
    let ok = format!("data: {}1{}\n", "[".repeat(100), "]".repeat(100));
    assert!(parse(&ok, 1).is_ok());
}

#[test]
fn control_characters_are_refused_where_they_are() {
    let e = parse("kind: Pod\nname: a\u{1}b\n", 10).unwrap_err();
    assert_eq!((e.mark.line, e.mark.column), (11, 8));
    assert!(e.message.starts_with("control characters are not allowed"), "{}", e.message);
}

#[test]
fn syntax_errors_carry_their_place() {
    let e = parse("a: [1, 2\nb: c\n", 1).unwrap_err();
    assert_eq!(e.mark.line, 2, "{e:?}");
    let e = parse("a:\n\tb: 1\n", 1).unwrap_err();
    assert_eq!(e.mark.line, 2, "{e:?}");
}

#[derive(Debug, serde::Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Port {
    port: i32,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, serde::Deserialize, PartialEq)]
struct Spec {
    ports: Vec<Port>,
}

#[test]
fn type_errors_name_the_path_and_point_at_the_value() {
    let n = doc("ports:\n- port: 80\n- name: web\n  port: eighty\n");
    let e = from_node::<Spec>(&n).unwrap_err();
    assert_eq!(e.to_string(), "ports[1].port: invalid type: string \"eighty\", expected i32");
    assert_eq!(e.mark, Some(Mark { line: 4, column: 9 }));
    let n = doc("ports:\n- name: web\n");
    let e = from_node::<Spec>(&n).unwrap_err();
    assert_eq!(e.to_string(), "ports[0]: missing field `port`");
    assert_eq!(e.mark, Some(Mark { line: 2, column: 3 }));
}

#[test]
fn plain_scalars_read_as_text_where_text_is_wanted() {
    // As serde_yaml reads them: `name: 8080` is the string "8080", a
    // quoted number is not a number.
    let n = doc("ports:\n- {port: 80, name: 8080}\n");
    let spec: Spec = from_node(&n).unwrap();
    assert_eq!(spec.ports[0], Port { port: 80, name: Some("8080".into()) });
    let n = doc("ports:\n- {port: \"80\"}\n");
    assert!(from_node::<Spec>(&n).is_err());
}

#[derive(Debug, serde::Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
enum Check {
    Ready,
    Trace { to: String },
}

#[test]
fn enums_are_a_string_or_a_mapping_of_one_key() {
    assert_eq!(from_node::<Check>(&doc("ready")).unwrap(), Check::Ready);
    assert_eq!(from_node::<Check>(&doc("trace: {to: web}")).unwrap(), Check::Trace { to: "web".into() });
    let e = from_node::<Check>(&doc("trace: {too: web}")).unwrap_err();
    assert_eq!(e.to_string(), "trace: missing field `to`");
    let e = from_node::<Check>(&doc("\nredy")).unwrap_err();
    assert!(e.to_string().starts_with("unknown variant `redy`"), "{e}");
    assert_eq!(e.mark, Some(Mark { line: 2, column: 1 }));
}

#[test]
fn kubernetes_types_read_from_the_tree() {
    use k8s_openapi::api::core::v1::Service;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let n = doc("apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {tier: \"1\"}}\nspec:\n  ports:\n  - {port: 80, targetPort: http}\n  - {port: 443, targetPort: 8443}\n");
    let s: Service = from_node(&n).unwrap();
    let ports = s.spec.unwrap().ports.unwrap();
    assert_eq!(ports[0].target_port, Some(IntOrString::String("http".into())));
    assert_eq!(ports[1].target_port, Some(IntOrString::Int(8443)));
    assert_eq!(s.metadata.labels.unwrap()["tier"], "1");
}

use serde_json::json;

use super::*;

fn one(s: &str) -> String {
    to_string(&json!({ "v": s }))
}

/// kubectl's `-o yaml` of a list: the empty resourceVersion double-quoted,
/// sequences of a mapping not indented, a mapping in a sequence item
/// starting on the item's line.
#[test]
fn a_list_as_kubectl_prints_it() {
    let list = json!({
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": [{
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27", "args": ["-c", "echo hi"], "ports": [{"containerPort": 80}]}]},
            "status": {"podIPs": [], "phase": "Running"}
        }]
    });
    expect_test::expect![[r#"
        apiVersion: v1
        items:
        - apiVersion: v1
          kind: Pod
          metadata:
            annotations: {}
            labels:
              app: web
            name: web
          spec:
            containers:
            - args:
              - -c
              - echo hi
              image: nginx:1.27
              name: c
              ports:
              - containerPort: 80
          status:
            phase: Running
            podIPs: []
        kind: List
        metadata:
          resourceVersion: ""
    "#]]
    .assert_eq(&to_string(&list));
}

/// encode.go `stringv`: a string that would read back as something else
/// is double-quoted: null and YAML 1.1 booleans, numbers in Go's forms,
/// timestamps, base-60 floats, the merge key.
#[test]
fn strings_that_read_back_as_other_types_are_double_quoted() {
    for s in [
        "",
        "~",
        "null",
        "yes",
        "No",
        "on",
        "OFF",
        "y",
        "true",
        "1",
        "-1",
        "+7",
        "0x1F",
        "0o17",
        "017",
        "08",
        "1_000",
        "0b101",
        "-0b1",
        "1.5",
        "1e3",
        "-2.5E-3",
        ".5",
        ".inf",
        "-.Inf",
        ".nan",
        "1:20",
        "-1:30:00.5",
        "2024-01-15T10:30:00Z",
        "2024-1-5",
        "2024-01-15 10:30:00",
        "2024-01-15t10:30:00.123+02:00",
        "<<",
    ] {
        assert_eq!(one(s), format!("v: \"{s}\"\n"), "{s:?}");
    }
}

#[test]
fn strings_that_stay_strings_are_plain() {
    for s in [
        "web",
        "10.96.0.1",
        "172.18.0.3",
        "nginx:1.27",
        "-c",
        "a-b",
        "http://x.y/z?a=1",
        "app.kubernetes.io/name",
        "500m",
        "1Gi",
        "2024-13-01",
        "2024-02-30",
        "1.2.3",
        "0x",
        "e3",
        "yess",
        "kube-system/kube-dns",
        "a#b",
        "a:b",
        "Ünïcode",
        "-",
        "60s",
    ] {
        let got = one(s);
        if s == "-" {
            // A lone `-` is a sequence indicator: single-quoted instead.
            assert_eq!(got, "v: '-'\n");
            continue;
        }
        assert_eq!(got, format!("v: {s}\n"), "{s:?}");
    }
}

/// emitterc.go: plain text that the analysis refuses (an indicator first,
/// `: ` or ` #` inside, space at an end) is single-quoted, a quote doubled.
#[test]
fn plain_text_the_emitter_refuses_is_single_quoted() {
    for (s, want) in [
        ("- x", "'- x'"),
        ("*", "'*'"),
        ("&a", "'&a'"),
        ("!x", "'!x'"),
        ("%x", "'%x'"),
        ("@x", "'@x'"),
        ("`x", "'`x'"),
        ("'q", "'''q'"),
        ("\"q", "'\"q'"),
        ("{a}", "'{a}'"),
        ("[a]", "'[a]'"),
        ("#x", "'#x'"),
        ("a: b", "'a: b'"),
        ("a #b", "'a #b'"),
        (" lead", "' lead'"),
        ("trail ", "'trail '"),
        ("---x", "'---x'"),
        ("? x", "'? x'"),
        ("it's: x", "'it''s: x'"),
    ] {
        assert_eq!(one(s), format!("v: {want}\n"), "{s:?}");
    }
}

/// Tabs and other unprintable characters are escaped in double quotes.
#[test]
fn unprintable_characters_are_escaped() {
    assert_eq!(one("a\tb"), "v: \"a\\tb\"\n");
    assert_eq!(one("bell\u{7}"), "v: \"bell\\a\"\n");
    assert_eq!(one("del\u{7f}"), "v: \"del\\x7F\"\n");
    assert_eq!(one("bom\u{feff}"), "v: \"bom\\uFEFF\"\n");
    assert_eq!(one("emoji 😀"), "v: \"emoji \\U0001F600\"\n");
}

/// A string with line breaks is a literal block, with the chomping its
/// ending needs, unless a line ends in a space (then double-quoted).
#[test]
fn multi_line_strings_are_literal_blocks() {
    assert_eq!(one("a\nb"), "v: |-\n  a\n  b\n");
    assert_eq!(one("a\nb\n"), "v: |\n  a\n  b\n");
    assert_eq!(one("a\n\n"), "v: |+\n  a\n\n");
    assert_eq!(one("a\n\nb\n"), "v: |\n  a\n\n  b\n");
    assert_eq!(one("  indented\nx\n"), "v: |2\n    indented\n  x\n");
    assert_eq!(one("trailing \nx"), "v: \"trailing \\nx\"\n");
    let nested = to_string(&json!({"data": {"Corefile": ".:53 {\n    errors\n}\n"}, "args": ["sh", "x\ny"]}));
    assert_eq!(nested, "args:\n- sh\n- |-\n  x\n  y\ndata:\n  Corefile: |\n    .:53 {\n        errors\n    }\n");
}

/// sorter.go `keyList.Less`: digits by value, other characters before
/// letters, letters by rune; a digit against another non-letter compares
/// numbers, so `_x` (no number, 0) sorts before `1`.
#[test]
fn keys_sort_in_go_yaml_natural_order() {
    let v = json!({"a10": 1, "a9": 1, "b": 1, "B": 1, "_x": 1, "a-b": 1, "ab": 1, "1": 1, "10": 1, "2": 1});
    let keys: Vec<String> = to_string(&v).lines().map(|l| l.split(':').next().unwrap().to_owned()).collect();
    assert_eq!(keys, ["_x", "\"1\"", "\"2\"", "\"10\"", "B", "a-b", "a9", "a10", "ab", "b"]);
}

#[test]
fn nested_sequences_numbers_and_empties() {
    let v = json!({"m": [[1, 2], [], {}], "f": 0.5, "big": 1000000.0, "small": 0.00001, "n": null, "t": true, "i": -3});
    assert_eq!(
        to_string(&v),
        // A key is a string like any other: `n` is a YAML 1.1 boolean.
        "big: 1e+06\nf: 0.5\ni: -3\nm:\n- - 1\n  - 2\n- []\n- {}\n\"n\": null\nsmall: 1e-05\nt: true\n"
    );
    assert_eq!(to_string(&json!({})), "{}\n");
    assert_eq!(to_string(&json!([])), "[]\n");
}

/// What `-o yaml` prints reads back as the same value: the pods, nodes and
/// Services of the bundled shop scenario, and strings chosen to need each
/// quoting style.
#[test]
fn what_is_written_reads_back_the_same() {
    use crate::kubectl::{nodes_list, pods_list, services_list, Scope};
    let text = include_str!("../../../../../web/scenarios/shop.yaml");
    let (cluster, _) = crate::simulate(&[crate::Source::new("shop.yaml", text)]);
    let long =
        "a very long string that might have to be broken into multiple lines in order to fit nicely in the output pane";
    let odd = json!({"s": ["", "yes", "1:20", "- x", "a: b", " lead", "tab\there", "x\ny", "x\n\n", "trail \nx", "😀", "2024-01-15T10:30:00Z",
        long, format!("{long}: and a colon"), format!("\t{long}  with  double  spaces  past  the  fold  and  more  words  here")]});
    for value in [pods_list(&cluster, &Scope::All), nodes_list(&cluster), services_list(&cluster, &Scope::All), odd] {
        let text = to_string(&value);
        let node = crate::yaml::parse(&text, 1).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        let back: Value = crate::yaml::de::from_node(&node).unwrap();
        assert_eq!(back, value, "{text}");
    }
}

/// Long values fold at the first space past column 80 and go on two
/// columns in, as kubectl's encoder does (kubernetes-sigs/yaml#68 for plain
/// text, #116 for single-quoted text, whose output this reproduces); keys
/// never fold.
#[test]
fn long_values_fold_past_eighty_columns() {
    let text =
        "a very long string that might have to be broken into multiple lines in order to fit nicely in the output pane";
    assert_eq!(
        to_string(&json!({ "foo": text })),
        "foo: a very long string that might have to be broken into multiple lines in order\n  to fit nicely in the output pane\n"
    );
    let digits = "12345678901234567890123456789012345678901234567890123456789012341234567890123456789012345678901234567890123456789012345678901234";
    assert_eq!(to_string(&json!({ "a": format!("{digits}: .s") })), format!("a: '{digits}:\n  .s'\n"));
    // Nested: the continuation is two columns in from the key.
    let folded = to_string(&json!({ "spec": { "note": text } }));
    assert!(folded.contains("in order\n    to fit"), "{folded}");
    let long_key = "k".repeat(90) + " x";
    assert!(to_string(&json!({ long_key.clone(): 1 })).starts_with(&format!("{long_key}: 1")));
}

//! `kubectl describe` of the kinds kubectl has no describer for (every
//! CRD, the Gateway API's among them): its generic describer, which prints
//! the object's content field by field.

use super::describe::{labels, tabwrite};

/// kubectl's generic describer, which prints the kinds it has no describer
/// of its own for (every CRD: the Gateway API's, say) from the object's
/// content (`genericDescriber` and `printUnstructuredContent`): name,
/// namespace, labels and annotations, then every field in sorted order
/// with a smart label (`gatewayClassName` → `Gateway Class Name`), maps
/// and lists one level deeper, and `Events: <none>`.
pub(super) fn describe(obj: &serde_json::Value) -> String {
    let meta = &obj["metadata"];
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let mut w = format!("Name:\t{}\nNamespace:\t{}\n", text(&meta["name"]), text(&meta["namespace"]));
    let strings = |v: &serde_json::Value| -> std::collections::BTreeMap<String, String> {
        v.as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect()
    };
    w.push_str(&labels("Labels", &strings(&meta["labels"]), ""));
    w.push_str(&labels("Annotations", &strings(&meta["annotations"]), ""));
    let skip = [
        ".metadata.managedFields",
        ".metadata.name",
        ".metadata.namespace",
        ".metadata.labels",
        ".metadata.annotations",
    ];
    content(&mut w, 0, obj, "", &skip);
    w.push_str("Events:\t<none>\n");
    tabwrite(&w)
}

fn content(w: &mut String, level: usize, obj: &serde_json::Value, prefix: &str, skip: &[&str]) {
    let Some(map) = obj.as_object() else { return };
    let mut fields: Vec<&String> = map.keys().collect();
    crate::order::sort(&mut fields);
    let indent = "  ".repeat(level);
    for field in fields {
        let path = format!("{prefix}.{field}");
        if skip.contains(&path.as_str()) {
            continue;
        }
        let label = smart_label(field);
        match &map[field] {
            v @ serde_json::Value::Object(_) => {
                w.push_str(&format!("{indent}{label}:\n"));
                content(w, level + 1, v, &path, skip);
            }
            serde_json::Value::Array(items) => {
                w.push_str(&format!("{indent}{label}:\n"));
                for item in items {
                    if item.is_object() {
                        content(w, level + 1, item, &path, skip);
                    } else {
                        w.push_str(&format!("{indent}  {}\n", scalar(item)));
                    }
                }
            }
            v => w.push_str(&format!("{indent}{label}:\t{}\n", scalar(v))),
        }
    }
}

/// A value as Go's `%v` prints it from unstructured content.
fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "<nil>".into(),
        other => other.to_string(),
    }
}

/// kubectl's `smartLabelFor`: a field of letters (and `-`) split at its
/// case changes, each word capitalised, common acronyms upper-cased;
/// anything else as it is.
fn smart_label(field: &str) -> String {
    if field.chars().any(|c| !c.is_alphabetic() && c != '-') {
        return field.to_owned();
    }
    camel_split(field)
        .into_iter()
        .filter(|p| p != "_")
        .map(|p| {
            let upper = p.to_uppercase();
            if ["API", "URL", "UID", "OSB", "GUID"].contains(&upper.as_str()) {
                upper
            } else {
                let mut c = p.chars();
                c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// fatih/camelcase's Split: runs of one character class (lower, upper,
/// digit, other), where an upper-case run followed by lower case gives
/// its last letter to the next word (`HTTPRoute` → `HTTP`, `Route`).
fn camel_split(s: &str) -> Vec<String> {
    let class = |c: char| {
        if c.is_lowercase() {
            1
        } else if c.is_uppercase() {
            2
        } else if c.is_numeric() {
            3
        } else {
            4
        }
    };
    let mut runs: Vec<Vec<char>> = Vec::new();
    let mut last = 0;
    for c in s.chars() {
        let k = class(c);
        match runs.last_mut() {
            Some(run) if k == last => run.push(c),
            _ => runs.push(vec![c]),
        }
        last = k;
    }
    for i in 0..runs.len().saturating_sub(1) {
        let (Some(a), Some(b)) = (runs[i].first(), runs[i + 1].first()) else { continue };
        if a.is_uppercase() && b.is_lowercase() {
            if let Some(moved) = runs[i].pop() {
                runs[i + 1].insert(0, moved);
            }
        }
    }
    runs.into_iter().filter(|r| !r.is_empty()).map(|r| r.into_iter().collect()).collect()
}

//! Label selectors, as the API machinery evaluates them.
//!
//! [`Selector`] is `metav1.LabelSelector` (matchLabels and matchExpressions
//! with In, NotIn, Exists, DoesNotExist), used by workloads, Services and
//! policies; [`NodeSelectorTerm`] adds Gt and Lt for node affinity.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

pub type Labels = BTreeMap<String, String>;

/// One requirement of a selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
    /// Node affinity only: the label's value, as an integer, is greater.
    Gt(String, i64),
    Lt(String, i64),
}

impl Requirement {
    pub fn matches(&self, labels: &Labels) -> bool {
        self.matches_by(|k| labels.get(k).map(String::as_str))
    }

    /// Against the values `get` looks up by key (labels, or labels and
    /// fields together), without building a map of them.
    pub fn matches_by<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        let has = |vs: &[String], v: &str| vs.iter().any(|x| x == v);
        match self {
            Requirement::In(k, vs) => get(k).is_some_and(|v| has(vs, v)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|v| !has(vs, v)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
            Requirement::Gt(k, n) => get(k).and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v > *n),
            Requirement::Lt(k, n) => get(k).and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v < *n),
        }
    }
}

/// kubectl's selector syntax: `app=web,tier in (a,b),!legacy`.
impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::In(k, vs) if vs.len() == 1 => write!(f, "{k}={}", vs[0]),
            Requirement::In(k, vs) => write!(f, "{k} in ({})", vs.join(",")),
            Requirement::NotIn(k, vs) if vs.len() == 1 => write!(f, "{k}!={}", vs[0]),
            Requirement::NotIn(k, vs) => write!(f, "{k} notin ({})", vs.join(",")),
            Requirement::Exists(k) => write!(f, "{k}"),
            Requirement::DoesNotExist(k) => write!(f, "!{k}"),
            Requirement::Gt(k, n) => write!(f, "{k}>{n}"),
            Requirement::Lt(k, n) => write!(f, "{k}<{n}"),
        }
    }
}

/// A conjunction of requirements. The empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    pub requirements: Vec<Requirement>,
}

impl Selector {
    /// kubectl's `-l` syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin
    /// (x)`, `a`, `!a`, joined by commas.
    pub fn parse(s: &str) -> Result<Selector, String> {
        let mut terms = Vec::new();
        let mut depth = 0;
        let mut cur = String::new();
        for c in s.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    terms.push(std::mem::take(&mut cur));
                    continue;
                }
                _ => {}
            }
            cur.push(c);
        }
        terms.push(cur);
        let mut requirements = Vec::new();
        for t in terms {
            let t = t.trim();
            let set = |v: &str| -> Vec<String> {
                v.trim().trim_start_matches('(').trim_end_matches(')').split(',').map(|x| x.trim().to_owned()).collect()
            };
            let r = if let Some(k) = t.strip_prefix('!') {
                Requirement::DoesNotExist(k.trim().to_owned())
            } else if let Some((k, v)) = t.split_once(" notin ") {
                Requirement::NotIn(k.trim().to_owned(), set(v))
            } else if let Some((k, v)) = t.split_once(" in ") {
                Requirement::In(k.trim().to_owned(), set(v))
            } else if let Some((k, v)) = t.split_once("!=") {
                Requirement::NotIn(k.trim().to_owned(), vec![v.trim().to_owned()])
            } else if let Some((k, v)) = t.split_once("==").or_else(|| t.split_once('=')) {
                Requirement::In(k.trim().to_owned(), vec![v.trim().to_owned()])
            } else if !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)) {
                Requirement::Exists(t.to_owned())
            } else {
                return Err(format!("unable to parse requirement: found '{t}', expected: identifier"));
            };
            requirements.push(r);
        }
        Ok(Selector { requirements })
    }

    /// Converts a `LabelSelector`, or says why the API server would refuse it.
    pub fn from_label_selector(sel: &LabelSelector) -> Result<Selector, String> {
        let mut requirements: Vec<Requirement> =
            sel.match_labels.iter().flatten().map(|(k, v)| Requirement::In(k.clone(), vec![v.clone()])).collect();
        for (i, e) in sel.match_expressions.iter().flatten().enumerate() {
            let values = e.values.clone().unwrap_or_default();
            let r = match e.operator.as_str() {
                "In" | "NotIn" if values.is_empty() => {
                    return Err(format!("matchExpressions[{i}].values: must be specified when operator is {}", e.operator))
                }
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    return Err(format!("matchExpressions[{i}].values: may not be specified when operator is {}", e.operator))
                }
                "In" => Requirement::In(e.key.clone(), values),
                "NotIn" => Requirement::NotIn(e.key.clone(), values),
                "Exists" => Requirement::Exists(e.key.clone()),
                "DoesNotExist" => Requirement::DoesNotExist(e.key.clone()),
                other => {
                    return Err(format!(
                        "matchExpressions[{i}].operator: Unsupported value: \"{other}\": supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\""
                    ))
                }
            };
            requirements.push(r);
        }
        Ok(Selector { requirements })
    }

    /// A selector from plain `key: value` pairs (Service and nodeSelector).
    pub fn from_map(map: &BTreeMap<String, String>) -> Selector {
        Selector { requirements: map.iter().map(|(k, v)| Requirement::In(k.clone(), vec![v.clone()])).collect() }
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// [`Selector::matches`] against the values `get` looks up by key.
    pub fn matches_by<'a>(&self, get: impl Fn(&str) -> Option<&'a str> + Copy) -> bool {
        self.requirements.iter().all(|r| r.matches_by(get))
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// A `nodeSelectorTerm`: its matchExpressions over node labels, ANDed.
/// (matchFields on `metadata.name` is folded in as a label requirement on a
/// reserved key by the caller.)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeSelectorTerm(pub Selector);

impl NodeSelectorTerm {
    pub fn from_term(term: &core::NodeSelectorTerm) -> Result<NodeSelectorTerm, String> {
        let mut requirements = Vec::new();
        let exprs = term.match_expressions.iter().flatten().map(|e| ("", e));
        let fields = term.match_fields.iter().flatten().map(|e| (NODE_NAME_FIELD, e));
        for (prefix, e) in exprs.chain(fields) {
            let key = if prefix.is_empty() { e.key.clone() } else { prefix.to_owned() };
            let values = e.values.clone().unwrap_or_default();
            let int = |vs: &[String]| -> Result<i64, String> {
                match vs {
                    [v] => v.parse().map_err(|_| format!("{}: value \"{v}\" is not an integer", e.operator)),
                    _ => Err(format!("{} needs exactly one value", e.operator)),
                }
            };
            requirements.push(match e.operator.as_str() {
                "In" => Requirement::In(key, values),
                "NotIn" => Requirement::NotIn(key, values),
                "Exists" => Requirement::Exists(key),
                "DoesNotExist" => Requirement::DoesNotExist(key),
                "Gt" => Requirement::Gt(key, int(&values)?),
                "Lt" => Requirement::Lt(key, int(&values)?),
                other => return Err(format!("unsupported node selector operator \"{other}\"")),
            });
        }
        Ok(NodeSelectorTerm(Selector { requirements }))
    }
}

/// The pseudo-label under which a node's name is matched by `matchFields`.
pub const NODE_NAME_FIELD: &str = "metadata.name";

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let sel = LabelSelector {
            match_labels: Some([("app".to_string(), "web".to_string())].into()),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "NotIn".into(),
                values: Some(vec!["db".into()]),
            }]),
        };
        let s = Selector::from_label_selector(&sel).unwrap();
        assert_eq!(s.to_string(), "app=web,tier!=db");
        assert!(s.matches(&labels(&[("app", "web")])));
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "fe")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "db")])));
        assert!(!s.matches(&labels(&[("tier", "fe")])));
        assert!(Selector::default().matches(&labels(&[])));
    }

    #[test]
    fn bad_operator_is_reported_as_the_api_server_does() {
        let sel = LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "a".into(),
                operator: "Equals".into(),
                values: Some(vec!["b".into()]),
            }]),
        };
        let err = Selector::from_label_selector(&sel).unwrap_err();
        assert!(err.starts_with("matchExpressions[0].operator: Unsupported value: \"Equals\""), "{err}");
    }

    #[test]
    fn gt_and_lt_compare_integers() {
        let l = labels(&[("gen", "5")]);
        assert!(Requirement::Gt("gen".into(), 4).matches(&l));
        assert!(!Requirement::Gt("gen".into(), 5).matches(&l));
        assert!(Requirement::Lt("gen".into(), 6).matches(&l));
        assert!(!Requirement::Lt("other".into(), 6).matches(&l));
    }
}

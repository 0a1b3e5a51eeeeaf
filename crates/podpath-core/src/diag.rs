//! Diagnostics: what is wrong with the input, and exactly where.
//!
//! Every stage returns its result *and* a list of diagnostics rather than
//! stopping at the first problem, so one bad document never hides the others.

use std::fmt;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub enum Severity {
    /// Not a problem: what podpath worked out from the input instead of
    /// reading it from a setting (a live cluster's CNI, its CIDRs, a node
    /// only its pods name), and the object it came from.
    Note,
    /// The real system would accept it, but it usually breaks networking.
    Warning,
    /// The input (or this part of it) cannot be used as written.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A place in the input: file, YAML document (0-based) and 1-based line and
/// column in the file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Origin {
    pub file: String,
    pub document: u32,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One problem found in the input.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "wire", derive(serde::Serialize, serde::Deserialize))]
pub struct Diagnostic {
    pub origin: Origin,
    pub severity: Severity,
    /// Lower-case, no trailing period, as compilers print them.
    pub message: String,
    /// The API server would refuse this, though the components that would
    /// see it can still process it (a nodePort outside the range, say): it
    /// is simulated with a warning, and `podpath lint` calls it an error.
    pub api_rejects: bool,
    /// The field the diagnostic is about, as the API server names it
    /// (`spec.ports[0].nodePort`), relative to the document (a `List`
    /// item's fields start with `items[N]`). Read from the message when
    /// the message starts with one, or given with [`Diagnostic::at_field`].
    pub field: Option<String>,
    /// Whether `origin` is already the field's place; until then it is the
    /// object's first line, and [`crate::load::place`] moves it.
    pub placed: bool,
}

impl Diagnostic {
    pub fn error(origin: Origin, message: impl Into<String>) -> Self {
        Diagnostic::new(origin, Severity::Error, message.into())
    }

    pub fn warning(origin: Origin, message: impl Into<String>) -> Self {
        Diagnostic::new(origin, Severity::Warning, message.into())
    }

    /// What podpath inferred, and from where (see [`Severity::Note`]).
    pub fn note(origin: Origin, message: impl Into<String>) -> Self {
        Diagnostic::new(origin, Severity::Note, message.into())
    }

    fn new(origin: Origin, severity: Severity, message: String) -> Self {
        let field = field_in(&message);
        Diagnostic { origin, severity, message, api_rejects: false, field, placed: false }
    }

    /// The diagnostic is about this field (a path from the document's
    /// root, as in the API server's messages).
    pub fn at_field(mut self, path: impl Into<String>) -> Self {
        self.field = Some(path.into());
        self
    }

    /// The origin is already where the problem is (a YAML or type error
    /// located by the parser): nothing moves it.
    pub fn placed(mut self) -> Self {
        self.placed = true;
        self
    }

    /// What the API server would reject but can still be simulated.
    pub fn rejected(origin: Origin, message: impl Into<String>) -> Self {
        Diagnostic { api_rejects: true, ..Diagnostic::warning(origin, message) }
    }

    /// As `podpath lint` sees it: the API server's refusals are errors.
    pub fn strict(&self) -> Diagnostic {
        let mut d = self.clone();
        if d.api_rejects {
            d.severity = Severity::Error;
        }
        d
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The field path a message names, the way the API server and serde write
/// them: the first `: `-separated part that reads as a path
/// (`spec.ports[0].port`, `metadata.name`), after the object's name
/// ("service default/web: "); a leading `items[N]` of a `List` joins the
/// path that follows it.
fn field_in(message: &str) -> Option<String> {
    let mut parts = message.split(": ");
    let mut item: Option<&str> = None;
    let is_path = |p: &str| {
        !p.is_empty()
            && p.starts_with(|c: char| c.is_ascii_lowercase())
            && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '[' | ']' | '-' | '_'))
            && (p.contains('.') || p.contains('['))
    };
    for part in parts.by_ref().take(4) {
        if !is_path(part) {
            continue;
        }
        if part.starts_with("items[") && !part.contains('.') && item.is_none() {
            item = Some(part);
            continue;
        }
        return Some(match item {
            Some(first) => format!("{first}.{part}"),
            None => part.to_owned(),
        });
    }
    item.map(str::to_owned)
}

/// `FILE:LINE:COL: error: MESSAGE`, the form editors and CI logs understand.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.origin, self.severity, self.message)
    }
}

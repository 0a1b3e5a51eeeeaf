//! Diagnostics: what is wrong with the input, and exactly where.
//!
//! Every stage returns its result *and* a list of diagnostics rather than
//! stopping at the first problem, so one bad document never hides the others.

use std::fmt;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The real system would accept it, but it usually breaks networking.
    Warning,
    /// The input (or this part of it) cannot be used as written.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A place in the input: file, YAML document (0-based) and 1-based line and
/// column in the file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
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
pub struct Diagnostic {
    pub origin: Origin,
    pub severity: Severity,
    /// Lower-case, no trailing period, as compilers print them.
    pub message: String,
    /// The API server would refuse this, though the components that would
    /// see it can still process it (a nodePort outside the range, say): it
    /// is simulated with a warning, and `podpath lint` calls it an error.
    pub api_rejects: bool,
}

impl Diagnostic {
    pub fn error(origin: Origin, message: impl Into<String>) -> Self {
        Diagnostic { origin, severity: Severity::Error, message: message.into(), api_rejects: false }
    }

    pub fn warning(origin: Origin, message: impl Into<String>) -> Self {
        Diagnostic { origin, severity: Severity::Warning, message: message.into(), api_rejects: false }
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

/// `FILE:LINE:COL: error: MESSAGE`, the form editors and CI logs understand.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.origin, self.severity, self.message)
    }
}

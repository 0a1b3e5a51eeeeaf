//! `podpath lint`: every diagnostic, strict; exit 1 on any error.

use podpath_core::Diagnostic;

use crate::common::{report, InputArgs, Ran};

pub fn run(args: &InputArgs) -> Ran {
    let (cluster, diags) = args.simulate()?;
    // What the API server would refuse is an error here, though other
    // commands simulate it with a warning.
    let diags: Vec<Diagnostic> = diags.iter().map(Diagnostic::strict).collect();
    let code = report(&diags);
    for s in &cluster.skipped {
        eprintln!(
            "{}: note: skipped {} {} ({}): podpath does not model this kind",
            s.origin, s.kind, s.name, s.api_version
        );
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.iter().filter(|d| d.severity == podpath_core::Severity::Warning).count();
    eprintln!("{errors} error(s), {warnings} warning(s), {} object(s) skipped", cluster.skipped.len());
    Ok(code)
}

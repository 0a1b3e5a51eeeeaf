//! `podpath lesson check`: each goal of a lesson met or not, with what was found.

use clap::{Args, Subcommand};
use podpath_core::lesson;

use crate::common::{json, out, Failure, Format, Ran};

#[derive(Subcommand, Debug)]
pub enum LessonCommand {
    /// Evaluates a lesson's goals on its starting scenario, a solution
    /// file, or (--reference) its own reference solution; exit 1 when a
    /// goal is not met
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The lesson (YAML)
    file: String,
    /// A scenario to check instead of the lesson's starting one
    #[arg(long, conflicts_with = "reference")]
    solution: Option<String>,
    /// Check the lesson's own reference solution
    #[arg(long)]
    reference: bool,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
    output: Format,
}

pub fn run(command: &LessonCommand) -> Ran {
    match command {
        LessonCommand::Check(args) => check(args),
    }
}

fn check(args: &CheckArgs) -> Ran {
    let read = |path: &str| std::fs::read_to_string(path).map_err(|e| Failure::from(format!("{path}: {e}")));
    let lesson = lesson::parse(&args.file, &read(&args.file)?).map_err(|e| Failure::from(e.to_string()))?;
    let (name, text) = match (&args.solution, args.reference) {
        (Some(path), _) => (path.clone(), read(path)?),
        (None, true) => (format!("{} (reference solution)", args.file), lesson.spec.solution.clone()),
        (None, false) => (format!("{} (starting scenario)", args.file), lesson.spec.scenario.clone()),
    };
    let outcomes = lesson::check_text(&lesson, &name, &text);
    let met = outcomes.iter().filter(|o| o.passed).count();
    match args.output {
        Format::Json => {
            let goals: Vec<serde_json::Value> = outcomes
                .iter()
                .map(|o| serde_json::json!({"goal": o.goal, "passed": o.passed, "detail": o.detail}))
                .collect();
            json(&serde_json::json!({
                "lesson": lesson.metadata.name,
                "checked": name,
                "passed": met == outcomes.len(),
                "goals": goals,
            }))?;
        }
        Format::Text => {
            let mut text = format!("{}: {} — checking {name}\n", lesson.metadata.name, lesson.spec.title);
            for (o, g) in outcomes.iter().zip(&lesson.spec.goals) {
                text += &format!("{} {} — {}\n", if o.passed { "✓" } else { "✗" }, o.goal, o.detail);
                if !o.passed && !g.hint.is_empty() {
                    text += &format!("  hint: {}\n", g.hint);
                }
            }
            text += &format!("{met} of {} goals met\n", outcomes.len());
            out(&text);
        }
    }
    Ok(if met == outcomes.len() { 0 } else { 1 })
}

//! Every bundled lesson: its goals are not all met by the scenario it
//! starts from, and all met by its reference solution.

use std::path::PathBuf;

use podpath_core::lesson;

fn lessons() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web/lessons");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    podpath_core::order::sort(&mut files);
    files.into_iter().map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap())).collect()
}

#[test]
fn every_lesson_fails_at_its_start_and_passes_with_its_solution() {
    let all = lessons();
    assert!(all.len() >= 15, "{} lessons", all.len());
    let mut names = Vec::new();
    for (file, text) in &all {
        let l = lesson::parse(file, text).unwrap_or_else(|e| panic!("{e}"));
        assert!(!l.spec.goals.is_empty() && !l.spec.steps.is_empty(), "{file}: goals and steps");
        let start = lesson::check_text(&l, "start.yaml", &l.spec.scenario);
        assert!(start.iter().any(|o| !o.passed), "{file}: the starting scenario meets every goal: {start:?}");
        let solved = lesson::check_text(&l, "solution.yaml", &l.spec.solution);
        for o in &solved {
            assert!(o.passed, "{file}: the reference solution misses \"{}\": {}", o.goal, o.detail);
        }
        names.push(l.metadata.name.clone());
    }
    let mut unique = names.clone();
    podpath_core::order::sort(&mut unique);
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "lesson names are unique: {names:?}");
}

#[test]
fn a_broken_lesson_says_where() {
    let e = lesson::parse("l.yaml", "apiVersion: podpath.dev/v1alpha1\nkind: Lesson\nmetadata: {name: x}\nspec:\n  title: t\n  topic: t\n  steps: []\n  goals: [{text: g, check: {frobnicate: {}}}]\n  scenario: ''\n  solution: ''\n")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("l.yaml:8:"), "{e}");
    assert!(e.contains("frobnicate"), "{e}");
    let e = lesson::parse("l.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {title: t, topic: t, steps: [], goals: [], scenario: '', solution: ''}\n").unwrap_err();
    assert_eq!(e.to_string(), "l.yaml: error: kind must be Lesson (apiVersion podpath.dev/v1alpha1), not v1/Pod");
}

#[test]
fn field_checks_read_kubectl_json_and_say_what_is_wrong() {
    let goal = |check: &str| {
        format!("apiVersion: podpath.dev/v1alpha1\nkind: Lesson\nmetadata: {{name: x}}\nspec:\n  title: t\n  topic: t\n  steps: [s]\n  goals: [{{text: g, check: {check}}}]\n  scenario: ''\n  solution: ''\n")
    };
    let scenario = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec:\n  selector: {app: web}\n  ports: [{name: http, port: 80, targetPort: 8080}]\n";
    let run = |check: &str| {
        let l = lesson::parse("l.yaml", &goal(check)).unwrap_or_else(|e| panic!("{e}"));
        lesson::check_text(&l, "s.yaml", scenario).remove(0)
    };
    let o = run("{field: {object: service/default/web, path: '.spec.ports[0].targetPort', equals: '8080'}}");
    assert!(o.passed, "{o:?}");
    let o = run("{field: {object: service/default/web, path: '.spec.ports[0].name', equals: web}}");
    assert!(!o.passed);
    assert_eq!(o.detail, "service/default/web: .spec.ports[0].name = http");
    // Absent `equals` asks that the field is not set.
    assert!(run("{field: {object: service/default/web, path: .spec.sessionAffinityConfig}}").passed);
    let o = run("{field: {object: service/default/web, path: 'spec.ports'}}");
    assert_eq!(o.detail, "path spec.ports: expected .field, .field[N] or .field.field…");
    let o = run("{field: {object: secret/default/web, path: .data}}");
    assert!(o.detail.contains("kind secret is not one of"), "{o:?}");
    let o = run("{field: {object: service/default/nope, path: .spec}}");
    assert_eq!(o.detail, "no service default/nope");
}

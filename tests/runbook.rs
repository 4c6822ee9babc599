//! The runbook (runbook/CEREMONY.md) has one section per engine step, with the same id,
//! in the same order; a renamed, added or removed step fails here until the runbook follows.

mod support;

use tuf_ceremony::ceremony::steps::STEPS;

#[test]
fn runbook_sections_match_the_step_registry() {
    let text = std::fs::read_to_string(support::repo_root().join("runbook/CEREMONY.md")).unwrap();
    let sections: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("### `"))
        .filter_map(|l| l.split_once("` — "))
        .map(|(id, title)| (id.to_string(), title.trim().to_string()))
        .collect();
    let registry: Vec<(String, String)> = STEPS.iter().map(|s| (s.id.to_string(), s.title.to_string())).collect();
    assert_eq!(sections, registry, "runbook/CEREMONY.md sections (id, title) must equal the step registry, in order");
}

/// Every instruction the program prints in a step (the registry's `says`, which the engine
/// prints word for word) is in the runbook's section for that step.
#[test]
fn runbook_sections_say_what_the_program_says() {
    let text = std::fs::read_to_string(support::repo_root().join("runbook/CEREMONY.md")).unwrap();
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut checked = 0;
    for step in STEPS {
        let head = format!("### `{}` — ", step.id);
        let start = text.find(&head).unwrap_or_else(|| panic!("no section for {}", step.id));
        let rest = &text[start + head.len()..];
        let section = squash(&rest[..rest.find("\n### ").unwrap_or(rest.len())]);
        for said in step.says {
            assert!(section.contains(&squash(said)), "runbook/CEREMONY.md, section {}: does not say {said:?}", step.id);
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} instructions in the registry");
}

#[test]
fn runbook_files_exist_and_link() {
    let root = support::repo_root().join("runbook");
    let pre = std::fs::read_to_string(root.join("PRE-CEREMONY.md")).unwrap();
    assert!(pre.contains("GO TO CEREMONY.md"));
    assert!(root.join("CEREMONY.md").exists());
}

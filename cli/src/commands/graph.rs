//! `mend graph FILE [--on FAULT(COMPONENT)] --format dot|mermaid`.

use crate::files::{self, FsProvider, UsageError};
use mend_compiler::check;
use mend_compiler::graph_render::{GraphFormat, render};
use std::path::Path;

pub fn run(path: &Path, on: Option<&str>, format: GraphFormat) -> Result<i32, UsageError> {
    let root = files::read(path)?;
    let shown = root.path.clone();
    let c = check(vec![root], &FsProvider);
    if c.has_errors() {
        eprintln!("warning: `{shown}` has findings (`mend check {shown}`); drawing it as written");
    }
    let wanted = on.map(|o| o.replace(' ', ""));
    let chosen: Vec<_> = c
        .playbooks
        .iter()
        .filter(|p| p.plan.file == shown)
        .filter(|p| {
            wanted
                .as_ref()
                .is_none_or(|w| *w == format!("{}({})", p.plan.fault, p.plan.component))
        })
        .collect();
    if chosen.is_empty() {
        let have: Vec<String> = c
            .playbooks
            .iter()
            .filter(|p| p.plan.file == shown)
            .map(|p| format!("`{}({})`", p.plan.fault, p.plan.component))
            .collect();
        return Err(UsageError(match (on, have.is_empty()) {
            (_, true) => format!("`{shown}` has no playbook to draw"),
            (Some(o), false) => format!(
                "`{shown}` has no playbook `on {o}`; it has {}",
                have.join(", ")
            ),
            (None, false) => unreachable!("no filter and playbooks exist"),
        }));
    }
    print!("{}", render(&chosen, format));
    Ok(0)
}

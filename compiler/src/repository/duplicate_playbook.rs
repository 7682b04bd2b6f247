//! E0501: two playbooks fire on the same fault of the same component.
//!
//! An alert names a fault and a component (`hardware_fault(mq_broker)`), and exactly
//! one playbook must answer it: with two, which one runs depends on the order files
//! were read, and the reviewer of one never sees the other. Playbooks are matched by
//! the names in their trigger, across every file of the check (the files named and
//! what they import), since that is how an alert finds them.

use super::{Index, path, roots};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::program::Program;
use crate::source::FileId;
use mend_grammar::ast::Span;
use mend_grammar::keywords::FAULTS;
use std::collections::HashMap;

pub fn check(program: &Program, index: &Index<'_>, out: &mut Vec<Diagnostic>) {
    let roots = roots(program);
    let mut by_trigger: HashMap<(&str, &str), Vec<(FileId, Span)>> = HashMap::new();
    for (f, ix) in index.files.iter().enumerate() {
        for pb in &ix.playbooks {
            // an unknown fault is E0102 already; it answers no alert
            if FAULTS.contains(&pb.fault.name.as_str()) {
                by_trigger
                    .entry((&pb.fault.name, &pb.component.name))
                    .or_default()
                    .push((FileId(f), pb.header_span()));
            }
        }
    }
    for ((fault, component), mut found) in by_trigger {
        if found.len() < 2 {
            continue;
        }
        // The first is the one in an imported file (so the finding lands in a file the
        // user named), else the first by path and position.
        found.sort_by(|a, b| {
            (roots[a.0.0], path(program, a.0), a.1.start).cmp(&(
                roots[b.0.0],
                path(program, b.0),
                b.1.start,
            ))
        });
        let (first_file, first_span) = found[0];
        for &(file, span) in &found[1..] {
            let elsewhere = if file == first_file {
                String::new()
            } else {
                format!(" (the other is in `{}`)", path(program, first_file))
            };
            out.push(
                Diagnostic::new(
                    Code::E0501,
                    file,
                    format!("two playbooks fire on `{fault}({component})`{elsewhere}"),
                )
                .primary(span, "a second playbook for this alert")
                .secondary_in(first_file, first_span, "the first playbook for it")
                .help(
                    "an alert starts one playbook: merge the two into one, with a `match` or \
                     `when` for the cases they differ on, and delete the other",
                ),
            );
        }
    }
}

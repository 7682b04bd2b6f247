//! The safety analysis over a lowered playbook's step graph.

use crate::diagnostic::Diagnostic;
use crate::lower::LoweredPlaybook;

/// Every finding of the safety rules for one playbook.
pub fn check_playbook(_playbook: &LoweredPlaybook) -> Vec<Diagnostic> {
    Vec::new()
}

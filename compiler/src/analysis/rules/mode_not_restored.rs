//! E0205: a lenient apply mode (`SMART`/`IDEMPOTENT`) or parallel apply turned off,
//! not switched back on some exit — failure and escalation exits included.
//! Guide §4.1.3: "once replication is healthy, switch back":
//! `slave_parallel_workers = 16`, `slave_exec_mode = 'STRICT'`.

use super::{At, Finding};
use crate::analysis::graph::ExitKind;
use crate::analysis::state::{State, flag};
use crate::codes::Code;
use crate::lower::LoweredPlaybook;

pub(super) fn check(pb: &LoweredPlaybook, kind: ExitKind, state: &State, out: &mut Vec<Finding>) {
    let exit = match kind {
        ExitKind::Success => "when the playbook succeeds",
        ExitKind::Failure => "when a step fails",
        ExitKind::Escalated => "when the playbook escalates",
    };
    let merged = state.merged();
    for (target, t) in &merged.targets {
        let name = super::target_name(pb, target);
        if t.strict & flag::OFF != 0 {
            let at = t
                .lenient_at
                .as_deref()
                .map_or(At::Header, |s| At::Step(s.to_string()));
            push(
                out,
                at,
                format!("apply mode of {name} is left lenient {exit}"),
                "switched to lenient here",
                "wrap the repair in `try < … > finally < set exec_mode strict >` so every exit switches back (§4.1.3)",
            );
        }
        if t.parallel & flag::OFF != 0 {
            let at = t
                .parallel_off_at
                .as_deref()
                .map_or(At::Header, |s| At::Step(s.to_string()));
            push(
                out,
                at,
                format!("parallel apply of {name} is left off {exit}"),
                "parallel apply turned off here",
                "wrap the repair in `try < … > finally < set parallel_workers 16 >` so every exit turns it back on (§4.1.3)",
            );
        }
    }
}

fn push(out: &mut Vec<Finding>, at: At, message: String, label: &str, help: &str) {
    // one finding per step that switched: the first exit found names it
    if out
        .iter()
        .any(|f| f.code == Code::E0205 && f.at == at && f.label == label)
    {
        return;
    }
    out.push(Finding::new(Code::E0205, at, message, label).help(help));
}

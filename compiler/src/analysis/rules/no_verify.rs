//! E0401: a path that ends in success without `verify`, or that changed something
//! after its last `verify`. Guide: every procedure has an *expected result*; "a
//! playbook is not done until its expected result has been checked".

use super::{At, Finding};
use crate::analysis::graph::ExitKind;
use crate::analysis::state::{State, yes};
use crate::codes::Code;
use crate::lower::LoweredPlaybook;

pub(super) fn check(pb: &LoweredPlaybook, kind: ExitKind, state: &State, out: &mut Vec<Finding>) {
    if kind != ExitKind::Success {
        return;
    }
    if state.by_role.values().any(|f| f.verified & yes::NO != 0) {
        let expect = pb
            .plan
            .component(&pb.plan.component)
            .and_then(|c| c.expect.clone());
        let help = match expect {
            Some(e) => {
                format!("end every successful path with `verify within 10m` (expected result: {e})")
            }
            None => "end every successful path with `verify within 10m`".to_string(),
        };
        out.push(
            Finding::new(
                Code::E0401,
                At::Header,
                format!(
                    "a path of this playbook ends without `verify` of `{}`",
                    pb.plan.component
                ),
                "some path succeeds without checking the expected result",
            )
            .help(help),
        );
    }
}

//! E0402: a wait with no bound. Guide §4.1.3: replication is watched until both
//! threads say `Yes`; a playbook must say how long that may take before a person is
//! called, or the run hangs at 3 a.m.

use super::{Finding, StepCtx};
use crate::codes::Code;
use crate::plan::Action;

pub(super) fn check(cx: &StepCtx<'_>, out: &mut Vec<Finding>) {
    if let Action::WaitReplicaHealthy { within } = cx.action
        && within.is_zero()
    {
        out.push(
            Finding::new(
                Code::E0402,
                cx.at(),
                "`wait replica_healthy` has no bound",
                "may wait forever",
            )
            .help("add `within 5m` (the guide allows 1 to 5 minutes for a restart)"),
        );
    }
}

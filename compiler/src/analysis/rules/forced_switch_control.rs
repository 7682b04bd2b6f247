//! E0206: a forced master/slave switch aimed at a control database. Guide §4.1.2:
//! the forced switch is for business instances only, never for the control
//! databases (Ark-MetaDB, DBPaaS-MetaDB, …) that Ark and DBPaaS themselves run on.

use super::{Finding, StepCtx};
use crate::codes::Code;
use crate::plan::{Action, DatabaseClass};

pub(super) fn check(cx: &StepCtx<'_>, out: &mut Vec<Finding>) {
    if *cx.action != Action::ForcedSwitch {
        return;
    }
    if let Some(c) = cx.component()
        && c.database == Some(DatabaseClass::Control)
    {
        out.push(
            Finding::new(Code::E0206, cx.at(), format!("forced switch on control database `{}`", c.name), "§4.1.2 forbids this on a control database")
                .help("recover a control database as §4.2 says: find the RW peer, recover the failed one (§4.1.3), and make it master again with `set read_only off` once the peer is RO"),
        );
    } else if cx.any_component() {
        out.push(
            Finding::new(
                Code::E0206,
                cx.at(),
                format!("forced switch on {}, which ranges over every container of the host, control databases included", cx.target_name()),
                "may be a control database",
            )
                .help("recover a control database as §4.2 says: find the RW peer, recover the failed one (§4.1.3), and make it master again with `set read_only off` once the peer is RO"),
        );
    }
}

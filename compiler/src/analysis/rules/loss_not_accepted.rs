//! E0203: a master whose store is replaced from the slave's backup, or from none,
//! without `accept loss "…"` on that path. Guide §3.2's table: master restored from
//! the slave's backup may lose a few messages; from none, all of the group's.

use super::{Finding, StepCtx};
use crate::analysis::state::{RoleKey, RoleName, backup, yes};
use crate::codes::Code;
use crate::plan::{Action, Target};

pub(super) fn check(cx: &StepCtx<'_>, out: &mut Vec<Finding>) {
    if !matches!(cx.action, Action::Recreate { .. } | Action::Remove)
        || *cx.target != Target::SelfNode
    {
        return;
    }
    let Some(c) = cx.component() else { return };
    if !c.stateful {
        return;
    }
    for (role, f) in &cx.state.by_role {
        if matches!(role, RoleKey::Known(RoleName::Slave)) {
            continue;
        }
        let t = f.target(cx.target);
        let lossy = t.backup & (backup::PEER | backup::NONE);
        if lossy == 0 || t.backup & backup::NOT_TAKEN != 0 || f.loss_accepted & yes::NO == 0 {
            continue;
        }
        let from = if lossy & backup::NONE != 0 {
            "no backup"
        } else {
            "the peer's backup"
        };
        let role_text = if *role == RoleKey::Unknown {
            "a node that may be the master"
        } else {
            "the master"
        };
        out.push(
            Finding::new(
                Code::E0203,
                cx.at(),
                format!("{role_text} `{}` may be rebuilt from {from}, and the loss is not accepted", c.name),
                format!("messages may be lost here ({from})"),
            )
            .help("say it in the playbook: `accept loss \"why losing the newest messages is acceptable\"` on that path, or back up from `self` only"),
        );
        return;
    }
}

//! E0201: a step whose safety depends on the node's role (restore a store, promote,
//! or `match role`) on a path where the role was never looked up.
//! Guide §3.2 (which backup is safe depends on master/slave) and §4.2.

use super::{At, Finding, StepCtx};
use crate::analysis::state::{RoleKey, State};
use crate::codes::Code;
use crate::lower::LoweredPlaybook;
use crate::plan::{Action, RoleSource, Target};

pub(super) fn check(cx: &StepCtx<'_>, out: &mut Vec<Finding>) {
    let role_dependent = matches!(cx.action, Action::Restore | Action::ForcedSwitch);
    if !role_dependent || *cx.target != Target::SelfNode {
        return;
    }
    if cx.component().is_none_or(|c| c.role == RoleSource::None) {
        return;
    }
    if cx.state.by_role.contains_key(&RoleKey::Unknown) {
        out.push(
            Finding::new(
                Code::E0201,
                cx.at(),
                format!("{} depends on the role of {}, which is not known on some path", crate::analysis::action_word(cx.action), cx.target_name()),
                "the role may be unknown here",
            )
            .also(At::Header, "no `lookup role` on some path from here")
            .help("add `lookup role` before it, and branch with `match role { master => …, slave => … }`"),
        );
    }
}

pub(super) fn check_match(
    pb: &LoweredPlaybook,
    id: &str,
    subject: &str,
    target: &Target,
    state: &State,
    out: &mut Vec<Finding>,
) {
    if subject != "role"
        || *target != Target::SelfNode
        || !state.by_role.contains_key(&RoleKey::Unknown)
    {
        return;
    }
    out.push(
        Finding::new(
            Code::E0201,
            At::Step(id.to_string()),
            format!(
                "`match role` on `{}` before its role is looked up",
                pb.plan.component
            ),
            "the role is not known here on some path",
        )
        .help("add `lookup role` before the `match`"),
    );
}

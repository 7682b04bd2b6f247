//! E0202: `recreate` or `remove` of a stateful component on a path with no backup of
//! its store. Guide §3: "data is migrated first, service is recovered second"; §3.2
//! step 3 backs the store up before the container is taken offline.

use super::{Finding, StepCtx};
use crate::analysis::state::backup;
use crate::codes::Code;
use crate::plan::Action;

pub(super) fn check(cx: &StepCtx<'_>, out: &mut Vec<Finding>) {
    if !matches!(cx.action, Action::Recreate { .. } | Action::Remove) {
        return;
    }
    let Some(c) = cx.component() else { return };
    if !c.stateful {
        return;
    }
    if cx
        .state
        .by_role
        .values()
        .any(|f| f.target(cx.target).backup & backup::NOT_TAKEN != 0)
    {
        let store = c.store.clone().unwrap_or_default();
        out.push(
            Finding::new(
                Code::E0202,
                cx.at(),
                format!("{} destroys the store `{store}` of {} with no backup on some path", crate::analysis::action_word(cx.action), cx.target_name()),
                "store destroyed here",
            )
            .help("back it up first: `backup store from self or peer` (or `from … or none` and say why the loss is acceptable)"),
        );
    }
}

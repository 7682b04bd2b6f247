//! E0404: a step that changes something before a person confirmed the alert.
//! Guide: every procedure's *background* — an alert is confirmed before acting, so
//! that a false alarm is not acted on.

use super::{At, Finding, StepCtx};
use crate::analysis::state::yes;
use crate::codes::Code;

pub(super) fn check(cx: &StepCtx<'_>, out: &mut Vec<Finding>) {
    if !cx.action.mutates() || out.iter().any(|f| f.code == Code::E0404) {
        return;
    }
    if cx.state.by_role.values().any(|f| f.alert & yes::NO != 0) {
        out.push(
            Finding::new(Code::E0404, cx.at(), format!("{} acts before the alert is confirmed", step_word(cx)), "changes the system on an unconfirmed alert")
                .also(At::Header, "the playbook fires on an alert")
                .help("start with `confirm alert`: a person checks the alert is real before anything changes"),
        );
    }
}

fn step_word(cx: &StepCtx<'_>) -> String {
    cx.pb.origins.get(cx.id).map_or_else(
        || "this step".to_string(),
        |_| crate::analysis::action_word(cx.action).to_string(),
    )
}

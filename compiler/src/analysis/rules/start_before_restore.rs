//! E0301: a container started while its store, destroyed by `recreate`, is not yet
//! restored from the backup that was taken. Guide §3.2 steps 5–7: create the new
//! container *without starting it*, restore, then start.

use super::{Finding, StepCtx};
use crate::analysis::state::{backup, store};
use crate::codes::Code;
use crate::plan::Action;

pub(super) fn check(cx: &StepCtx<'_>, out: &mut Vec<Finding>) {
    let Some(c) = cx.component() else { return };
    if !c.stateful {
        return;
    }
    let has_backup = |b: u8| b & (backup::SELF | backup::PEER) != 0;
    match cx.action {
        Action::Start | Action::Restart | Action::StartupMysql => {
            for f in cx.state.by_role.values() {
                let t = f.target(cx.target);
                if t.store & store::DESTROYED != 0 && has_backup(t.backup) {
                    let mut finding = Finding::new(
                        Code::E0301,
                        cx.at(),
                        format!(
                            "{} is started before its store is restored",
                            cx.target_name()
                        ),
                        "started with an empty store",
                    )
                    .help("put `restore store` between `recreate … paused` and `start`");
                    if let Some(at) = &t.destroyed_at {
                        finding =
                            finding.also(super::At::Step(at.to_string()), "store destroyed here");
                    }
                    out.push(finding);
                    return;
                }
            }
        }
        Action::Recreate { paused: false, .. }
            if cx
                .state
                .by_role
                .values()
                .any(|f| has_backup(f.target(cx.target).backup)) =>
        {
            out.push(
                    Finding::new(Code::E0301, cx.at(), format!("`recreate` without `paused` starts {} before its store can be restored", cx.target_name()), "starts at once")
                        .help("write `recreate same_ip paused`, then `restore store`, then `start` (§3.2 steps 5–7)"),
                );
        }
        _ => {}
    }
}

//! E0204: a node made writable (`set read_only off`) while its peer may still be
//! writable: two masters. Guide §4.2: `set global read_only = 0` only on the failed
//! master, after the surviving peer is known to be `RO`.

use super::{At, Finding, StepCtx, peer_of};
use crate::analysis::state::flag;
use crate::codes::Code;
use crate::plan::Action;

pub(super) fn check(cx: &StepCtx<'_>, out: &mut Vec<Finding>) {
    if *cx.action != (Action::SetReadOnly { on: false }) {
        return;
    }
    let peer = peer_of(cx.target);
    let risky = cx
        .state
        .by_role
        .values()
        .map(|f| f.target(&peer))
        .find(|t| t.read_only & flag::OFF != 0);
    if let Some(t) = risky {
        let (at, why) = match t.read_only_forgotten_at {
            Some(step) => (
                At::Step(step.to_string()),
                "the peer may have been promoted while this ran",
            ),
            None => (
                At::Header,
                "the peer's read-only flag is never learned on some path to the step",
            ),
        };
        out.push(
            Finding::new(
                Code::E0204,
                cx.at(),
                format!("{} is made writable while its peer may still be writable", cx.target_name()),
                "second writable node here",
            )
            .also(at, why)
            .help("first learn the peer is read-only: `lookup role` (a `role read_only` component) and `match role`, or `match peer_mode { ro => …, rw => … }`, or `set read_only on on peer`"),
        );
    }
}

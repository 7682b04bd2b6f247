//! E0302: `recreate` of a component with a fixed IP without `same_ip`. Guide, the
//! platform: containers sit on a VLAN with fixed IPs and peers find them by IP, so a
//! replacement container must get the same IP (§3.2 step 5).

use super::{Finding, StepCtx};
use crate::codes::Code;
use crate::plan::Action;

pub(super) fn check(cx: &StepCtx<'_>, out: &mut Vec<Finding>) {
    if let Action::Recreate { same_ip: false, .. } = cx.action
        && let Some(c) = cx.component()
        && c.fixed_ip
    {
        out.push(
            Finding::new(
                Code::E0302,
                cx.at(),
                format!(
                    "`recreate` does not keep the IP of `{}`, which peers find by IP",
                    c.name
                ),
                "the new container would get another IP",
            )
            .help("write `recreate same_ip paused`"),
        );
    }
}

//! The safety rules, one file each. A rule looks at the abstract state in front of
//! a step, a `match`, or an exit, and says what is wrong there as a [`Finding`].

mod alert_not_confirmed;
mod forced_switch_control;
mod ip_not_kept;
mod loss_not_accepted;
mod match_exhaustive;
mod mode_not_restored;
mod no_backup;
mod no_verify;
pub mod plaintext_secret;
mod role_unknown;
mod split_brain;
mod start_before_restore;
mod unbounded_wait;
pub mod unreachable;

use super::graph::ExitKind;
use super::state::State;
use crate::codes::Code;
use crate::lower::LoweredPlaybook;
use crate::plan::{Action, ComponentSpec, Target};

/// Where a finding points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    /// A step, by id (its origin is in `LoweredPlaybook::origins`).
    Step(String),
    /// The playbook's `on fault(component)`.
    Header,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub code: Code,
    pub at: At,
    pub message: String,
    pub label: String,
    pub secondary: Vec<(At, String)>,
    pub help: String,
}

impl Finding {
    pub fn new(code: Code, at: At, message: impl Into<String>, label: impl Into<String>) -> Self {
        Finding {
            code,
            at,
            message: message.into(),
            label: label.into(),
            secondary: Vec::new(),
            help: String::new(),
        }
    }

    pub fn also(mut self, at: At, message: impl Into<String>) -> Self {
        self.secondary.push((at, message.into()));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }
}

/// What a step needs to know to judge it.
pub struct StepCtx<'a> {
    pub pb: &'a LoweredPlaybook,
    pub id: &'a str,
    pub action: &'a Action,
    pub target: &'a Target,
    pub state: &'a State,
}

impl StepCtx<'_> {
    /// The component a target is an instance of, when known.
    pub fn component(&self) -> Option<&ComponentSpec> {
        component_of(self.pb, self.target)
    }

    pub fn at(&self) -> At {
        At::Step(self.id.to_string())
    }

    /// Every container on a host, whatever its component.
    pub fn any_component(&self) -> bool {
        any_component(self.pb, self.target)
    }

    /// `self` or `` `peer` `` etc., for messages.
    pub fn target_name(&self) -> String {
        target_name(self.pb, self.target)
    }
}

pub fn component_of<'a>(pb: &'a LoweredPlaybook, target: &Target) -> Option<&'a ComponentSpec> {
    match target {
        Target::SelfNode | Target::Peer => pb.plan.component(&pb.plan.component),
        Target::Component(c) => pb.plan.component(c),
        Target::Var(v) => pb
            .vars
            .get(v)
            .cloned()
            .flatten()
            .and_then(|c| pb.plan.component(&c)),
    }
}

/// A fan-out over every container of a host: the component is not known, so a rule
/// must assume the worst of it.
pub fn any_component(pb: &LoweredPlaybook, target: &Target) -> bool {
    matches!(target, Target::Var(v) if pb.vars.get(v).is_some_and(Option::is_none))
}

pub fn target_name(pb: &LoweredPlaybook, target: &Target) -> String {
    match target {
        Target::SelfNode => format!("`{}`", pb.plan.component),
        Target::Peer => format!("the peer of `{}`", pb.plan.component),
        Target::Var(v) => format!("`{v}`"),
        Target::Component(c) => format!("`{c}`"),
    }
}

/// The other node of a pair.
pub fn peer_of(t: &Target) -> Target {
    match t {
        Target::SelfNode => Target::Peer,
        Target::Peer => Target::SelfNode,
        other => other.clone(),
    }
}

pub fn before_step(
    pb: &LoweredPlaybook,
    id: &str,
    action: &Action,
    target: &Target,
    state: &State,
    out: &mut Vec<Finding>,
) {
    let cx = StepCtx {
        pb,
        id,
        action,
        target,
        state,
    };
    alert_not_confirmed::check(&cx, out);
    role_unknown::check(&cx, out);
    no_backup::check(&cx, out);
    loss_not_accepted::check(&cx, out);
    split_brain::check(&cx, out);
    forced_switch_control::check(&cx, out);
    start_before_restore::check(&cx, out);
    ip_not_kept::check(&cx, out);
    unbounded_wait::check(&cx, out);
}

pub fn before_match(
    pb: &LoweredPlaybook,
    id: &str,
    subject: &str,
    target: &Target,
    arms: &[Vec<String>],
    state: &State,
    out: &mut Vec<Finding>,
) {
    role_unknown::check_match(pb, id, subject, target, state, out);
    match_exhaustive::check(pb, id, subject, arms, state, out);
}

pub fn at_exit(pb: &LoweredPlaybook, kind: ExitKind, state: &State, out: &mut Vec<Finding>) {
    mode_not_restored::check(pb, kind, state, out);
    no_verify::check(pb, kind, state, out);
}

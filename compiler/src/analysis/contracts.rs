//! Action contracts: what each action does to the abstract state. What an action
//! *requires* is checked by the rules (`rules/`), each in its own file; this file
//! says what it *ensures* and *destroys*.
//!
//! | action | ensures | destroys |
//! |---|---|---|
//! | `confirm alert` | alert confirmed | |
//! | `accept loss` | loss accepted | |
//! | `lookup role` | role master or slave (and, for `role read_only`, the peer's read-only flag: a master's peer is RO, §4.2) | |
//! | `backup store from …` | backup from those sources | |
//! | `recreate [paused]` | container created (running without `paused`) | the store |
//! | `remove` | container absent | the store |
//! | `restore store` | store restored | |
//! | `start` / `restart` / `startup mysql` | running | |
//! | `stop` / `decommission` | stopped | |
//! | `set exec_mode M` | apply mode M | |
//! | `set parallel_workers N` | parallel apply on (N > 0) or off | |
//! | `set read_only on/off` | read-only flag | |
//! | `verify` | verified | |
//! | any step that changes something | not verified any more | |

use super::state::{RoleKey, RoleName, State, Why, backup, container, flag, store, yes};
use crate::lower::LoweredPlaybook;
use crate::plan::{Action, BackupSource, RoleSource, Target};

/// The state after `action` on `target` succeeded.
pub fn apply(
    pb: &LoweredPlaybook,
    id: &str,
    action: &Action,
    target: &Target,
    before: &State,
) -> State {
    if let Action::LookupRole = action {
        return lookup_role(pb, target, before);
    }
    let mut s = before.clone();
    let why: Why = Some(id.into());
    s.each(|f| {
        if action.mutates() {
            f.verified = yes::NO;
        }
        match action {
            Action::ConfirmAlert => f.alert = yes::YES,
            Action::AcceptLoss { .. } => f.loss_accepted = yes::YES,
            Action::Verify { .. } => f.verified = yes::YES,
            Action::Backup { sources } => {
                let t = f.target_mut(target);
                t.backup = sources.iter().fold(0, |b, s| {
                    b | match s {
                        BackupSource::SelfNode => backup::SELF,
                        BackupSource::Peer => backup::PEER,
                        BackupSource::None => backup::NONE,
                    }
                });
            }
            Action::Recreate { paused, .. } => {
                let t = f.target_mut(target);
                t.store = store::DESTROYED;
                t.destroyed_at.clone_from(&why);
                t.container = if *paused {
                    container::CREATED
                } else {
                    container::RUNNING
                };
            }
            Action::Remove => {
                let t = f.target_mut(target);
                t.store = store::DESTROYED;
                t.destroyed_at.clone_from(&why);
                t.container = container::ABSENT;
            }
            Action::Restore => f.target_mut(target).store = store::RESTORED,
            Action::Start | Action::Restart | Action::StartupMysql => {
                f.target_mut(target).container = container::RUNNING;
            }
            Action::Stop | Action::Decommission => {
                f.target_mut(target).container = container::STOPPED;
            }
            Action::SetExecMode { lenient } => {
                let t = f.target_mut(target);
                t.strict = if *lenient { flag::OFF } else { flag::ON };
                if *lenient {
                    t.lenient_at.clone_from(&why);
                }
            }
            Action::SetParallelWorkers { workers } => {
                let t = f.target_mut(target);
                t.parallel = if *workers == 0 { flag::OFF } else { flag::ON };
                if *workers == 0 {
                    t.parallel_off_at.clone_from(&why);
                }
            }
            Action::SetReadOnly { on } => {
                f.target_mut(target).read_only = if *on { flag::ON } else { flag::OFF }
            }
            _ => {}
        }
        if takes_time(action) {
            // §4.2: what was known of the other node's read-only flag may have
            // changed while this step took minutes (ADHA may have promoted it).
            let other = crate::analysis::rules::peer_of(target);
            if other != *target {
                let t = f.target_mut(&other);
                if t.read_only != flag::BOTH {
                    t.read_only = flag::BOTH;
                    t.read_only_forgotten_at.clone_from(&why);
                }
            }
        }
    });
    s
}

/// Steps that take long enough for the world to change around them.
fn takes_time(a: &Action) -> bool {
    matches!(
        a,
        Action::StartupMysql
            | Action::Start
            | Action::Restart
            | Action::Recreate { .. }
            | Action::Restore
            | Action::Backup { .. }
            | Action::WaitReplicaHealthy { .. }
            | Action::Wait { .. }
            | Action::Ask { .. }
            | Action::Decommission
            | Action::ForcedSwitch
    )
}

/// `lookup role`: the unknown role splits into master and slave.
fn lookup_role(pb: &LoweredPlaybook, target: &Target, before: &State) -> State {
    if *target != Target::SelfNode {
        return before.clone();
    }
    let read_only_source = pb
        .plan
        .component(&pb.plan.component)
        .is_some_and(|c| c.role == RoleSource::ReadOnly);
    let mut out = State::default();
    for (key, facts) in &before.by_role {
        let roles = match key {
            RoleKey::Unknown => vec![RoleName::Master, RoleName::Slave],
            RoleKey::Known(r) => vec![*r],
        };
        for r in roles {
            let mut f = facts.clone();
            if read_only_source {
                // §4.2: the failed node was the master exactly when its peer is RO.
                f.target_mut(&Target::Peer).read_only = match r {
                    RoleName::Master => flag::ON,
                    RoleName::Slave => flag::OFF,
                };
            }
            let k = RoleKey::Known(r);
            match out.by_role.get_mut(&k) {
                Some(_) => {
                    let mut one = State::default();
                    one.by_role.insert(k, f);
                    out.join(&one);
                }
                None => {
                    out.by_role.insert(k, f);
                }
            }
        }
    }
    out
}

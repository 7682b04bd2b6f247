//! The abstract state the analysis carries along the step graph, and its join.
//!
//! Every fact is a small set of the values it *may* have on the paths reaching a
//! point (a bitset); the join of two states is the union of each set. That makes
//! the lattice finite and the analysis a single pass over the (acyclic) graph.
//!
//! One fact is kept *relationally*: the role of the failed instance. The state is a
//! map from that role (unknown / master / slave) to the facts on the paths where it
//! holds, so that `match role { master => < … accept loss … >, slave => < … > }`
//! does not, after the join, look like a master restored with no loss accepted.
//! The map has at most three entries: the precision costs a constant factor.

use crate::plan::{Role, Target};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Container lifecycle.
pub mod container {
    pub const ABSENT: u8 = 1;
    pub const CREATED: u8 = 2;
    pub const STOPPED: u8 = 4;
    pub const RUNNING: u8 = 8;
}

/// The component's store.
pub mod store {
    pub const INTACT: u8 = 1;
    pub const DESTROYED: u8 = 2;
    pub const RESTORED: u8 = 4;
}

/// Where the backup of the store came from.
pub mod backup {
    /// No backup decision on this path.
    pub const NOT_TAKEN: u8 = 1;
    pub const SELF: u8 = 2;
    pub const PEER: u8 = 4;
    /// `backup store from … or none`: the operator chose to go on without one.
    pub const NONE: u8 = 8;
}

/// On/off facts: read-only, parallel apply; and strict/lenient apply mode.
pub mod flag {
    pub const ON: u8 = 1;
    pub const OFF: u8 = 2;
    pub const BOTH: u8 = ON | OFF;
}

/// Yes/no facts: alert confirmed, verified, loss accepted.
pub mod yes {
    pub const YES: u8 = 1;
    pub const NO: u8 = 2;
}

/// A step id, for "made here" labels. Shared, not copied: states are cloned on
/// every edge of the step graph.
pub type Why = Option<Rc<str>>;

/// What is known of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFacts {
    pub container: u8,
    pub store: u8,
    pub backup: u8,
    /// `flag::ON` = strict, `flag::OFF` = lenient.
    pub strict: u8,
    pub parallel: u8,
    pub read_only: u8,
    pub destroyed_at: Why,
    pub lenient_at: Why,
    pub parallel_off_at: Why,
    /// The step during which a known read-only flag was last forgotten.
    pub read_only_forgotten_at: Why,
}

impl Default for TargetFacts {
    fn default() -> Self {
        TargetFacts {
            container: container::STOPPED | container::RUNNING,
            store: store::INTACT,
            backup: backup::NOT_TAKEN,
            strict: flag::ON,
            parallel: flag::ON,
            read_only: flag::BOTH,
            destroyed_at: None,
            lenient_at: None,
            parallel_off_at: None,
            read_only_forgotten_at: None,
        }
    }
}

impl TargetFacts {
    fn join(&mut self, o: &TargetFacts) {
        self.container |= o.container;
        self.store |= o.store;
        self.backup |= o.backup;
        self.strict |= o.strict;
        self.parallel |= o.parallel;
        self.read_only |= o.read_only;
        join_why(&mut self.destroyed_at, &o.destroyed_at);
        join_why(&mut self.lenient_at, &o.lenient_at);
        join_why(&mut self.parallel_off_at, &o.parallel_off_at);
        join_why(&mut self.read_only_forgotten_at, &o.read_only_forgotten_at);
    }

    /// Takes from `branch` every fact it changed relative to `base`; facts several
    /// branches changed are joined.
    fn overlay(&mut self, base: &TargetFacts, branch: &TargetFacts, first: bool) {
        macro_rules! field {
            ($f:ident) => {
                if branch.$f != base.$f {
                    if first || self.$f == base.$f {
                        self.$f = branch.$f;
                    } else {
                        self.$f |= branch.$f;
                    }
                }
            };
        }
        field!(container);
        field!(store);
        field!(backup);
        field!(strict);
        field!(parallel);
        field!(read_only);
        if branch.destroyed_at.is_some() {
            self.destroyed_at.clone_from(&branch.destroyed_at);
        }
        if branch.lenient_at.is_some() {
            self.lenient_at.clone_from(&branch.lenient_at);
        }
        if branch.parallel_off_at.is_some() {
            self.parallel_off_at.clone_from(&branch.parallel_off_at);
        }
    }
}

fn join_why(a: &mut Why, b: &Why) {
    if a.is_none() {
        a.clone_from(b);
    }
}

/// Facts on the paths where the failed instance has one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub targets: BTreeMap<Target, TargetFacts>,
    pub alert: u8,
    pub verified: u8,
    pub loss_accepted: u8,
}

impl Default for Facts {
    fn default() -> Self {
        Facts {
            targets: BTreeMap::new(),
            alert: yes::NO,
            verified: yes::NO,
            loss_accepted: yes::NO,
        }
    }
}

impl Facts {
    pub fn target(&self, t: &Target) -> TargetFacts {
        self.targets.get(t).cloned().unwrap_or_default()
    }

    pub fn target_mut(&mut self, t: &Target) -> &mut TargetFacts {
        self.targets.entry(t.clone()).or_default()
    }

    fn join(&mut self, o: &Facts) {
        self.alert |= o.alert;
        self.verified |= o.verified;
        self.loss_accepted |= o.loss_accepted;
        for (t, f) in &o.targets {
            match self.targets.get_mut(t) {
                Some(mine) => mine.join(f),
                None => {
                    let mut d = TargetFacts::default();
                    d.join(f);
                    self.targets.insert(t.clone(), d);
                }
            }
        }
        for (t, mine) in &mut self.targets {
            if !o.targets.contains_key(t) {
                mine.join(&TargetFacts::default());
            }
        }
    }

    fn overlay(&mut self, base: &Facts, branch: &Facts, first: bool) {
        for (field, b, br) in [
            (&mut self.alert, base.alert, branch.alert),
            (&mut self.verified, base.verified, branch.verified),
            (
                &mut self.loss_accepted,
                base.loss_accepted,
                branch.loss_accepted,
            ),
        ] {
            if br != b {
                if first || *field == b {
                    *field = br;
                } else {
                    *field |= br;
                }
            }
        }
        let targets: Vec<Target> = branch.targets.keys().cloned().collect();
        for t in targets {
            let base_t = base.target(&t);
            let br_t = branch.target(&t);
            self.target_mut(&t).overlay(&base_t, &br_t, first);
        }
    }
}

/// The role of the failed instance, as far as the playbook knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoleKey {
    Unknown,
    Known(RoleName),
}

/// `Role` with an order, for map keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoleName {
    Master,
    Slave,
}

impl From<Role> for RoleName {
    fn from(r: Role) -> Self {
        match r {
            Role::Master => RoleName::Master,
            Role::Slave => RoleName::Slave,
        }
    }
}

impl RoleName {
    pub fn word(self) -> &'static str {
        match self {
            RoleName::Master => "master",
            RoleName::Slave => "slave",
        }
    }
}

/// The abstract state at a point: empty when no path reaches it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    pub by_role: BTreeMap<RoleKey, Facts>,
}

impl State {
    /// The state at a playbook's start.
    pub fn entry() -> Self {
        let mut by_role = BTreeMap::new();
        by_role.insert(RoleKey::Unknown, Facts::default());
        State { by_role }
    }

    pub fn is_unreachable(&self) -> bool {
        self.by_role.is_empty()
    }

    pub fn join(&mut self, o: &State) {
        for (k, f) in &o.by_role {
            match self.by_role.get_mut(k) {
                Some(mine) => mine.join(f),
                None => {
                    self.by_role.insert(*k, f.clone());
                }
            }
        }
    }

    /// The state after parallel branches that all started from `base`.
    pub fn parallel(base: &State, branches: &[State]) -> State {
        let mut out = State::default();
        for (key, base_facts) in &base.by_role {
            // A branch may have refined the role (a `lookup role` inside it).
            let mut facts = base_facts.clone();
            let mut first = true;
            for b in branches {
                let Some(bf) = b.by_role.get(key).or_else(|| b.by_role.values().next()) else {
                    continue;
                };
                facts.overlay(base_facts, bf, first);
                first = false;
            }
            out.by_role.insert(*key, facts);
        }
        if branches.iter().any(State::is_unreachable) {
            return State::default();
        }
        out
    }

    /// Keeps only the paths where the role is one of `roles` (an unknown role stays:
    /// matching on it is reported, and every arm is then possible).
    pub fn filter_roles(&self, roles: &[RoleName]) -> State {
        State {
            by_role: self
                .by_role
                .iter()
                .filter(|(k, _)| match k {
                    RoleKey::Unknown => true,
                    RoleKey::Known(r) => roles.contains(r),
                })
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
        }
    }

    /// Applies `f` to the facts of every path.
    pub fn each(&mut self, mut f: impl FnMut(&mut Facts)) {
        for facts in self.by_role.values_mut() {
            f(facts);
        }
    }

    /// The roles the failed instance may have here.
    pub fn roles(&self) -> Vec<RoleKey> {
        self.by_role.keys().copied().collect()
    }

    /// The join of the facts of every path, whatever the role.
    pub fn merged(&self) -> Facts {
        let mut it = self.by_role.values();
        let mut out = it.next().cloned().unwrap_or_default();
        for f in it {
            out.join(f);
        }
        out
    }
}

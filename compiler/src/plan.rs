//! The checked plan: what the compiler hands to the runtime once a playbook passes.
//!
//! It is the playbook's structure with every name resolved, procedures inlined and
//! every step given a stable id, so that the runtime interprets a tree it can trust
//! and the journal can name a step across runs of the same file. Branches (`match`,
//! `when`) stay in the tree because their outcome is only known at run time.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A playbook, resolved and checked, ready for `mend plan` and `mend run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckedPlaybook {
    /// The fault class, e.g. `hardware_fault`.
    pub fault: String,
    /// The component the playbook fires for.
    pub component: String,
    /// Every component the playbook mentions, the fired one included.
    pub components: Vec<ComponentSpec>,
    /// The steps.
    pub body: Node,
    /// The file the playbook came from, for messages.
    pub file: String,
}

impl CheckedPlaybook {
    /// The spec of a component by name.
    pub fn component(&self, name: &str) -> Option<&ComponentSpec> {
        self.components.iter().find(|c| c.name == name)
    }
}

/// What the runtime needs to find and judge the instances of a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentSpec {
    pub name: String,
    pub stateful: bool,
    /// Label key/value pairs; a container belongs when all match.
    pub selectors: Vec<(String, String)>,
    pub store: Option<String>,
    pub fixed_ip: bool,
    pub role: RoleSource,
    pub engine: Engine,
    pub database: Option<DatabaseClass>,
    pub probe: Probe,
    pub expect: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleSource {
    None,
    /// §3.2: a JSON node in ZooKeeper; `field` of the entry for this IP maps to a role.
    Zk {
        path: String,
        field: String,
        map: Vec<(i64, Role)>,
    },
    /// §4.2: `read_only` off = master, on = slave.
    ReadOnly,
    /// §4.1.1: the DBPaaS metadata database's `dbfree_instance_list`.
    MetaDb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Master,
    Slave,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Engine {
    Docker,
    Mysql,
    Host,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DatabaseClass {
    Business,
    Control,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Probe {
    None,
    /// The command is read from this container label (`aliyun.probe.cmd`, §5.1).
    Label(String),
    /// A fixed command, split on whitespace, run without a shell.
    Command(String),
}

/// A node of the step tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Node {
    /// Steps one after another (`;`).
    Seq(Vec<Node>),
    /// Steps at the same time (`&`); all must finish.
    Par(Vec<Node>),
    /// `match SUBJECT { … }`: arms hold the values they match; `_` is the rest.
    Match {
        id: StepId,
        subject: String,
        target: Target,
        arms: Vec<(Vec<String>, Node)>,
    },
    /// `when COND < … > else < … >`.
    When {
        id: StepId,
        condition: Condition,
        then: Box<Node>,
        otherwise: Option<Box<Node>>,
    },
    /// `each VAR on SCOPE < … > limit N`.
    Each {
        id: StepId,
        var: String,
        scope: Scope,
        body: Box<Node>,
        limit: usize,
    },
    /// `try < … > catch < … > finally < … >`.
    Try {
        body: Box<Node>,
        catch: Option<Box<Node>>,
        finally: Option<Box<Node>>,
    },
    /// One action.
    Step(Step),
}

/// A stable step id: the path of indices from the playbook's root, e.g. `4.1.0`.
/// Inside a fan-out the runtime appends the instance: `5[task_x].0`.
pub type StepId = String;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub id: StepId,
    pub action: Action,
    pub target: Target,
    pub timeout: Duration,
    /// Extra attempts after a failure; only ever non-zero for idempotent actions.
    pub retry: u32,
    /// The step as written, for plans, prompts and logs.
    pub text: String,
    /// 1-based line in `CheckedPlaybook::file`.
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Target {
    /// The failed instance the playbook fired for.
    SelfNode,
    /// The other node of its pair or group.
    Peer,
    /// A fan-out variable or a procedure parameter bound to one.
    Var(String),
    /// Every instance of a named component.
    Component(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// Every container on the failed instance's host.
    Host,
    /// The instances of a component on the failed instance's host (`host(dbnode)`).
    HostOf(String),
    /// Every instance of a component.
    Component(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Condition {
    /// `when role == master`.
    Equals { subject: String, value: String },
    /// `when all_down(dncs_server)`.
    Predicate { name: String, argument: String },
    /// `when flag`.
    Flag(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Action {
    ConfirmAlert,
    Ask { text: String },
    Escalate { text: String },
    AcceptLoss { reason: String },
    LookupRole,
    LookupName,
    Backup { sources: Vec<BackupSource> },
    Restore,
    Decommission,
    Recreate { same_ip: bool, paused: bool },
    Remove,
    Start,
    Stop,
    Restart,
    Probe,
    Verify { within: Duration },
    WaitReplicaHealthy { within: Duration },
    StartReplica,
    StopReplica,
    SetExecMode { lenient: bool },
    SetParallelWorkers { workers: u32 },
    SetReadOnly { on: bool },
    StartupMysql,
    ForcedSwitch,
    RestartDaemon { daemon: String },
    Exec { argv: Vec<String> },
    Wait { duration: Duration },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BackupSource {
    SelfNode,
    Peer,
    None,
}

impl Action {
    /// Destroys or overwrites state that cannot be had back by running it again:
    /// the journal never repeats such a step once it finished.
    pub fn is_destructive(&self) -> bool {
        matches!(
            self,
            Action::Recreate { .. } | Action::Remove | Action::Decommission | Action::Restore
        )
    }

    /// Running it twice has the effect of running it once: only these may be retried.
    pub fn is_idempotent(&self) -> bool {
        matches!(
            self,
            Action::LookupRole
                | Action::LookupName
                | Action::Probe
                | Action::Verify { .. }
                | Action::WaitReplicaHealthy { .. }
                | Action::StartReplica
                | Action::StopReplica
                | Action::SetExecMode { .. }
                | Action::SetParallelWorkers { .. }
                | Action::SetReadOnly { .. }
                | Action::Start
                | Action::Stop
                | Action::Restart
                | Action::Wait { .. }
        )
    }

    /// Performed or answered by a person rather than a driver.
    pub fn needs_person(&self) -> bool {
        matches!(
            self,
            Action::ConfirmAlert | Action::Ask { .. } | Action::ForcedSwitch | Action::Decommission
        )
    }

    /// Changes the world (used by `mend plan` to show what a step will change, and
    /// by the read-only guarantee of `plan`).
    pub fn mutates(&self) -> bool {
        !matches!(
            self,
            Action::ConfirmAlert
                | Action::Ask { .. }
                | Action::Escalate { .. }
                | Action::AcceptLoss { .. }
                | Action::LookupRole
                | Action::LookupName
                | Action::Probe
                | Action::Verify { .. }
                | Action::WaitReplicaHealthy { .. }
                | Action::Wait { .. }
        )
    }
}

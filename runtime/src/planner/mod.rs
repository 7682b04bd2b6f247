//! `mend plan`: the playbook resolved against the live inventory, read-only, as the
//! concrete steps a run would take: which container, which IP, which database, and
//! what each step would change.
//!
//! The planner is handed [`ReadDrivers`](crate::driver::ReadDrivers) only — the read halves of the driver traits —
//! so it cannot change anything by construction; a test runs it over a recording fake
//! and checks that no mutating call was made. It does read (the role in ZooKeeper, the
//! replica status, `read_only`), to show which branch a run would take now.

use crate::inventory::Inventory;
use crate::resolve::Instance;
use serde::{Deserialize, Serialize};

mod describe;
mod walk;

use std::fmt;
use std::time::Duration;
pub use walk::Planner;

/// `10m`, `30s`, `1m30s`, `500ms`.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, (s % 3600) / 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// An instance as the plan shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedInstance {
    pub name: String,
    pub component: String,
    pub container_id: Option<String>,
    pub ip: Option<String>,
    pub state: Option<String>,
    pub mysql: Option<String>,
    pub host: Option<String>,
    /// Seen only in the snapshot cache: the engine has lost it.
    pub from_snapshot: bool,
}

impl fmt::Display for PlannedInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        let mut parts = Vec::new();
        if let Some(ip) = &self.ip {
            parts.push(ip.clone());
        }
        if let Some(id) = &self.container_id {
            parts.push(id.clone());
        }
        if let Some(s) = &self.state {
            parts.push(s.clone());
        }
        if let Some(m) = &self.mysql {
            parts.push(format!("mysql {m}"));
        }
        if let Some(h) = &self.host {
            parts.push(format!("host {h}"));
        }
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

/// What kind of line of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Step,
    Parallel,
    Match,
    Arm,
    When,
    Branch,
    Each,
    Try,
    Catch,
    Finally,
}

/// One line of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanLine {
    pub depth: usize,
    pub id: String,
    pub kind: LineKind,
    pub text: String,
    /// What it acts on.
    pub on: Vec<String>,
    /// What it will change; `None` for reads.
    pub changes: Option<String>,
    /// A person performs or answers it.
    pub person: bool,
    pub line: u32,
    pub notes: Vec<String>,
}

/// The concrete plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcretePlan {
    pub playbook: String,
    pub fault: String,
    pub component: String,
    pub target: PlannedInstance,
    pub peer: Option<PlannedInstance>,
    pub peer_error: Option<String>,
    pub plan_hash: String,
    pub lines: Vec<PlanLine>,
}

impl fmt::Display for ConcretePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "plan: {} ({}({}))",
            self.playbook, self.fault, self.component
        )?;
        writeln!(f, "target: {}", self.target)?;
        match (&self.peer, &self.peer_error) {
            (Some(p), _) => writeln!(f, "peer:   {p}")?,
            (None, Some(e)) => writeln!(f, "peer:   none ({e})")?,
            _ => {}
        }
        writeln!(f)?;
        let me = self.target.to_string();
        for l in &self.lines {
            let pad = "  ".repeat(l.depth);
            let id = if l.id.is_empty() {
                String::new()
            } else {
                format!("[{}] ", l.id)
            };
            let person = if l.person { "  (a person)" } else { "" };
            writeln!(f, "{pad}{id}{}{person}", l.text)?;
            // Steps on the target say nothing: the header names it.
            for o in l.on.iter().filter(|o| **o != me) {
                writeln!(f, "{pad}    on {o}")?;
            }
            if let Some(c) = &l.changes {
                writeln!(f, "{pad}    changes: {c}")?;
            }
            for n in &l.notes {
                writeln!(f, "{pad}    note: {n}")?;
            }
        }
        Ok(())
    }
}

pub(crate) fn planned(i: &Instance, inv: &Inventory, live: bool) -> PlannedInstance {
    PlannedInstance {
        name: i.name.clone(),
        component: i.component.clone(),
        container_id: i.container.as_ref().map(|c| c.short_id().to_owned()),
        ip: i.ip().map(str::to_owned),
        state: i.container.as_ref().map(|c| c.state.to_string()),
        mysql: i
            .mysql
            .as_ref()
            .and_then(|m| inv.mysql.get(m))
            .map(crate::inventory::MysqlEndpoint::describe),
        host: i.host.clone(),
        from_snapshot: !live,
    }
}

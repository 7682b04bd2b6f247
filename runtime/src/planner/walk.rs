//! Walking the step tree for `mend plan`.

use super::human;
use super::{ConcretePlan, LineKind, PlanLine, planned};
use crate::driver::{DriverErrorKind, ReadDrivers, broker_role};
use crate::inventory::Inventory;
use crate::resolve::{Instance, Resolver};
use crate::snapshot::SnapshotStore;
use mend_compiler::plan::{
    CheckedPlaybook, ComponentSpec, Node, Role, RoleSource, Scope, Step, Target,
};

/// Builds plans.
pub struct Planner<'a> {
    pub inventory: &'a Inventory,
    pub drivers: &'a ReadDrivers,
    pub snapshots: Option<&'a SnapshotStore>,
    pub playbook: &'a CheckedPlaybook,
    pub(super) me: Option<Instance>,
    pub(super) peer: Result<Instance, String>,
    lines: Vec<PlanLine>,
}

impl<'a> Planner<'a> {
    pub fn new(
        inventory: &'a Inventory,
        drivers: &'a ReadDrivers,
        snapshots: Option<&'a SnapshotStore>,
        playbook: &'a CheckedPlaybook,
    ) -> Self {
        Planner {
            inventory,
            drivers,
            snapshots,
            playbook,
            me: None,
            peer: Err("not resolved".into()),
            lines: Vec::new(),
        }
    }

    fn resolver(&self) -> Resolver<'_> {
        Resolver {
            inventory: self.inventory,
            docker: self.drivers.docker.as_ref(),
            zk: self.drivers.zk.as_ref(),
            snapshots: self.snapshots,
        }
    }

    /// Resolves `target` and walks the playbook.
    pub async fn plan(
        mut self,
        target: &str,
        plan_hash: String,
    ) -> Result<ConcretePlan, crate::RuntimeError> {
        let spec = self
            .playbook
            .component(&self.playbook.component)
            .ok_or_else(|| {
                crate::resolve::ResolveError::UnknownComponent(self.playbook.component.clone())
            })?;
        let me = self.resolver().target(spec, target).await?;
        let live = match &me.container {
            Some(_) => self
                .drivers
                .docker
                .inspect(&me.name)
                .await
                .ok()
                .flatten()
                .is_some(),
            None => true,
        };
        self.peer = self
            .resolver()
            .peer(spec, &me)
            .await
            .map_err(|e| e.to_string());
        self.me = Some(me.clone());
        self.walk(&self.playbook.body, 0).await;
        Ok(ConcretePlan {
            playbook: self.playbook.file.clone(),
            fault: self.playbook.fault.clone(),
            component: self.playbook.component.clone(),
            target: planned(&me, self.inventory, live),
            peer: self
                .peer
                .as_ref()
                .ok()
                .map(|p| planned(p, self.inventory, true)),
            peer_error: self.peer.as_ref().err().cloned(),
            plan_hash,
            lines: self.lines,
        })
    }

    pub(super) fn me(&self) -> &Instance {
        self.me.as_ref().expect("resolved before walking")
    }

    fn push(&mut self, depth: usize, id: &str, kind: LineKind, text: String) -> usize {
        self.lines.push(PlanLine {
            depth,
            id: id.to_owned(),
            kind,
            text,
            on: Vec::new(),
            changes: None,
            person: false,
            line: 0,
            notes: Vec::new(),
        });
        self.lines.len() - 1
    }

    fn walk<'s>(
        &'s mut self,
        node: &'s Node,
        depth: usize,
    ) -> futures_util::future::BoxFuture<'s, ()> {
        Box::pin(async move {
            match node {
                Node::Seq(c) => {
                    for n in c {
                        self.walk(n, depth).await;
                    }
                }
                Node::Par(c) => {
                    self.push(depth, "", LineKind::Parallel, "at the same time:".into());
                    for n in c {
                        self.walk(n, depth + 1).await;
                    }
                }
                Node::Step(s) => self.step(s, depth).await,
                Node::Try {
                    body,
                    catch,
                    finally,
                } => {
                    self.push(depth, "", LineKind::Try, "try:".into());
                    self.walk(body, depth + 1).await;
                    if let Some(c) = catch {
                        self.push(depth, "", LineKind::Catch, "on failure:".into());
                        self.walk(c, depth + 1).await;
                    }
                    if let Some(f) = finally {
                        self.push(depth, "", LineKind::Finally, "always, after it:".into());
                        self.walk(f, depth + 1).await;
                    }
                }
                Node::Match {
                    id,
                    subject,
                    target,
                    arms,
                } => {
                    let now = self.predict(subject, target).await;
                    let text = match &now {
                        Ok(v) => format!("match {subject} (now: {v})"),
                        Err(e) => format!("match {subject} (decided at run time: {e})"),
                    };
                    self.push(depth, id, LineKind::Match, text);
                    // The arm a run would take now: the first that has the value or `_`.
                    let taken_at = now.as_ref().ok().and_then(|v| {
                        arms.iter()
                            .position(|(vals, _)| vals.iter().any(|x| x == v || x == "_"))
                    });
                    for (i, (values, body)) in arms.iter().enumerate() {
                        let taken = taken_at == Some(i);
                        let mark = if taken { "  <- now" } else { "" };
                        self.push(
                            depth + 1,
                            "",
                            LineKind::Arm,
                            format!("{} =>{mark}", values.join(" | ")),
                        );
                        self.walk(body, depth + 2).await;
                    }
                }
                Node::When {
                    id,
                    condition,
                    then,
                    otherwise,
                } => {
                    let text = crate::subjects::condition_text(condition);
                    self.push(depth, id, LineKind::When, format!("when {text}:"));
                    self.walk(then, depth + 1).await;
                    if let Some(o) = otherwise {
                        self.push(depth, "", LineKind::Branch, "otherwise:".into());
                        self.walk(o, depth + 1).await;
                    }
                }
                Node::Each {
                    id,
                    var,
                    scope,
                    body,
                    limit,
                } => {
                    let found = match scope {
                        Scope::Host => self
                            .resolver()
                            .host_scope(self.me(), &self.playbook.components)
                            .await
                            .map_err(|e| e.to_string()),
                        Scope::HostOf(c) => match self.playbook.component(c) {
                            Some(spec) => self
                                .resolver()
                                .host_of(spec, self.me())
                                .await
                                .map_err(|e| e.to_string()),
                            None => Err(format!("component `{c}` is not in the playbook")),
                        },
                        Scope::Component(c) => match self.playbook.component(c) {
                            Some(spec) => self
                                .resolver()
                                .instances(spec)
                                .await
                                .map_err(|e| e.to_string()),
                            None => Err(format!("component `{c}` is not in the playbook")),
                        },
                    };
                    let scope_text = match scope {
                        Scope::Host => "host".to_owned(),
                        Scope::HostOf(c) => format!("host({c})"),
                        Scope::Component(c) => c.clone(),
                    };
                    let limit_text = if *limit == 0 {
                        String::new()
                    } else {
                        format!(", {limit} at a time")
                    };
                    let i = self.push(depth, id, LineKind::Each, String::new());
                    match found {
                        Ok(list) => {
                            self.lines[i].text = format!(
                                "each {var} on {scope_text}: {} instances{limit_text}",
                                list.len()
                            );
                            self.lines[i].on = list
                                .iter()
                                .map(|x| planned(x, self.inventory, true).to_string())
                                .collect();
                        }
                        Err(e) => {
                            self.lines[i].text = format!("each {var} on {scope_text}{limit_text}");
                            self.lines[i]
                                .notes
                                .push(format!("cannot list them now: {e}"));
                        }
                    }
                    self.walk(body, depth + 1).await;
                }
            }
        })
    }

    /// A match subject's value now, read-only.
    async fn predict(&self, subject: &str, target: &Target) -> Result<String, String> {
        let inst = self.target_of(target).map_err(|e| e.clone())?;
        match subject {
            "role" => self
                .role_now(&inst)
                .await
                .map(|(r, _)| broker_role::role_name(r).to_owned()),
            "replica_error" => {
                let ep = inst.mysql.as_deref().ok_or("no MySQL server for it")?;
                let s = self
                    .drivers
                    .mysql
                    .replica_status(ep)
                    .await
                    .map_err(|e| e.message)?;
                Ok(s.map_or("none", |s| s.classify().as_str()).to_owned())
            }
            "peer_mode" => {
                let of = if *target == Target::Peer {
                    inst
                } else {
                    self.peer.clone()?
                };
                let ep = of.mysql.as_deref().ok_or("no MySQL server for the peer")?;
                crate::subjects::mode_of(self.drivers.mysql.as_ref(), ep).await
            }
            _ => Err("known only while the run goes".into()),
        }
    }

    fn target_of(&self, t: &Target) -> Result<Instance, String> {
        match t {
            Target::SelfNode => Ok(self.me().clone()),
            Target::Peer => self.peer.clone(),
            Target::Var(v) => Err(format!("each `{v}`")),
            Target::Component(c) => Err(format!("every `{c}`")),
        }
    }

    pub(super) async fn role_now(&self, inst: &Instance) -> Result<(Role, String), String> {
        let spec = self
            .playbook
            .component(&inst.component)
            .ok_or("no component spec")?;
        match &spec.role {
            RoleSource::None => Err("the component has no role source".into()),
            RoleSource::Zk { path, field, map } => {
                let ip = inst.ip().ok_or("no IP known")?;
                let root = self
                    .inventory
                    .zookeeper
                    .as_ref()
                    .map_or(crate::inventory::DEFAULT_BROKER_NAMES, |z| {
                        z.broker_names.as_str()
                    });
                let r =
                    broker_role::broker_role(self.drivers.zk.as_ref(), root, path, field, map, ip)
                        .await
                        .map_err(|e| e.message)?;
                Ok((r.role, r.how))
            }
            RoleSource::ReadOnly => {
                let ep = inst.mysql.as_deref().ok_or("no MySQL server for it")?;
                match self.drivers.mysql.read_only(ep).await {
                    Ok(ro) => Ok((
                        if ro { Role::Slave } else { Role::Master },
                        format!("`read_only` is {}", if ro { "ON" } else { "OFF" }),
                    )),
                    // §4.2: judged by the peer when the node does not answer.
                    Err(e) if e.kind == DriverErrorKind::Unreachable => {
                        let peer = match self.peer.as_ref() {
                            Ok(p) if self.me.as_ref().is_some_and(|m| m.name == inst.name) => p,
                            _ => return Err(e.message),
                        };
                        let pep = peer.mysql.as_deref().ok_or_else(|| e.message.clone())?;
                        let peer_ro = self
                            .drivers
                            .mysql
                            .read_only(pep)
                            .await
                            .map_err(|pe| format!("{}; its peer: {}", e.message, pe.message))?;
                        Ok((
                            if peer_ro { Role::Master } else { Role::Slave },
                            format!(
                                "`{ep}` does not answer; its peer `{pep}` has `read_only` {} (§4.2)",
                                if peer_ro { "ON" } else { "OFF" }
                            ),
                        ))
                    }
                    Err(e) => Err(e.message),
                }
            }
            RoleSource::MetaDb => {
                let meta = self
                    .inventory
                    .metadb()
                    .ok_or("no metadata DB in the inventory")?;
                let ep = inst
                    .mysql
                    .as_ref()
                    .and_then(|m| self.inventory.mysql.get(m))
                    .ok_or("no MySQL server for it")?;
                let ip = ep.meta_ip.clone().unwrap_or_else(|| ep.host.clone());
                let port = ep.meta_port.unwrap_or(ep.port);
                let rows = self
                    .drivers
                    .mysql
                    .metadb_roles(&meta.name, &ip, port)
                    .await
                    .map_err(|e| e.message)?;
                let row = rows
                    .iter()
                    .find(|r| r.ip == ip && r.port == port)
                    .ok_or("no row for it")?;
                match row.role.to_ascii_lowercase().as_str() {
                    "master" => Ok((Role::Master, "metadata DB".into())),
                    "slave" => Ok((Role::Slave, "metadata DB".into())),
                    other => Err(format!("metadata DB says `{other}`")),
                }
            }
        }
    }

    pub(super) fn spec_of(&self, inst: &Instance) -> Option<&ComponentSpec> {
        self.playbook.component(&inst.component)
    }

    async fn step(&mut self, step: &Step, depth: usize) {
        let i = self.push(depth, &step.id, LineKind::Step, step.text.clone());
        self.lines[i].line = step.line;
        self.lines[i].person = step.action.needs_person();
        let targets: Vec<Instance> = match &step.target {
            Target::SelfNode => vec![self.me().clone()],
            Target::Peer => match &self.peer {
                Ok(p) => vec![p.clone()],
                Err(e) => {
                    self.lines[i].on.push("peer".into());
                    self.lines[i].notes.push(format!("no peer: {e}"));
                    Vec::new()
                }
            },
            Target::Var(v) => {
                self.lines[i].on.push(format!("each `{v}`"));
                Vec::new()
            }
            Target::Component(c) => match self.playbook.component(c) {
                Some(spec) => self.resolver().instances(spec).await.unwrap_or_default(),
                None => Vec::new(),
            },
        };
        for t in &targets {
            self.lines[i]
                .on
                .push(planned(t, self.inventory, true).to_string());
        }
        let first = targets.first().cloned();
        let (changes, notes) = self.describe(step, first.as_ref()).await;
        self.lines[i].changes = changes;
        self.lines[i].notes.extend(notes);
        if step.retry > 0 && step.action.is_idempotent() {
            self.lines[i].notes.push(format!(
                "timeout {}, up to {} retries",
                human(step.timeout),
                step.retry
            ));
        }
    }
}

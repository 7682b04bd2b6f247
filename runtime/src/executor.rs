//! The executor: interprets a checked plan's step tree.
//!
//! - `Seq` runs its children in order and stops at the first that does not succeed.
//! - `Par` and `Each` run their children concurrently and wait for all of them (a
//!   failure in one branch does not stop the others: no step is cut off half-way).
//!   `Each` runs at most `limit` bodies at once; every step also holds a permit of the
//!   run's global `--concurrency` semaphore while it acts (steps waiting for a person
//!   do not).
//! - A step has a timeout (zero: none) and is retried with exponential backoff only if
//!   its action is idempotent.
//! - `Match` and `When` decide on what the run has learned or reads now; the decision
//!   is journaled (durably) before the branch runs, so a resumed run takes the same
//!   branch even if the world has changed since (the replica repaired, say).
//! - `Try`: `catch` runs when the body fails, and the run goes on after the `try`;
//!   `finally` runs on every exit of the body (success, failure, escalation) — after
//!   the `catch` when there is one — and a failure still propagates after it. A step
//!   that fails inside `finally` ends the run as failed: no outer `catch` takes it.
//! - `escalate` ends the run as escalated (siblings in a `Par` finish first).
//! - A fault (a service unreachable, a step past its timeout, the journal or the
//!   state directory not writable) suspends the run: the step stays in flight, no
//!   `catch` takes it, siblings in a `Par` finish, no end record is written, and
//!   `mend resume` reconciles the step and goes on (docs/reliability.md).
//!
//! The outcome of a tree is a `Flow`; when branches are combined the most severe wins:
//! escalated, then aborted, then failed.

use crate::abort::AbortSignal;
use crate::answers::Answers;
use crate::driver::Drivers;
pub(crate) use crate::flow::{ActError, Done, Flow, Scope};
use crate::inventory::Inventory;
use crate::journal::{Journal, Record, Replay};
use crate::learned::Learned;
use crate::observer::{Event, Observer};
use crate::resolve::{Instance, Resolver};
use crate::snapshot::SnapshotStore;
use crate::summary::{StepResult, StepStatus};
use futures_util::future::{BoxFuture, join_all};
use mend_compiler::plan::{CheckedPlaybook, Node, Scope as EachScope, Target};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Knobs of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where runs, journals, locks, backups and snapshots live.
    pub state_dir: PathBuf,
    /// Steps acting at once, over the whole run (`--concurrency`).
    pub concurrency: usize,
    /// First retry delay; doubled on each retry up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How often `verify` and `wait replica_healthy` look again.
    pub poll: Duration,
}

impl RunOptions {
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        RunOptions {
            state_dir: state_dir.into(),
            concurrency: 8,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            poll: Duration::from_secs(1),
        }
    }
}

/// One run in progress.
pub(crate) struct Exec {
    pub(crate) run_id: String,
    pub(crate) run_dir: PathBuf,
    pub(crate) playbook: Arc<CheckedPlaybook>,
    pub(crate) inventory: Arc<Inventory>,
    pub(crate) drivers: Drivers,
    pub(crate) answers: Arc<dyn Answers>,
    pub(crate) observer: Arc<dyn Observer>,
    pub(crate) journal: Journal,
    pub(crate) opts: RunOptions,
    pub(crate) abort: AbortSignal,
    pub(crate) me: Instance,
    pub(crate) peer: Result<Instance, String>,
    pub(crate) replay: Replay,
    pub(crate) learned: Learned,
    pub(crate) snapshots: SnapshotStore,
    pub(crate) semaphore: Semaphore,
    results: Mutex<Vec<StepResult>>,
    losses: Mutex<Vec<String>>,
}

/// What [`Exec::new`] needs.
pub(crate) struct ExecParts {
    pub(crate) run_id: String,
    pub(crate) run_dir: PathBuf,
    pub(crate) playbook: Arc<CheckedPlaybook>,
    pub(crate) inventory: Arc<Inventory>,
    pub(crate) drivers: Drivers,
    pub(crate) answers: Arc<dyn Answers>,
    pub(crate) observer: Arc<dyn Observer>,
    pub(crate) journal: Journal,
    pub(crate) opts: RunOptions,
    pub(crate) abort: AbortSignal,
    pub(crate) me: Instance,
    pub(crate) peer: Result<Instance, String>,
    pub(crate) replay: Replay,
}

impl Exec {
    pub(crate) fn new(p: ExecParts) -> Exec {
        let learned = Learned::new(p.replay.learned.clone());
        Exec {
            semaphore: Semaphore::new(p.opts.concurrency.max(1)),
            snapshots: SnapshotStore::new(&p.opts.state_dir),
            run_id: p.run_id,
            run_dir: p.run_dir,
            playbook: p.playbook,
            inventory: p.inventory,
            drivers: p.drivers,
            answers: p.answers,
            observer: p.observer,
            journal: p.journal,
            opts: p.opts,
            abort: p.abort,
            me: p.me,
            peer: p.peer,
            replay: p.replay,
            learned,
            results: Mutex::new(Vec::new()),
            losses: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn resolver(&self) -> Resolver<'_> {
        Resolver {
            inventory: &self.inventory,
            docker: self.drivers.read().docker.as_ref(),
            zk: self.drivers.read().zk.as_ref(),
            snapshots: Some(&self.snapshots),
        }
    }

    pub(crate) fn take_results(&self) -> (Vec<StepResult>, Vec<String>) {
        let r = std::mem::take(
            &mut *self
                .results
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let l = std::mem::take(
            &mut *self
                .losses
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        (r, l)
    }

    pub(crate) fn accept_loss(&self, reason: &str) {
        self.losses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(reason.to_owned());
    }

    pub(crate) fn push_result(&self, r: StepResult) {
        self.results
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(r);
    }

    pub(crate) fn emit(&self, e: &Event) {
        self.observer.event(e);
    }

    /// Writes a journal record; a journal that cannot be written stops the run (it
    /// could no longer promise not to repeat a step).
    pub(crate) async fn write(&self, r: &Record, durable: bool) -> Result<(), String> {
        self.journal
            .append(r, durable)
            .await
            .map_err(|e| format!("cannot write the journal, stopping: {e}"))
    }

    /// Interprets a node.
    pub(crate) fn node<'a>(&'a self, node: &'a Node, scope: &'a Scope) -> BoxFuture<'a, Flow> {
        Box::pin(async move {
            match node {
                Node::Seq(children) => {
                    for c in children {
                        let f = self.node(c, scope).await;
                        if f != Flow::Ok {
                            return f;
                        }
                    }
                    Flow::Ok
                }
                Node::Par(children) => {
                    let flows = join_all(children.iter().map(|c| self.node(c, scope))).await;
                    flows.into_iter().fold(Flow::Ok, Flow::worst)
                }
                Node::Step(step) => self.step(step, scope).await,
                Node::Try {
                    body,
                    catch,
                    finally,
                } => {
                    let mut flow = self.node(body, scope).await;
                    // Suspended: the body has not exited, it is paused; `catch` and
                    // `finally` run when it does (after `mend resume`).
                    if matches!(flow, Flow::Suspended(_)) {
                        return flow;
                    }
                    if let (Flow::Failed(e), Some(c)) = (&flow, catch) {
                        self.emit(&Event::Note {
                            id: String::new(),
                            message: format!("caught: {e}"),
                        });
                        flow = self.node(c, scope).await;
                        if matches!(flow, Flow::Suspended(_)) {
                            return flow;
                        }
                    }
                    if let Some(f) = finally {
                        let after = match self.node(f, scope).await {
                            Flow::Failed(e) => Flow::Fatal(e),
                            other => other,
                        };
                        flow = Flow::worst(flow, after);
                    }
                    flow
                }
                Node::Match {
                    id,
                    subject,
                    target,
                    arms,
                } => {
                    let id = scope.id(id);
                    let value = match self
                        .decide(&id, subject, || self.subject(subject, target, scope))
                        .await
                    {
                        Ok(v) => v,
                        Err(e) => return self.fail_decision(&id, &format!("match {subject}"), e),
                    };
                    // Arms are tried in order: an arm after `_` is never taken.
                    let arm = arms
                        .iter()
                        .find(|(vals, _)| vals.iter().any(|v| v == &value || v == "_"));
                    match arm {
                        Some((_, body)) => self.node(body, scope).await,
                        None => self.fail_decision(
                            &id,
                            &format!("match {subject}"),
                            format!("no arm of `match {subject}` takes `{value}`"),
                        ),
                    }
                }
                Node::When {
                    id,
                    condition,
                    then,
                    otherwise,
                } => {
                    let id = scope.id(id);
                    let what = crate::subjects::condition_text(condition);
                    let value = match self
                        .decide(&id, &what, || async {
                            self.condition(condition, scope)
                                .await
                                .map(|b| b.to_string())
                        })
                        .await
                    {
                        Ok(v) => v,
                        Err(e) => return self.fail_decision(&id, &format!("when {what}"), e),
                    };
                    if value == "true" {
                        self.node(then, scope).await
                    } else if let Some(o) = otherwise {
                        self.node(o, scope).await
                    } else {
                        Flow::Ok
                    }
                }
                Node::Each {
                    id,
                    var,
                    scope: each_scope,
                    body,
                    limit,
                } => {
                    let id = scope.id(id);
                    let instances = match self.each_instances(&id, each_scope).await {
                        Ok(i) => i,
                        Err(e) => return self.fail_decision(&id, &format!("each {var}"), e),
                    };
                    let limit = if *limit == 0 {
                        instances.len().max(1)
                    } else {
                        *limit
                    };
                    let gate = Semaphore::new(limit);
                    let flows = join_all(instances.into_iter().map(|inst| {
                        let mut inner = scope.clone();
                        inner.rewrites.push((id.clone(), inst.name.clone()));
                        inner.vars.push((var.clone(), inst));
                        let gate = &gate;
                        async move {
                            let _permit = gate.acquire().await.expect("never closed");
                            self.node(body, &inner).await
                        }
                    }))
                    .await;
                    flows.into_iter().fold(Flow::Ok, Flow::worst)
                }
            }
        })
    }

    pub(crate) fn fail_decision(&self, id: &str, text: &str, e: String) -> Flow {
        self.push_result(StepResult {
            id: id.to_owned(),
            text: text.to_owned(),
            target: self.me.name.clone(),
            status: StepStatus::Failed,
            message: e.clone(),
            attempts: 1,
            elapsed_ms: 0,
            replayed: false,
        });
        Flow::Failed(format!("{id} `{text}`: {e}"))
    }

    /// A decision: replayed from the journal, or made now and journaled first.
    async fn decide<F, Fut>(&self, id: &str, subject: &str, make: F) -> Result<String, String>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<String, String>>,
    {
        let value = if let Some(v) = self.replay.decisions.get(id) {
            v.clone()
        } else {
            let v = make().await?;
            self.write(
                &Record::Decision {
                    step: id.to_owned(),
                    subject: subject.to_owned(),
                    value: v.clone(),
                    ts: crate::clock::now(),
                },
                true,
            )
            .await?;
            v
        };
        self.emit(&Event::Decision {
            id: id.to_owned(),
            subject: subject.to_owned(),
            value: value.clone(),
        });
        Ok(value)
    }

    async fn each_instances(&self, id: &str, scope: &EachScope) -> Result<Vec<Instance>, String> {
        let live = match scope {
            EachScope::Host => self
                .resolver()
                .host_scope(&self.me, &self.playbook.components)
                .await
                .map_err(|e| e.to_string())?,
            EachScope::HostOf(c) => {
                let spec = self
                    .playbook
                    .component(c)
                    .ok_or_else(|| format!("component `{c}` is not in the playbook"))?;
                self.resolver()
                    .host_of(spec, &self.me)
                    .await
                    .map_err(|e| e.to_string())?
            }
            EachScope::Component(c) => {
                let spec = self
                    .playbook
                    .component(c)
                    .ok_or_else(|| format!("component `{c}` is not in the playbook"))?;
                self.resolver()
                    .instances(spec)
                    .await
                    .map_err(|e| e.to_string())?
            }
        };
        for i in &live {
            if let Some(c) = &i.container {
                let _ = self.snapshots.save(c);
            }
        }
        let subject = match scope {
            EachScope::Host => "host".to_owned(),
            EachScope::HostOf(c) => format!("host({c})"),
            EachScope::Component(c) => c.clone(),
        };
        let names: Vec<String> = live.iter().map(|i| i.name.clone()).collect();
        let decided = self
            .decide(id, &subject, || async {
                Ok(serde_json::to_string(&names).expect("serializes"))
            })
            .await?;
        let chosen: Vec<String> = serde_json::from_str(&decided)
            .map_err(|e| format!("journal: fan-out of {id} unreadable: {e}"))?;
        // A resumed run fans out over the same instances as the first, even those the
        // engine has lost since (from their snapshots).
        let mut out = Vec::new();
        for name in chosen {
            if let Some(i) = live.iter().find(|i| i.name == name) {
                out.push(i.clone());
            } else if let Some(c) = self.snapshots.get(&name) {
                let mut i = live.first().cloned().unwrap_or_else(|| self.me.clone());
                i.name.clone_from(&c.name);
                i.container = Some(c);
                out.push(i);
            } else {
                return Err(format!(
                    "fan-out {id}: `{name}` is gone and has no snapshot"
                ));
            }
        }
        Ok(out)
    }

    /// The instances a step acts on.
    pub(crate) async fn targets(
        &self,
        target: &Target,
        scope: &Scope,
    ) -> Result<Vec<Instance>, String> {
        match target {
            Target::SelfNode => Ok(vec![self.me.clone()]),
            Target::Peer => self.peer.clone().map(|p| vec![p]),
            Target::Var(v) => scope
                .var(v)
                .cloned()
                .map(|i| vec![i])
                .ok_or_else(|| format!("`{v}` is not bound here")),
            Target::Component(c) => {
                let spec = self
                    .playbook
                    .component(c)
                    .ok_or_else(|| format!("component `{c}` is not in the playbook"))?;
                let all = self
                    .resolver()
                    .instances(spec)
                    .await
                    .map_err(|e| e.to_string())?;
                if all.is_empty() {
                    Err(format!("no instance of `{c}` in the inventory"))
                } else {
                    Ok(all)
                }
            }
        }
    }
}

/// Number of step nodes in a tree (fan-outs count once), for progress bars.
pub fn count_steps(node: &Node) -> usize {
    match node {
        Node::Seq(c) | Node::Par(c) => c.iter().map(count_steps).sum(),
        Node::Step(_) => 1,
        Node::Match { arms, .. } => arms.iter().map(|(_, n)| count_steps(n)).sum(),
        Node::When {
            then, otherwise, ..
        } => count_steps(then) + otherwise.as_ref().map_or(0, |o| count_steps(o)),
        Node::Each { body, .. } => count_steps(body),
        Node::Try {
            body,
            catch,
            finally,
        } => {
            count_steps(body)
                + catch.as_ref().map_or(0, |c| count_steps(c))
                + finally.as_ref().map_or(0, |f| count_steps(f))
        }
    }
}

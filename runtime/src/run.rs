//! The runtime's front door: `plan`, `run`, `resume`, with the state directory laid
//! out as
//!
//! ```text
//! <state>/runs/<RUN_ID>/journal.jsonl   the journal (crate::journal)
//! <state>/runs/<RUN_ID>/plan.json       the checked plan the run follows
//! <state>/runs/<RUN_ID>/instances.json  target and peer as resolved (0600: container env)
//! <state>/runs/<RUN_ID>/backups/        stores copied out (§3.2)
//! <state>/runs/<RUN_ID>/pending/STEP    a step waiting for a person (its question)
//! <state>/runs/<RUN_ID>/answers/STEP    `mend answer` writes here
//! <state>/locks/<TARGET>.lock           one run per target (crate::lock)
//! <state>/snapshots/<NAME>.json         last config of each container (crate::snapshot)
//! ```

use crate::abort::AbortSignal;
use crate::answers::{Answers, NoAnswers};
use crate::driver::Drivers;
use crate::executor::{Exec, ExecParts, Flow, RunOptions, Scope, count_steps};
use crate::inventory::{Inventory, InventoryError};
use crate::journal::{Header, JOURNAL_VERSION, Journal, JournalError, Loaded, Record, Replay};
use crate::lock::{LockError, TargetLock};
use crate::observer::{Event, NoopObserver, Observer};
use crate::planner::{ConcretePlan, Planner};
use crate::resolve::{Instance, ResolveError, Resolver};
use crate::snapshot::{SnapshotStore, write_private};
use crate::summary::{EXIT_ERROR, EXIT_LOCKED, Outcome, RunSummary};
use mend_compiler::plan::CheckedPlaybook;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Why `plan`, `run` or `resume` could not start (or go on).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Locked(#[from] LockError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("no run `{run_id}` in `{state_dir}`")]
    NoSuchRun { run_id: String, state_dir: String },
    #[error("run `{run_id}` has already ended: {outcome} ({message})")]
    AlreadyFinished {
        run_id: String,
        outcome: Outcome,
        message: String,
    },
    #[error("{0}")]
    State(String),
}

impl RuntimeError {
    /// The process exit code for this error (see [`Outcome`] for the table).
    pub fn exit_code(&self) -> i32 {
        match self {
            RuntimeError::Locked(LockError::Held { .. }) => EXIT_LOCKED,
            _ => EXIT_ERROR,
        }
    }
}

/// The state directory: the inventory's `state_dir`, else `$MEND_STATE_DIR`, else
/// `$XDG_STATE_HOME/mend`, else `~/.local/state/mend`, else `./.mend`.
pub fn default_state_dir(inventory: &Inventory) -> PathBuf {
    if let Some(d) = &inventory.state_dir {
        return d.clone();
    }
    if let Some(d) = std::env::var_os("MEND_STATE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(d).join("mend");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".local/state/mend");
    }
    PathBuf::from(".mend")
}

/// FNV-1a (64 bit) of the plan's JSON: stable across builds, enough to tell a changed
/// plan from the one a run started with.
pub fn plan_hash(playbook: &CheckedPlaybook) -> String {
    let bytes = serde_json::to_vec(playbook).expect("plans serialize");
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn new_run_id(component: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    let safe: String = component
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{}-{safe}-{:04x}",
        crate::clock::compact(std::time::SystemTime::now()),
        h.finish() & 0xffff
    )
}

/// What `instances.json` holds.
#[derive(Serialize, Deserialize)]
struct RunInstances {
    me: Instance,
    peer: Result<Instance, String>,
}

/// A run, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    pub run_id: String,
    pub playbook: String,
    pub target: String,
    pub started: String,
    /// `None`: still running, or its runner died (resume it).
    pub outcome: Option<Outcome>,
    /// An unfinished run whose runner still holds its lock, alive on this machine.
    pub running: bool,
}

/// Every run in the state directory, oldest first.
pub fn list_runs(state_dir: &Path) -> Vec<RunInfo> {
    let live: Vec<String> = crate::lock::TargetLock::holders(state_dir)
        .into_iter()
        .filter(crate::lock::Holder::alive)
        .map(|h| h.run_id)
        .collect();
    let mut out: Vec<RunInfo> = std::fs::read_dir(state_dir.join("runs"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Loaded::read(&e.path().join("journal.jsonl")).ok())
        .map(|l| RunInfo {
            running: l.end().is_none() && live.contains(&l.header.run_id),
            outcome: l.end().map(|(o, _)| o),
            run_id: l.header.run_id,
            playbook: l.header.playbook,
            target: l.header.instance,
            started: l.header.started,
        })
        .collect();
    out.sort_by(|a, b| a.started.cmp(&b.started));
    out
}

/// Plans, runs and resumes playbooks against an inventory.
pub struct Runtime {
    inventory: Arc<Inventory>,
    drivers: Drivers,
    answers: Arc<dyn Answers>,
    observer: Arc<dyn Observer>,
    options: RunOptions,
    abort: AbortSignal,
}

impl Runtime {
    pub fn new(inventory: Inventory, drivers: Drivers, options: RunOptions) -> Self {
        Runtime {
            inventory: Arc::new(inventory),
            drivers,
            answers: Arc::new(NoAnswers),
            observer: Arc::new(NoopObserver),
            options,
            abort: AbortSignal::new(),
        }
    }

    /// Where answers for steps that need a person come from (default: none, such a
    /// step fails).
    pub fn with_answers(mut self, answers: Arc<dyn Answers>) -> Self {
        self.answers = answers;
        self
    }

    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = observer;
        self
    }

    /// The signal that interrupts a run (give it to a Ctrl-C handler).
    pub fn abort_signal(&self) -> AbortSignal {
        self.abort.clone()
    }

    pub fn state_dir(&self) -> &Path {
        &self.options.state_dir
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    fn snapshots(&self) -> SnapshotStore {
        SnapshotStore::new(&self.options.state_dir)
    }

    /// Keeps the configs of the component's live containers (for a later recreate).
    async fn refresh_snapshots(&self, playbook: &CheckedPlaybook) {
        let store = self.snapshots();
        let resolver = Resolver {
            inventory: &self.inventory,
            docker: self.drivers.read().docker.as_ref(),
            zk: self.drivers.read().zk.as_ref(),
            snapshots: None,
        };
        for spec in &playbook.components {
            if let Ok(all) = resolver.instances(spec).await {
                for c in all.iter().filter_map(|i| i.container.as_ref()) {
                    let _ = store.save(c);
                }
            }
        }
    }

    /// `mend plan`: the concrete plan, read-only. It also refreshes the local snapshot
    /// cache (`<state>/snapshots`); it changes nothing else, anywhere.
    pub async fn plan(
        &self,
        playbook: &CheckedPlaybook,
        target: &str,
    ) -> Result<ConcretePlan, RuntimeError> {
        let store = self.snapshots();
        let plan = Planner::new(&self.inventory, self.drivers.read(), Some(&store), playbook)
            .plan(target, plan_hash(playbook))
            .await?;
        self.refresh_snapshots(playbook).await;
        Ok(plan)
    }

    /// `mend run`: runs the playbook for `target` to its end.
    pub async fn run(
        &self,
        playbook: &CheckedPlaybook,
        target: &str,
    ) -> Result<RunSummary, RuntimeError> {
        let store = self.snapshots();
        let spec = playbook
            .component(&playbook.component)
            .ok_or_else(|| ResolveError::UnknownComponent(playbook.component.clone()))?;
        let resolver = Resolver {
            inventory: &self.inventory,
            docker: self.drivers.read().docker.as_ref(),
            zk: self.drivers.read().zk.as_ref(),
            snapshots: Some(&store),
        };
        let me = resolver.target(spec, target).await?;
        let peer = resolver.peer(spec, &me).await.map_err(|e| e.to_string());
        self.refresh_snapshots(playbook).await;

        let run_id = new_run_id(&playbook.component);
        let lock = TargetLock::acquire(&self.options.state_dir, &me.name, &run_id)?;
        let run_dir = self.options.state_dir.join("runs").join(&run_id);
        let state_err = |what: &str, e: std::io::Error| {
            RuntimeError::State(format!("{what} in `{}`: {e}", run_dir.display()))
        };
        std::fs::create_dir_all(&run_dir)
            .map_err(|e| state_err("cannot create the run directory", e))?;
        let plan_json = serde_json::to_vec_pretty(playbook).expect("plans serialize");
        write_private(&run_dir.join("plan.json"), &plan_json)
            .map_err(|e| state_err("cannot write plan.json", e))?;
        let instances = RunInstances {
            me: me.clone(),
            peer: peer.clone(),
        };
        write_private(
            &run_dir.join("instances.json"),
            &serde_json::to_vec_pretty(&instances).expect("serializes"),
        )
        .map_err(|e| state_err("cannot write instances.json", e))?;
        let journal = Journal::create(&run_dir.join("journal.jsonl"))?;
        journal
            .append(
                &Record::Header(Header {
                    version: JOURNAL_VERSION,
                    run_id: run_id.clone(),
                    playbook: playbook.file.clone(),
                    fault: playbook.fault.clone(),
                    component: playbook.component.clone(),
                    target: target.to_owned(),
                    instance: me.name.clone(),
                    peer: peer.as_ref().ok().map(|p| p.name.clone()),
                    plan_hash: plan_hash(playbook),
                    started: crate::clock::now(),
                    pid: std::process::id(),
                }),
                true,
            )
            .await?;
        self.execute(
            ExecParts {
                run_id,
                run_dir,
                playbook: Arc::new(playbook.clone()),
                inventory: self.inventory.clone(),
                drivers: self.drivers.clone(),
                answers: self.answers.clone(),
                observer: self.observer.clone(),
                journal,
                opts: self.options.clone(),
                abort: self.abort.clone(),
                me,
                peer,
                replay: Replay::default(),
            },
            lock,
            false,
        )
        .await
    }

    /// `mend resume RUN`: continues a run whose runner died (or was interrupted).
    /// Finished steps are not run again; a step that was in flight is first reconciled
    /// with the real state (see `crate::reconcile`).
    pub async fn resume(&self, run_id: &str) -> Result<RunSummary, RuntimeError> {
        let run_dir = self.options.state_dir.join("runs").join(run_id);
        let journal_path = run_dir.join("journal.jsonl");
        if !journal_path.is_file() {
            return Err(RuntimeError::NoSuchRun {
                run_id: run_id.to_owned(),
                state_dir: self.options.state_dir.display().to_string(),
            });
        }
        let loaded = Loaded::read(&journal_path)?;
        if let Some((outcome, message)) = loaded.end() {
            return Err(RuntimeError::AlreadyFinished {
                run_id: run_id.to_owned(),
                outcome,
                message,
            });
        }
        let read = |name: &str| {
            std::fs::read(run_dir.join(name)).map_err(|e| {
                RuntimeError::State(format!("run `{run_id}`: cannot read {name}: {e}"))
            })
        };
        let playbook: CheckedPlaybook = serde_json::from_slice(&read("plan.json")?)
            .map_err(|e| RuntimeError::State(format!("run `{run_id}`: plan.json: {e}")))?;
        if plan_hash(&playbook) != loaded.header.plan_hash {
            return Err(RuntimeError::State(format!(
                "run `{run_id}`: plan.json does not match the hash in the journal header"
            )));
        }
        let instances: RunInstances = serde_json::from_slice(&read("instances.json")?)
            .map_err(|e| RuntimeError::State(format!("run `{run_id}`: instances.json: {e}")))?;
        let lock = TargetLock::acquire(&self.options.state_dir, &instances.me.name, run_id)?;
        let journal = Journal::open(&journal_path)?;
        journal
            .append(
                &Record::Resumed {
                    pid: std::process::id(),
                    ts: crate::clock::now(),
                },
                true,
            )
            .await?;
        self.execute(
            ExecParts {
                run_id: run_id.to_owned(),
                run_dir,
                playbook: Arc::new(playbook),
                inventory: self.inventory.clone(),
                drivers: self.drivers.clone(),
                answers: self.answers.clone(),
                observer: self.observer.clone(),
                journal,
                opts: self.options.clone(),
                abort: self.abort.clone(),
                me: instances.me,
                peer: instances.peer,
                replay: loaded.replay(),
            },
            lock,
            true,
        )
        .await
    }

    async fn execute(
        &self,
        parts: ExecParts,
        lock: TargetLock,
        resumed: bool,
    ) -> Result<RunSummary, RuntimeError> {
        let start = Instant::now();
        let exec = Exec::new(parts);
        exec.emit(&Event::RunStarted {
            run_id: exec.run_id.clone(),
            playbook: exec.playbook.file.clone(),
            target: exec.me.describe(),
            steps: count_steps(&exec.playbook.body),
            resumed,
        });
        let flow = exec.node(&exec.playbook.body, &Scope::default()).await;
        let interrupted = matches!(&flow, Flow::Aborted(m) if m.starts_with("interrupted"));
        let suspended = matches!(&flow, Flow::Suspended(_));
        let (outcome, message) = match flow {
            Flow::Ok => (Outcome::Succeeded, String::new()),
            Flow::Failed(m) | Flow::Fatal(m) => (Outcome::Failed, m),
            Flow::Escalated(m) => (Outcome::Escalated, m),
            Flow::Aborted(m) => (Outcome::Aborted, m),
            Flow::Suspended(m) => (Outcome::Suspended, m),
        };
        let message = crate::secret::scrub(&message);
        let message = if interrupted {
            format!("{message}; `mend resume {}` continues it", exec.run_id)
        } else if suspended {
            // No end record: the run is resumable, the faulted step in flight.
            format!(
                "suspended: {message}; `mend resume {}` continues it once the fault is gone",
                exec.run_id
            )
        } else {
            exec.write(
                &Record::End {
                    outcome,
                    message: message.clone(),
                    ts: crate::clock::now(),
                },
                true,
            )
            .await
            .map_err(RuntimeError::State)?;
            message
        };
        let (steps, accepted_losses) = exec.take_results();
        let summary = RunSummary {
            run_id: exec.run_id.clone(),
            outcome,
            message,
            steps,
            accepted_losses,
            elapsed_ms: start.elapsed().as_millis() as u64,
            journal: exec.journal.path().display().to_string(),
        };
        exec.emit(&Event::RunFinished {
            summary: summary.clone(),
        });
        drop(exec);
        lock.release();
        Ok(summary)
    }
}

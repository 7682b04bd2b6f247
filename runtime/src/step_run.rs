//! One step: replayed from the journal, reconciled, or run — intent on disk first,
//! then the action under its timeout and retries, then the outcome.

use crate::executor::Exec;
use crate::flow::{ActError, Done, Flow, Scope};
use crate::journal::Record;
use crate::observer::Event;
use crate::resolve::Instance;
use crate::summary::{StepResult, StepStatus};
use futures_util::future::join_all;
use mend_compiler::plan::Step;
use std::collections::BTreeMap;
use std::time::Instant;

impl Exec {
    pub(crate) async fn step(&self, step: &Step, scope: &Scope) -> Flow {
        let id = scope.id(&step.id);
        let targets = match self.targets(&step.target, scope).await {
            Ok(t) => t,
            Err(e) => {
                if let Some(f) = self.replay.finished.get(&id) {
                    // Finished in an earlier run; its target may be gone since.
                    return self.replayed(step, &id, "-", f);
                }
                return self.fail_decision(&id, &step.text, e);
            }
        };
        if let [one] = targets.as_slice() {
            return self.step_on(step, id, one).await;
        }
        let flows = join_all(
            targets
                .iter()
                .map(|t| self.step_on(step, format!("{id}[{}]", t.name), t)),
        )
        .await;
        flows.into_iter().fold(Flow::Ok, Flow::worst)
    }

    fn replayed(&self, step: &Step, id: &str, target: &str, f: &crate::journal::Finished) -> Flow {
        self.emit(&Event::StepSkipped {
            id: id.to_owned(),
            text: step.text.clone(),
            reason: format!("{} in an earlier run: {}", f.status, f.message),
        });
        self.push_result(StepResult {
            id: id.to_owned(),
            text: step.text.clone(),
            target: target.to_owned(),
            status: f.status,
            message: f.message.clone(),
            attempts: 0,
            elapsed_ms: 0,
            replayed: true,
        });
        match f.status {
            StepStatus::Ok | StepStatus::Reconciled => Flow::Ok,
            StepStatus::Failed => Flow::Failed(format!("{id} `{}`: {}", step.text, f.message)),
            StepStatus::Escalated => Flow::Escalated(f.message.clone()),
            StepStatus::Aborted => Flow::Aborted(f.message.clone()),
            // Never among finished steps (the replay keeps it in flight).
            StepStatus::Suspended => Flow::Suspended(f.message.clone()),
        }
    }

    /// Whether the action only waits, so that an interrupt may cut it short.
    fn only_waits(step: &Step) -> bool {
        use mend_compiler::plan::Action::*;
        step.action.needs_person()
            || matches!(
                step.action,
                Wait { .. }
                    | Verify { .. }
                    | WaitReplicaHealthy { .. }
                    | StartupMysql
                    | RestartDaemon { .. }
            )
    }

    async fn step_on(&self, step: &Step, id: String, inst: &Instance) -> Flow {
        if let Some(f) = self.replay.finished.get(&id) {
            return self.replayed(step, &id, &inst.name, f);
        }
        if self.abort.is_aborted() {
            return Flow::Aborted(format!("interrupted before {id} `{}`", step.text));
        }
        let start = Instant::now();
        let action = &step.action;
        let durable = action.mutates() || action.is_destructive() || action.needs_person();

        // In flight when the runner died: look at the real state before anything else.
        if let Some(inflight) = self.replay.in_flight.get(&id) {
            match crate::reconcile::reconcile(self, step, &id, inst, inflight).await {
                crate::reconcile::Verdict::Done(done) => {
                    return self
                        .finish(step, &id, inst, Ok(done), 0, start, StepStatus::Reconciled)
                        .await;
                }
                crate::reconcile::Verdict::Fault(msg) => {
                    return self
                        .finish(
                            step,
                            &id,
                            inst,
                            Err(ActError::Fault(msg)),
                            0,
                            start,
                            StepStatus::Suspended,
                        )
                        .await;
                }
                crate::reconcile::Verdict::Fail(msg) => {
                    return self
                        .finish(
                            step,
                            &id,
                            inst,
                            Err(ActError::Failed(msg)),
                            0,
                            start,
                            StepStatus::Failed,
                        )
                        .await;
                }
                crate::reconcile::Verdict::Redo(why) => {
                    self.emit(&Event::Note {
                        id: id.clone(),
                        message: format!(
                            "in flight when the runner stopped; {why}: running it again"
                        ),
                    });
                }
            }
        }

        let _permit = if action.needs_person() {
            None
        } else {
            Some(self.semaphore.acquire().await.expect("never closed"))
        };
        let detail = crate::actions::intent_detail(self, step, &id, inst).await;
        if let Err(e) = self
            .write(
                &Record::Intent {
                    step: id.clone(),
                    action: crate::actions::action_name(action).to_owned(),
                    target: inst.name.clone(),
                    ts: crate::clock::now(),
                    detail: detail.clone(),
                },
                durable,
            )
            .await
        {
            // Nothing acts without its intent on disk: stop before acting.
            return self.journal_fault(&id, step, inst, e);
        }

        let attempts_allowed = 1 + if action.is_idempotent() {
            step.retry
        } else {
            0
        };
        let mut attempt = 0;
        let result = loop {
            attempt += 1;
            self.emit(&Event::StepStarted {
                id: id.clone(),
                text: step.text.clone(),
                target: inst.describe(),
                attempt,
            });
            let act = crate::actions::act(self, step, &id, inst, &detail);
            let timed = async {
                if step.timeout.is_zero() {
                    act.await
                } else {
                    match tokio::time::timeout(step.timeout, act).await {
                        Ok(r) => r,
                        Err(_) => Err(ActError::Fault(format!(
                            "timed out after {}",
                            crate::planner::human(step.timeout)
                        ))),
                    }
                }
            };
            let r = if Self::only_waits(step) {
                tokio::select! {
                    r = timed => r,
                    () = self.abort.wait() => Err(ActError::Aborted(format!("interrupted while {id} `{}` waited", step.text))),
                }
            } else {
                timed.await
            };
            match r {
                Err(ActError::Failed(e) | ActError::Fault(e))
                    if attempt < attempts_allowed && !self.abort.is_aborted() =>
                {
                    let backoff = self
                        .opts
                        .backoff_base
                        .saturating_mul(1 << (attempt - 1).min(16))
                        .min(self.opts.backoff_max);
                    self.emit(&Event::StepRetrying {
                        id: id.clone(),
                        attempt,
                        error: crate::secret::scrub(&e),
                        backoff,
                    });
                    tokio::time::sleep(backoff).await;
                }
                other => break other,
            }
        };
        if let Err(ActError::Aborted(msg)) = &result
            && msg.starts_with("interrupted")
        {
            // No outcome: the step stays in flight for `mend resume`.
            return Flow::Aborted(msg.clone());
        }
        let status = match &result {
            Ok(_) => StepStatus::Ok,
            Err(ActError::Failed(_)) => StepStatus::Failed,
            Err(ActError::Escalated(_)) => StepStatus::Escalated,
            Err(ActError::Aborted(_)) => StepStatus::Aborted,
            Err(ActError::Fault(_)) => StepStatus::Suspended,
        };
        self.finish(step, &id, inst, result, attempt, start, status)
            .await
    }

    async fn finish(
        &self,
        step: &Step,
        id: &str,
        inst: &Instance,
        result: Result<Done, ActError>,
        attempts: u32,
        start: Instant,
        status: StepStatus,
    ) -> Flow {
        let (message, learned, notes, flow) = match result {
            Ok(d) => (d.message, d.learned, d.notes, Flow::Ok),
            Err(ActError::Failed(m)) => {
                let f = Flow::Failed(format!("{id} `{}` on {}: {m}", step.text, inst.name));
                (m, BTreeMap::new(), Vec::new(), f)
            }
            Err(ActError::Escalated(m)) => {
                (m.clone(), BTreeMap::new(), Vec::new(), Flow::Escalated(m))
            }
            Err(ActError::Aborted(m)) => (m.clone(), BTreeMap::new(), Vec::new(), Flow::Aborted(m)),
            Err(ActError::Fault(m)) => {
                let f = Flow::Suspended(format!("{id} `{}` on {}: {m}", step.text, inst.name));
                (m, BTreeMap::new(), Vec::new(), f)
            }
        };
        let message = crate::secret::scrub(&message);
        for n in &notes {
            self.emit(&Event::Note {
                id: id.to_owned(),
                message: crate::secret::scrub(n),
            });
        }
        let full = if notes.is_empty() {
            message.clone()
        } else {
            format!("{message} ({})", notes.join("; "))
        };
        let elapsed = start.elapsed();
        // Written now, flushed with the next durable record (see the journal's doc).
        if let Err(e) = self
            .write(
                &Record::Outcome {
                    step: id.to_owned(),
                    status,
                    message: full.clone(),
                    learned: learned.clone(),
                    attempts,
                    elapsed_ms: elapsed.as_millis() as u64,
                    ts: crate::clock::now(),
                },
                // A suspension is the run's last record: on disk before it stops.
                status == StepStatus::Suspended,
            )
            .await
        {
            // The outcome is lost, the intent is not: `resume` reconciles the step.
            return self.journal_fault(id, step, inst, e);
        }
        self.learned.extend(&learned);
        self.emit(&Event::StepFinished {
            id: id.to_owned(),
            text: step.text.clone(),
            target: inst.name.clone(),
            status,
            message: full.clone(),
            elapsed,
        });
        self.push_result(StepResult {
            id: id.to_owned(),
            text: step.text.clone(),
            target: inst.name.clone(),
            status,
            message: full,
            attempts,
            elapsed_ms: elapsed.as_millis() as u64,
            replayed: false,
        });
        flow
    }

    /// The journal could not be written (the state directory is full or not
    /// writable): the run stops, suspended, so that nothing acts without its intent
    /// on disk. The step is reported, not journaled (that is what failed).
    fn journal_fault(&self, id: &str, step: &Step, inst: &Instance, e: String) -> Flow {
        self.push_result(StepResult {
            id: id.to_owned(),
            text: step.text.clone(),
            target: inst.name.clone(),
            status: StepStatus::Suspended,
            message: e.clone(),
            attempts: 0,
            elapsed_ms: 0,
            replayed: false,
        });
        Flow::Suspended(format!("{id} `{}` on {}: {e}", step.text, inst.name))
    }
}

//! What a run reports while it goes: the CLI draws progress bars and logs from these
//! events. Observers are called synchronously from the executor and must be quick.

use crate::summary::{RunSummary, StepStatus};
use std::sync::Mutex;
use std::time::Duration;

/// One thing that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    RunStarted {
        run_id: String,
        playbook: String,
        target: String,
        /// Steps in the plan (fan-outs count once).
        steps: usize,
        resumed: bool,
    },
    StepStarted {
        id: String,
        text: String,
        target: String,
        attempt: u32,
    },
    /// A failed attempt of an idempotent step; another follows after `backoff`.
    StepRetrying {
        id: String,
        attempt: u32,
        error: String,
        backoff: Duration,
    },
    StepFinished {
        id: String,
        text: String,
        target: String,
        status: StepStatus,
        message: String,
        elapsed: Duration,
    },
    /// Not run: finished in an earlier run (resume) or reconciled.
    StepSkipped {
        id: String,
        text: String,
        reason: String,
    },
    /// A branch was chosen (`match`, `when`) or a fan-out expanded (`each`).
    Decision {
        id: String,
        subject: String,
        value: String,
    },
    /// A step waits for a person. `mend answer RUN STEP yes|no` answers it.
    WaitingForAnswer {
        id: String,
        question: String,
    },
    /// Worth telling the operator (e.g. `SMART` became `IDEMPOTENT`).
    Note {
        id: String,
        message: String,
    },
    RunFinished {
        summary: RunSummary,
    },
}

/// Receives events.
pub trait Observer: Send + Sync {
    fn event(&self, event: &Event);
}

/// Ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopObserver;

impl Observer for NoopObserver {
    fn event(&self, _event: &Event) {}
}

/// Logs events with `tracing` (structured fields; JSON with a JSON subscriber).
///
/// A step's or run's own words go in a field named `detail`, never `message`: tracing
/// keeps the event's text ("step finished") under `message`, and a second field of
/// that name makes a JSON object with the key twice, which many log tools drop.
#[derive(Debug, Default, Clone, Copy)]
pub struct TracingObserver;

impl Observer for TracingObserver {
    fn event(&self, event: &Event) {
        match event {
            Event::RunStarted {
                run_id,
                playbook,
                target,
                steps,
                resumed,
            } => {
                tracing::info!(run_id, playbook, target, steps, resumed, "run started");
            }
            Event::StepStarted {
                id,
                text,
                target,
                attempt,
            } => {
                tracing::info!(step = id, text, target, attempt, "step started");
            }
            Event::StepRetrying {
                id,
                attempt,
                error,
                backoff,
            } => {
                tracing::warn!(
                    step = id,
                    attempt,
                    error,
                    backoff_ms = backoff.as_millis() as u64,
                    "step retrying"
                );
            }
            Event::StepFinished {
                id,
                text,
                target,
                status,
                message,
                elapsed,
            } => {
                let status = status.to_string();
                let ms = elapsed.as_millis() as u64;
                if status == "failed" {
                    tracing::error!(
                        step = id,
                        text,
                        target,
                        status,
                        detail = message,
                        elapsed_ms = ms,
                        "step finished"
                    );
                } else if status == "suspended" {
                    // Not a failure, but the run stops here until `mend resume`.
                    tracing::warn!(
                        step = id,
                        text,
                        target,
                        status,
                        message,
                        elapsed_ms = ms,
                        "step finished"
                    );
                } else {
                    tracing::info!(
                        step = id,
                        text,
                        target,
                        status,
                        detail = message,
                        elapsed_ms = ms,
                        "step finished"
                    );
                }
            }
            Event::StepSkipped { id, text, reason } => {
                tracing::info!(step = id, text, reason, "step skipped");
            }
            Event::Decision { id, subject, value } => {
                tracing::info!(step = id, subject, value, "decision");
            }
            Event::WaitingForAnswer { id, question } => {
                tracing::warn!(step = id, question, "waiting for an answer");
            }
            Event::Note { id, message } => tracing::warn!(step = id, detail = message, "note"),
            Event::RunFinished { summary } => {
                tracing::info!(
                    run_id = summary.run_id,
                    outcome = summary.outcome.to_string(),
                    detail = summary.message,
                    "run finished"
                );
            }
        }
    }
}

/// Keeps every event (tests).
#[derive(Debug, Default)]
pub struct CollectingObserver {
    pub events: Mutex<Vec<Event>>,
}

impl CollectingObserver {
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(
            &mut *self
                .events
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

impl Observer for CollectingObserver {
    fn event(&self, event: &Event) {
        self.events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(event.clone());
    }
}

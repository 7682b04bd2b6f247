//! How a run ended, step by step, and the exit code that says it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How a run ended.
///
/// Exit codes (the CLI's `mend run` and `mend resume` exit with
/// [`Outcome::exit_code`]; errors before any step runs use [`EXIT_ERROR`] and
/// [`EXIT_LOCKED`]):
///
/// | code | meaning |
/// |---|---|
/// | 0 | succeeded: every step ran, the expected result was verified |
/// | 1 | failed: a step failed and nothing caught it |
/// | 2 | error before running: usage, inventory, unreachable endpoint, unknown target, journal |
/// | 3 | escalated: the playbook handed the fault to a person or team (`escalate`) |
/// | 4 | aborted: the alert was not confirmed, or the run was interrupted |
/// | 5 | locked: another run holds the target (its run ID is printed) |
/// | 6 | suspended: a fault of mend's surroundings stopped the run (a service unreachable, a step past its timeout, the state directory not writable or full); the step stays in flight and `mend resume RUN` continues once the fault is gone |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Failed,
    Escalated,
    Aborted,
    /// Stopped on a fault of its surroundings, no end record: `mend resume` continues.
    Suspended,
}

/// Exit code of an error before any step ran.
pub const EXIT_ERROR: i32 = 2;
/// Exit code when the target is locked by another run.
pub const EXIT_LOCKED: i32 = 5;
/// Exit code of a run suspended on a fault (see [`Outcome::Suspended`]).
pub const EXIT_SUSPENDED: i32 = 6;

impl Outcome {
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Succeeded => 0,
            Outcome::Failed => 1,
            Outcome::Escalated => 3,
            Outcome::Aborted => 4,
            Outcome::Suspended => EXIT_SUSPENDED,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Escalated => "escalated",
            Outcome::Aborted => "aborted",
            Outcome::Suspended => "suspended",
        })
    }
}

/// How one step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Done.
    Ok,
    /// Failed (after its retries).
    Failed,
    /// Ended the run as escalated.
    Escalated,
    /// A person said no to `confirm alert`, or the run was interrupted.
    Aborted,
    /// Found done by reconciling with the real state after a crash.
    Reconciled,
    /// Stopped on a fault (unreachable, timed out, state directory): still in flight,
    /// so `mend resume` reconciles it and runs it again (the journal's replay).
    Suspended,
}

impl StepStatus {
    pub fn is_ok(self) -> bool {
        matches!(self, StepStatus::Ok | StepStatus::Reconciled)
    }
}

impl fmt::Display for StepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepStatus::Ok => "ok",
            StepStatus::Failed => "failed",
            StepStatus::Escalated => "escalated",
            StepStatus::Aborted => "aborted",
            StepStatus::Reconciled => "reconciled",
            StepStatus::Suspended => "suspended",
        })
    }
}

/// One step of the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepResult {
    /// The step ID, with the fan-out instance (`5[task_x].0`).
    pub id: String,
    /// The step as written.
    pub text: String,
    /// What it acted on.
    pub target: String,
    pub status: StepStatus,
    pub message: String,
    pub attempts: u32,
    pub elapsed_ms: u64,
    /// Taken from the journal of an earlier run, not run again.
    pub replayed: bool,
}

/// The end of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub run_id: String,
    pub outcome: Outcome,
    /// Why it ended so: the failed step's error, the escalation text, ….
    pub message: String,
    pub steps: Vec<StepResult>,
    /// `accept loss` reasons met on the way.
    pub accepted_losses: Vec<String>,
    pub elapsed_ms: u64,
    pub journal: String,
}

impl RunSummary {
    pub fn exit_code(&self) -> i32 {
        self.outcome.exit_code()
    }
}

impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "run {}: {}", self.run_id, self.outcome)?;
        if !self.message.is_empty() {
            writeln!(f, "  {}", self.message)?;
        }
        for s in &self.steps {
            let replayed = if s.replayed { " (earlier run)" } else { "" };
            writeln!(
                f,
                "  {:<10} {:<12} {} on {}{replayed}: {}",
                s.id, s.status, s.text, s.target, s.message
            )?;
        }
        for l in &self.accepted_losses {
            writeln!(f, "  loss accepted: {l}")?;
        }
        write!(f, "  journal: {}", self.journal)
    }
}

//! mend's runtime: it resolves a checked playbook against a live inventory (`plan`),
//! runs it (`run`), and continues a run whose runner died (`resume`).
//!
//! The CLI's entry points:
//! - [`Inventory::load`] reads `mend.toml`; [`connect`] makes the real drivers;
//! - [`Runtime::new`] with [`RunOptions`], then [`Runtime::with_answers`] and
//!   [`Runtime::with_observer`];
//! - [`Runtime::plan`], [`Runtime::run`], [`Runtime::resume`];
//! - [`answer`] for `mend answer RUN STEP yes|no`, [`pending`] for what waits,
//!   [`list_runs`] for the runs in a state directory;
//! - exit codes: [`Outcome::exit_code`] and [`RuntimeError::exit_code`] (table on
//!   [`Outcome`]).
//!
//! Architecture invariants: the runtime reaches Docker, MySQL, ZooKeeper and hosts only
//! through the traits in [`driver`]; `plan` only holds their read halves; a step's
//! intent is on disk before it acts; no credential reaches a journal, a log, a plan or
//! an error message ([`secret`]).

pub mod abort;
mod actions;
pub mod answers;
pub mod clock;
mod connect;
pub mod driver;
pub mod executor;
mod flow;
pub mod inventory;
pub mod journal;
mod learned;
pub mod lock;
pub mod observer;
pub mod planner;
mod reconcile;
pub mod resolve;
pub mod run;
pub mod secret;
pub mod snapshot;
mod step_run;
mod subjects;
pub mod summary;
#[cfg(test)]
mod tests;

pub use abort::AbortSignal;
pub use answers::{
    Answer, Answers, AnswersFile, StateDirAnswers, TerminalAnswers, answer, pending,
};
pub use connect::connect;
pub use executor::{RunOptions, count_steps};
pub use inventory::Inventory;
pub use learned::BackupRecord;
pub use observer::{Event, Observer};
pub use planner::ConcretePlan;
pub use run::{RunInfo, Runtime, RuntimeError, default_state_dir, list_runs, plan_hash};
pub use summary::{
    EXIT_ERROR, EXIT_LOCKED, EXIT_SUSPENDED, Outcome, RunSummary, StepResult, StepStatus,
};

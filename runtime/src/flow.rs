//! How a node of the step tree ended, what an action produced, and the bindings of
//! a fan-out.

use crate::resolve::Instance;
use std::collections::BTreeMap;

/// How a node ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Flow {
    Ok,
    /// A step failed; a `catch` may take it.
    Failed(String),
    /// A step failed inside `finally`, the last resort: no `catch` takes it, the run
    /// ends as failed (docs/language.md).
    Fatal(String),
    Escalated(String),
    Aborted(String),
    /// A step stopped on a fault of mend's surroundings (a service unreachable, a
    /// step past its timeout, the state directory not writable): the run stops with
    /// no end record, the step stays in flight, and `mend resume` continues. No
    /// `catch` takes it and no `finally` runs: the body has not exited, it is paused.
    Suspended(String),
}

impl Flow {
    fn rank(&self) -> u8 {
        match self {
            Flow::Ok => 0,
            Flow::Failed(_) => 1,
            Flow::Fatal(_) => 2,
            Flow::Suspended(_) => 3,
            Flow::Aborted(_) => 4,
            Flow::Escalated(_) => 5,
        }
    }

    /// The more severe of two; the first on a tie.
    pub(crate) fn worst(a: Flow, b: Flow) -> Flow {
        if b.rank() > a.rank() { b } else { a }
    }
}

/// What a step's action produced.
#[derive(Debug, Default)]
pub(crate) struct Done {
    pub(crate) message: String,
    pub(crate) learned: BTreeMap<String, String>,
    pub(crate) notes: Vec<String>,
}

impl Done {
    pub(crate) fn msg(message: impl Into<String>) -> Self {
        Done {
            message: message.into(),
            ..Done::default()
        }
    }

    pub(crate) fn learn(mut self, k: String, v: impl Into<String>) -> Self {
        self.learned.insert(k, v.into());
        self
    }

    pub(crate) fn note(mut self, n: impl Into<String>) -> Self {
        self.notes.push(n.into());
        self
    }
}

/// Why a step's action did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ActError {
    Failed(String),
    Escalated(String),
    Aborted(String),
    /// Not an answer from the world but the lack of one: the service could not be
    /// reached, the step ran past its timeout, mend's own disk failed. Retried like a
    /// failure; when the retries are spent the run is suspended (see `Flow::Suspended`).
    Fault(String),
}

impl From<crate::driver::DriverError> for ActError {
    fn from(e: crate::driver::DriverError) -> Self {
        if e.is_fault() {
            ActError::Fault(e.message)
        } else {
            ActError::Failed(e.message)
        }
    }
}

impl From<crate::resolve::ResolveError> for ActError {
    fn from(e: crate::resolve::ResolveError) -> Self {
        ActError::Failed(crate::secret::scrub(&e.to_string()))
    }
}

/// Variables bound by `each`, and the step-ID rewrites that name the instance.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    pub(crate) vars: Vec<(String, Instance)>,
    pub(crate) rewrites: Vec<(String, String)>,
}

impl Scope {
    /// `5.0` inside `each` `5` over `task_x` is `5[task_x].0`.
    pub(crate) fn id(&self, id: &str) -> String {
        let mut out = id.to_owned();
        for (each, inst) in &self.rewrites {
            if let Some(rest) = out.strip_prefix(each.as_str())
                && rest.starts_with('.')
            {
                out = format!("{each}[{inst}]{rest}");
            }
        }
        out
    }

    pub(crate) fn var(&self, name: &str) -> Option<&Instance> {
        self.vars
            .iter()
            .rev()
            .find(|(v, _)| v == name)
            .map(|(_, i)| i)
    }
}

//! Interrupting a run (Ctrl-C in the CLI): no new step starts; steps that only wait
//! (a person, a poll, a pause) stop waiting; steps that act finish. The journal gets
//! no end record, so `mend resume` continues the run later.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// A shared interrupt flag.
#[derive(Debug, Clone, Default)]
pub struct AbortSignal {
    inner: Arc<(AtomicBool, Notify)>,
}

impl AbortSignal {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop.
    pub fn abort(&self) {
        self.inner.0.store(true, Ordering::SeqCst);
        self.inner.1.notify_waiters();
    }

    pub fn is_aborted(&self) -> bool {
        self.inner.0.load(Ordering::SeqCst)
    }

    /// Resolves once [`abort`](Self::abort) is called.
    pub async fn wait(&self) {
        loop {
            let notified = self.inner.1.notified();
            if self.is_aborted() {
                return;
            }
            notified.await;
        }
    }
}

//! What a run shows while it runs: a progress bar on a terminal, and structured
//! logs (tracing, text or JSON) on stderr otherwise.

use indicatif::{ProgressBar, ProgressStyle};
use mend_runtime::observer::TracingObserver;
use mend_runtime::{Event, Observer};
use std::io::IsTerminal;

pub struct Progress {
    bar: Option<ProgressBar>,
    logs: TracingObserver,
}

impl Progress {
    /// A bar only on a terminal and not for `--log-format json`.
    pub fn new(json: bool) -> Self {
        let bar = (!json && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::new(0);
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b
        });
        Progress {
            bar,
            logs: TracingObserver,
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn event(&self, event: &Event) {
        let Some(bar) = &self.bar else {
            self.logs.event(event);
            return;
        };
        match event {
            Event::RunStarted {
                run_id,
                steps,
                resumed,
                ..
            } => {
                bar.set_length(*steps as u64);
                bar.println(format!(
                    "{} run {run_id}",
                    if *resumed { "resuming" } else { "starting" }
                ));
            }
            Event::StepStarted { text, target, .. } => {
                bar.set_message(format!("{text} on {target}"));
            }
            Event::StepFinished {
                text,
                target,
                status,
                message,
                ..
            } => {
                bar.inc(1);
                bar.println(format!("  {status:?}: {text} on {target} {message}"));
            }
            Event::StepSkipped { text, reason, .. } => {
                bar.inc(1);
                bar.println(format!("  skipped: {text} ({reason})"));
            }
            Event::WaitingForAnswer { id, question } => {
                bar.println(format!("  waiting for a person at step {id}: {question}"));
            }
            Event::Note { message, .. } => bar.println(format!("  note: {message}")),
            Event::Decision { subject, value, .. } => bar.println(format!("  {subject} = {value}")),
            Event::StepRetrying {
                id, attempt, error, ..
            } => bar.println(format!("  retrying {id} (attempt {attempt}): {error}")),
            Event::RunFinished { .. } => {}
        }
    }
}

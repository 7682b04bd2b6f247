//! The run journal: one append-only JSON-lines file per run,
//! `<state>/runs/<RUN_ID>/journal.jsonl`.
//!
//! ```text
//! {"t":"header","run_id":…,"playbook":…,"fault":…,"target":…,"plan_hash":…}
//! {"t":"intent","step":"3","action":"recreate","target":"task_…","detail":{…}}   flushed before acting
//! {"t":"outcome","step":"3","status":"ok","message":…,"learned":{…}}            flushed after
//! {"t":"outcome","step":"4","status":"suspended","message":"timed out after 2s"} a fault: still in flight
//! {"t":"decision","step":"2","subject":"role","value":"master"}                 a branch taken
//! {"t":"resumed","pid":…}
//! {"t":"end","outcome":"succeeded"}
//! ```
//!
//! Records go through one writer thread that batches what arrives together into one
//! write and one `fdatasync` (group commit): parallel steps share a flush, and a caller
//! that asked for durability is only answered after the flush. The executor asks for it
//! on the intent of every step that changes something (nothing acts before its intent
//! is on disk) and on decisions and the end record; an outcome is written at once (a
//! killed runner cannot lose it: it is in the kernel) and flushed with the next
//! durable record or within 100 ms, whichever is first — so a sequence of steps costs
//! one flush per step. If the machine itself dies inside that window, the step is found
//! in flight on resume and reconciled like any other. Text is scrubbed of secrets
//! before it is written.
//!
//! Loading tolerates a torn last line (the runner died mid-write); a bad line anywhere
//! else is an error.

use crate::summary::{Outcome, StepStatus};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use tokio::sync::oneshot;

/// The journal format's version.
pub const JOURNAL_VERSION: u32 = 1;

/// The first record of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub version: u32,
    pub run_id: String,
    /// The playbook file.
    pub playbook: String,
    pub fault: String,
    pub component: String,
    /// The target as given on the command line.
    pub target: String,
    /// The instance it resolved to.
    pub instance: String,
    pub peer: Option<String>,
    /// Hash of the checked plan (`plan.json` beside the journal).
    pub plan_hash: String,
    pub started: String,
    pub pid: u32,
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Record {
    Header(Header),
    Intent {
        step: String,
        action: String,
        target: String,
        ts: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        detail: BTreeMap<String, String>,
    },
    Outcome {
        step: String,
        status: StepStatus,
        message: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        learned: BTreeMap<String, String>,
        attempts: u32,
        elapsed_ms: u64,
        ts: String,
    },
    Decision {
        step: String,
        subject: String,
        value: String,
        ts: String,
    },
    Resumed {
        pid: u32,
        ts: String,
    },
    End {
        outcome: Outcome,
        message: String,
        ts: String,
    },
}

/// The journal could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("journal `{path}` line {line}: {message}")]
    Corrupt {
        path: String,
        line: usize,
        message: String,
    },
    #[error("journal `{0}` has no header")]
    NoHeader(String),
    #[error("journal writer stopped")]
    Closed,
}

enum Msg {
    Line {
        bytes: Vec<u8>,
        sync: bool,
        done: oneshot::Sender<std::io::Result<()>>,
    },
}

/// An open journal, appending.
pub struct Journal {
    path: PathBuf,
    tx: Option<mpsc::Sender<Msg>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

/// Written but not yet flushed records are flushed after at most this long.
const FLUSH_AFTER: std::time::Duration = std::time::Duration::from_millis(100);

fn writer_loop(mut file: File, rx: &mpsc::Receiver<Msg>) {
    let mut dirty = false;
    loop {
        let first = if dirty {
            match rx.recv_timeout(FLUSH_AFTER) {
                Ok(m) => m,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    dirty = file.sync_data().is_err();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match rx.recv() {
                Ok(m) => m,
                Err(_) => break,
            }
        };
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let mut buf = Vec::new();
        let mut sync = false;
        for Msg::Line { bytes, sync: s, .. } in &batch {
            buf.extend_from_slice(bytes);
            sync |= *s;
        }
        // A write that fails half-way (a full disk) would leave a torn line that later
        // records follow, and a journal that no longer loads: cut it back.
        let before = file.metadata().map(|m| m.len());
        let mut result = file.write_all(&buf);
        if result.is_err()
            && let Ok(len) = before
        {
            let _ = file.set_len(len);
        }
        if result.is_ok() {
            if sync {
                result = file.sync_data();
                dirty = false;
            } else {
                dirty = true;
            }
        }
        for Msg::Line { done, .. } in batch {
            let r = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
            };
            let _ = done.send(r);
        }
    }
    if dirty {
        let _ = file.sync_data();
    }
}

impl Journal {
    /// Creates a new journal (fails if one exists).
    pub fn create(path: &Path) -> Result<Journal, JournalError> {
        let io = |source| JournalError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(path)
            .map_err(io)?;
        if let Some(dir) = path.parent() {
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(Self::start(path, file))
    }

    /// Opens an existing journal to append to it (resume).
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|source| JournalError::Io {
                path: path.display().to_string(),
                source,
            })?;
        // A torn last line is cut off, so that appended records start on a line.
        let bytes = std::fs::read(path).unwrap_or_default();
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            file.set_len(keep as u64)
                .map_err(|source| JournalError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
        }
        Ok(Self::start(path, file))
    }

    fn start(path: &Path, file: File) -> Journal {
        let (tx, rx) = mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("mend-journal".into())
            .spawn(move || writer_loop(file, &rx))
            .expect("spawning the journal writer");
        Journal {
            path: path.to_owned(),
            tx: Some(tx),
            writer: Some(writer),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a record; with `durable`, returns only once it is on disk.
    pub async fn append(&self, record: &Record, durable: bool) -> Result<(), JournalError> {
        let mut line = serde_json::to_string(record).expect("records serialize");
        line = crate::secret::scrub(&line);
        line.push('\n');
        let (done, wait) = oneshot::channel();
        self.tx
            .as_ref()
            .ok_or(JournalError::Closed)?
            .send(Msg::Line {
                bytes: line.into_bytes(),
                sync: durable,
                done,
            })
            .map_err(|_| JournalError::Closed)?;
        wait.await
            .map_err(|_| JournalError::Closed)?
            .map_err(|source| JournalError::Io {
                path: self.path.display().to_string(),
                source,
            })
    }

    /// Stops the writer after everything sent is written.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.tx.take();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A journal read back.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub header: Header,
    pub records: Vec<Record>,
}

impl Loaded {
    /// Reads a journal; a torn last line is ignored.
    pub fn read(path: &Path) -> Result<Loaded, JournalError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| JournalError::Io {
            path: p.clone(),
            source,
        })?;
        let complete = text.ends_with('\n');
        let lines: Vec<&str> = text.lines().collect();
        let mut records = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Record>(line) {
                Ok(r) => records.push(r),
                Err(_) if i + 1 == lines.len() && !complete => break,
                Err(e) => {
                    return Err(JournalError::Corrupt {
                        path: p,
                        line: i + 1,
                        message: e.to_string(),
                    });
                }
            }
        }
        let header = match records.first() {
            Some(Record::Header(h)) => h.clone(),
            _ => return Err(JournalError::NoHeader(p)),
        };
        Ok(Loaded { header, records })
    }

    /// How the run ended, if it did.
    pub fn end(&self) -> Option<(Outcome, String)> {
        self.records.iter().rev().find_map(|r| match r {
            Record::End {
                outcome, message, ..
            } => Some((*outcome, message.clone())),
            _ => None,
        })
    }

    /// What a resumed run needs: finished steps, in-flight intents, decisions taken,
    /// values learned.
    pub fn replay(&self) -> Replay {
        let mut replay = Replay::default();
        for r in &self.records {
            match r {
                Record::Intent {
                    step,
                    action,
                    target,
                    detail,
                    ..
                } => {
                    replay.in_flight.insert(
                        step.clone(),
                        InFlight {
                            action: action.clone(),
                            target: target.clone(),
                            detail: detail.clone(),
                        },
                    );
                }
                // Suspended on a fault: not finished, its intent stays in flight so
                // that the resumed run reconciles it first.
                Record::Outcome {
                    status: StepStatus::Suspended,
                    ..
                } => {}
                Record::Outcome {
                    step,
                    status,
                    message,
                    learned,
                    ..
                } => {
                    replay.in_flight.remove(step);
                    for (k, v) in learned {
                        replay.learned.insert(k.clone(), v.clone());
                    }
                    replay.finished.insert(
                        step.clone(),
                        Finished {
                            status: *status,
                            message: message.clone(),
                            learned: learned.clone(),
                        },
                    );
                }
                Record::Decision { step, value, .. } => {
                    replay.decisions.insert(step.clone(), value.clone());
                }
                _ => {}
            }
        }
        replay
    }
}

/// A step that finished in an earlier run.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub status: StepStatus,
    pub message: String,
    pub learned: BTreeMap<String, String>,
}

/// A step whose intent was written but whose outcome was not: it was in flight when
/// the runner died.
#[derive(Debug, Clone, PartialEq)]
pub struct InFlight {
    pub action: String,
    pub target: String,
    pub detail: BTreeMap<String, String>,
}

/// The state a resumed run starts from.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    pub finished: HashMap<String, Finished>,
    pub in_flight: HashMap<String, InFlight>,
    pub decisions: HashMap<String, String>,
    pub learned: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests;

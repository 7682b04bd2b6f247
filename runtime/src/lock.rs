//! One run per target at a time: `<state>/locks/<TARGET>.lock` holds the run that owns
//! the target.
//!
//! The file is created atomically (written aside, then hard-linked into place, which
//! fails if it exists), so a reader never sees half a lock. A second run is refused
//! with the holder's run ID. A lock whose process is dead (no `/proc/PID`, or a
//! different process start time: the PID was reused) is stale and can be taken over;
//! `mend resume` takes over its own run's lock that way.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a lock file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub run_id: String,
    pub pid: u32,
    /// Field 22 of `/proc/PID/stat`, to tell a reused PID.
    pub start_time: Option<u64>,
    pub hostname: String,
    pub since: String,
}

/// Why a lock was not had.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("target `{target}` is locked by run {} (pid {} on {}, since {}): wait for it, or `mend resume {}` if it died", .holder.run_id, .holder.pid, .holder.hostname, .holder.since, .holder.run_id)]
    Held { target: String, holder: Holder },
    #[error("lock `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A held lock; released on drop (if the file still names this run).
#[derive(Debug)]
pub struct TargetLock {
    path: PathBuf,
    run_id: String,
    released: bool,
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// Start time of a process, in clock ticks since boot.
pub(crate) fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

impl Holder {
    fn me(run_id: &str) -> Holder {
        let pid = std::process::id();
        Holder {
            run_id: run_id.to_owned(),
            pid,
            start_time: process_start_time(pid),
            hostname: hostname(),
            since: crate::clock::now(),
        }
    }

    /// Whether the holding process still runs. A lock taken on another machine (a
    /// shared state dir) is assumed alive.
    pub fn alive(&self) -> bool {
        if self.hostname != hostname() {
            return true;
        }
        match (process_start_time(self.pid), self.start_time) {
            (None, _) => false,
            (Some(now), Some(then)) => now == then,
            (Some(_), None) => true,
        }
    }
}

fn safe(target: &str) -> String {
    target
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl TargetLock {
    fn path_for(state_dir: &Path, target: &str) -> PathBuf {
        state_dir
            .join("locks")
            .join(format!("{}.lock", safe(target)))
    }

    /// Every lock of the state directory, whoever holds it (unreadable files skipped).
    pub fn holders(state_dir: &Path) -> Vec<Holder> {
        std::fs::read_dir(state_dir.join("locks"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "lock"))
            .filter_map(|e| std::fs::read(e.path()).ok())
            .filter_map(|b| serde_json::from_slice(&b).ok())
            .collect()
    }

    /// Who holds the target, if anyone.
    pub fn holder(state_dir: &Path, target: &str) -> Option<Holder> {
        let bytes = std::fs::read(Self::path_for(state_dir, target)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Takes the lock for `run_id`. A stale lock (dead holder) is taken over; a live
    /// one is refused — unless it is held by this very run (a resume).
    pub fn acquire(state_dir: &Path, target: &str, run_id: &str) -> Result<TargetLock, LockError> {
        let path = Self::path_for(state_dir, target);
        let io = |source| LockError::Io {
            path: path.display().to_string(),
            source,
        };
        let dir = path.parent().expect("a lock path has a parent");
        std::fs::create_dir_all(dir).map_err(io)?;
        let me = Holder::me(run_id);
        let tmp = dir.join(format!(".{}.{}.{}", safe(target), run_id, me.pid));
        std::fs::write(&tmp, serde_json::to_vec(&me).expect("serializes")).map_err(io)?;
        let result = (|| {
            for _ in 0..3 {
                match std::fs::hard_link(&tmp, &path) {
                    Ok(()) => {
                        return Ok(TargetLock {
                            path: path.clone(),
                            run_id: run_id.to_owned(),
                            released: false,
                        });
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(io(e)),
                }
                let holder = Self::holder(state_dir, target);
                match holder {
                    Some(h) if h.alive() && !(h.run_id == run_id && h.pid == me.pid) => {
                        return Err(LockError::Held {
                            target: target.to_owned(),
                            holder: h,
                        });
                    }
                    _ => {
                        // Stale (or unreadable, or ours): move it aside; only one
                        // taker wins the rename, the others find the new lock.
                        let aside = dir.join(format!(".stale.{}.{}", safe(target), me.pid));
                        if std::fs::rename(&path, &aside).is_ok() {
                            let _ = std::fs::remove_file(&aside);
                        }
                    }
                }
            }
            match Self::holder(state_dir, target) {
                Some(h) => Err(LockError::Held {
                    target: target.to_owned(),
                    holder: h,
                }),
                None => Err(io(std::io::Error::other("could not take the lock"))),
            }
        })();
        let _ = std::fs::remove_file(&tmp);
        result
    }

    /// Gives the lock up (if it still names this run).
    pub fn release(mut self) {
        self.release_now();
    }

    fn release_now(&mut self) {
        if self.released {
            return;
        }
        self.released = true;
        if let Ok(bytes) = std::fs::read(&self.path)
            && let Ok(h) = serde_json::from_slice::<Holder>(&bytes)
            && h.run_id == self.run_id
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Drop for TargetLock {
    fn drop(&mut self) {
        self.release_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mend-lock-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn second_run_is_refused_with_the_holder() {
        let d = dir("refuse");
        let l = TargetLock::acquire(&d, "task_1", "run-a").unwrap();
        let e = TargetLock::acquire(&d, "task_1", "run-b").unwrap_err();
        assert!(e.to_string().contains("locked by run run-a"), "{e}");
        // Another target is free.
        let _other = TargetLock::acquire(&d, "task_2", "run-b").unwrap();
        l.release();
        let _l = TargetLock::acquire(&d, "task_1", "run-b").unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn stale_lock_is_taken_over() {
        let d = dir("stale");
        std::fs::create_dir_all(d.join("locks")).unwrap();
        let dead = Holder {
            run_id: "run-dead".into(),
            pid: u32::MAX - 1,
            start_time: Some(1),
            hostname: hostname(),
            since: String::new(),
        };
        std::fs::write(
            d.join("locks/task_1.lock"),
            serde_json::to_vec(&dead).unwrap(),
        )
        .unwrap();
        assert!(!dead.alive());
        let l = TargetLock::acquire(&d, "task_1", "run-new").unwrap();
        assert_eq!(TargetLock::holder(&d, "task_1").unwrap().run_id, "run-new");
        drop(l);
        assert!(TargetLock::holder(&d, "task_1").is_none());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn own_process_start_time_is_readable() {
        assert!(process_start_time(std::process::id()).is_some());
        assert!(Holder::me("x").alive());
    }
}

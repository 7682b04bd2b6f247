//! A step that was in flight when the runner died: its intent is in the journal, its
//! outcome is not. Before deciding, the resumed run looks at the real state, so that
//! a destructive step is never done twice.
//!
//! | action | in flight, found… | verdict |
//! |---|---|---|
//! | `recreate` | a container of that name, not the old one, with the kept IP | done (started if it was to be) |
//! | `recreate` | the old container, or none | redo (nothing was created yet) |
//! | `recreate` | a new container with another IP | fail: check by hand |
//! | `remove` | no container, or a new one | done |
//! | `remove` | the old container | redo |
//! | `backup` | a complete tar of one of its sources | done (the backup is learned from it) |
//! | `backup` | no complete tar | redo (partial files are overwritten) |
//! | `restore` | the container still `created` (never started) | redo: uploading the same archive again into a container that never ran leaves the same store |
//! | `restore` | the container started since | fail: check the store by hand |
//! | `exec`, `startup mysql`, `restart_daemon` | — | a person says whether it was done |
//! | idempotent actions, questions to a person | — | redo |
//! | any | the real state cannot be read (a service unreachable) | stays suspended (a fault, see `crate::flow::Flow::Suspended`) |
//!
//! A step suspended on a fault (its outcome `suspended`) is in flight too: it comes
//! here on resume like a step whose runner died.

use crate::actions::{ask_person, learned_backup};
use crate::answers::Answer;
use crate::driver::{ContainerState, archive};
use crate::executor::{Done, Exec};
use crate::journal::InFlight;
use crate::learned::{BackupRecord, key};
use crate::resolve::Instance;
use mend_compiler::plan::{Action, Step};

/// What to do with an in-flight step.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// It had finished: record it as reconciled.
    Done(Done),
    /// Do it (again); the reason is shown.
    Redo(String),
    /// Neither: a person must look.
    Fail(String),
    /// The real state cannot be read now (a service unreachable): stay suspended.
    Fault(String),
}

pub(crate) async fn reconcile(
    exec: &Exec,
    step: &Step,
    id: &str,
    inst: &Instance,
    inflight: &InFlight,
) -> Verdict {
    match reconcile_inner(exec, step, id, inst, inflight).await {
        Ok(v) => v,
        Err(e) if e.is_fault() => {
            Verdict::Fault(format!("cannot read the real state to reconcile: {e}"))
        }
        Err(e) => Verdict::Fail(format!("cannot read the real state to reconcile: {e}")),
    }
}

async fn reconcile_inner(
    exec: &Exec,
    step: &Step,
    id: &str,
    inst: &Instance,
    inflight: &InFlight,
) -> Result<Verdict, crate::driver::DriverError> {
    let docker = &exec.drivers.docker;
    let old_id = inflight.detail.get("old_id").cloned().unwrap_or_default();
    Ok(match &step.action {
        Action::Recreate { same_ip, paused } => {
            let live = docker.inspect(&inst.name).await?;
            match live {
                None => Verdict::Redo(format!("no container `{}` exists yet", inst.name)),
                Some(c) if c.id == old_id => {
                    Verdict::Redo(format!("`{}` is still the old container", inst.name))
                }
                Some(c) => {
                    let want_ip = inflight.detail.get("ip").cloned();
                    if *same_ip && c.ip != want_ip {
                        Verdict::Fail(format!(
                            "a new `{}` exists with IP {}, not {}: check it by hand",
                            inst.name,
                            c.ip.as_deref().unwrap_or("none"),
                            want_ip.as_deref().unwrap_or("?")
                        ))
                    } else {
                        let mut msg = format!(
                            "found `{}` recreated as {}{}",
                            inst.name,
                            c.short_id(),
                            c.ip.as_ref()
                                .map(|ip| format!(" with IP {ip}"))
                                .unwrap_or_default()
                        );
                        if !*paused && !c.is_running() {
                            docker.start(&c.id).await?;
                            msg.push_str(", started it");
                        }
                        Verdict::Done(Done::msg(msg).learn(key("container", &inst.name), c.id))
                    }
                }
            }
        }
        Action::Remove => match docker.inspect(&inst.name).await? {
            None => Verdict::Done(Done::msg(format!("`{}` is gone", inst.name))),
            Some(c) if c.id == old_id || old_id.is_empty() => {
                Verdict::Redo(format!("`{}` still exists", inst.name))
            }
            Some(c) => Verdict::Done(Done::msg(format!(
                "the old `{}` is gone; a new one ({}) exists",
                inst.name,
                c.short_id()
            ))),
        },
        Action::Backup { .. } => {
            for (k, path) in &inflight.detail {
                let Some(from) = k.strip_prefix("path:") else {
                    continue;
                };
                let p = std::path::Path::new(path);
                if let Some(info) = archive::complete(p) {
                    let source = if from == inst.name { "self" } else { "peer" };
                    let rec = BackupRecord {
                        source: source.into(),
                        from: Some(from.to_owned()),
                        path: Some(path.clone()),
                        entries: info.entries,
                        bytes: info.bytes,
                    };
                    return Ok(Verdict::Done(
                        Done::msg(format!(
                            "a complete backup of {from} ({source}) is on disk: {} entries",
                            info.entries
                        ))
                        .learn(
                            key("backup", &inst.name),
                            serde_json::to_string(&rec).expect("serializes"),
                        ),
                    ));
                }
                let _ = std::fs::remove_file(archive::partial_path(p));
            }
            Verdict::Redo("no complete backup on disk".into())
        }
        Action::Restore => match docker.inspect(&inst.name).await? {
            None => Verdict::Fail(format!(
                "`{}` does not exist: nothing to restore into",
                inst.name
            )),
            Some(c) if c.state == ContainerState::Created => {
                if learned_backup(exec, inst).is_none() {
                    return Ok(Verdict::Fail("the backup to restore is not known".into()));
                }
                Verdict::Redo(format!(
                    "`{}` has never started since: the same archive goes in again",
                    inst.name
                ))
            }
            Some(c) => Verdict::Fail(format!(
                "restore was in flight and `{}` is {} now: check its store by hand",
                inst.name, c.state
            )),
        },
        Action::Exec { .. } | Action::StartupMysql | Action::RestartDaemon { .. } => {
            let q = format!(
                "Step {id} (`{}` on {}) was running when mend stopped. Was it done? (yes: count it as done; no: run it again)",
                step.text,
                inst.describe()
            );
            match ask_person(exec, step, id, q).await {
                Ok(Answer::Yes) => Verdict::Done(Done::msg("a person says it was done")),
                Ok(Answer::No) => Verdict::Redo("a person says it was not done".into()),
                Err(e) => Verdict::Fail(format!("{e:?}")),
            }
        }
        _ => Verdict::Redo("nothing to check".into()),
    })
}

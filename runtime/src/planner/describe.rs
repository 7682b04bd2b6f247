//! What a step will change, and what the plan can read about it now.

use super::human;
use super::walk::Planner;
use crate::actions::probe_argv_for;
use crate::driver::broker_role;
use crate::resolve::Instance;
use mend_compiler::plan::{Action, BackupSource, Step};

impl Planner<'_> {
    /// A person's text as they will read it, when the instance is known.
    fn fill(&self, text: &str, inst: Option<&Instance>) -> String {
        inst.map_or_else(
            || text.to_owned(),
            |i| crate::actions::fill(self.inventory, self.peer.as_ref().ok(), text, i),
        )
    }

    /// What the step changes, and notes (read-only look-ups).
    pub(super) async fn describe(
        &self,
        step: &Step,
        inst: Option<&Instance>,
    ) -> (Option<String>, Vec<String>) {
        let mut notes = Vec::new();
        let name = inst.map_or_else(|| "each instance".to_owned(), |i| i.name.clone());
        let store = inst
            .and_then(|i| self.spec_of(i))
            .and_then(|s| s.store.clone())
            .unwrap_or_else(|| "its store".into());
        let ep = inst.and_then(|i| i.mysql.clone());
        let ep_text = ep
            .as_ref()
            .and_then(|e| self.inventory.mysql.get(e))
            .map_or_else(
                || format!("the MySQL server of {name}"),
                crate::inventory::MysqlEndpoint::describe,
            );
        let host_note = |action: &Action| -> (Option<String>, Vec<String>) {
            let Some(i) = inst else {
                return (
                    Some("runs a command on each instance's host".into()),
                    Vec::new(),
                );
            };
            let (host, cmd) = crate::actions::host_command(self.inventory, action, i);
            let mut n = Vec::new();
            if self.drivers.host.can_run_on(&host) {
                n.extend(self.drivers.host.problems(&host));
            } else {
                n.push(self.drivers.host.why_not(&host));
            }
            let route = self.drivers.host.route(&host);
            let sep = if route.is_empty() { "" } else { " " };
            (
                Some(format!("runs `{cmd}` on host `{host}`{sep}{route}")),
                n,
            )
        };
        let changes = match &step.action {
            Action::ConfirmAlert => {
                notes.push("no: the run stops as aborted, nothing changed".into());
                None
            }
            Action::Ask { text } => Some(format!("a person: {}", self.fill(text, inst))),
            Action::Escalate { text } => Some(format!(
                "ends the run as escalated: {}",
                self.fill(text, inst)
            )),
            Action::AcceptLoss { .. } => None,
            Action::LookupRole => {
                if let Some(i) = inst {
                    match self.role_now(i).await {
                        Ok((r, how)) => {
                            notes.push(format!("now: {} ({how})", broker_role::role_name(r)));
                        }
                        Err(e) => notes.push(format!("cannot read it now: {e}")),
                    }
                }
                None
            }
            Action::LookupName => None,
            Action::Backup { sources } => {
                let mut from = Vec::new();
                for s in sources {
                    from.push(match s {
                        BackupSource::SelfNode => format!("self ({name})"),
                        BackupSource::Peer => match &self.peer {
                            Ok(p) => format!("peer ({})", p.name),
                            Err(_) => "peer (none found)".into(),
                        },
                        BackupSource::None => "none (no backup)".into(),
                    });
                }
                Some(format!(
                    "copies {store} out of the first that works: {} (into the run's backups/)",
                    from.join(", then ")
                ))
            }
            Action::Restore => Some(format!("copies the backup into {store} of {name}")),
            Action::Decommission => Some(format!("a person takes {name} and its host offline")),
            Action::Recreate { same_ip, paused } => {
                Some(match inst.and_then(|i| i.container.as_ref()) {
                    Some(c) => format!(
                        "removes {name} ({}) if it exists and creates it again from its config: image {}, network {}, IP {}{}, restart {}, memory {}, {} env vars, {} binds; {}; destroys {store}",
                        c.short_id(),
                        c.image,
                        c.network.as_deref().unwrap_or("default"),
                        c.ip.as_deref().unwrap_or("?"),
                        if *same_ip { " (kept)" } else { " (not kept)" },
                        c.restart_policy.as_deref().unwrap_or("no"),
                        c.memory.map_or("unlimited".to_owned(), |m| format!(
                            "{} MiB",
                            m / (1024 * 1024)
                        )),
                        c.env.len(),
                        c.binds.len(),
                        if *paused { "not started" } else { "started" },
                    ),
                    None => {
                        format!("creates {name} again; no config of it is known (run will fail)")
                    }
                })
            }
            Action::Remove => Some(format!("stops and removes {name}; destroys {store}")),
            Action::Start => Some(format!("starts {name}")),
            Action::Stop => Some(format!("stops {name}")),
            Action::Restart => Some(format!("restarts {name}")),
            Action::Probe => {
                if let Some(i) = inst {
                    match probe_argv_for(self.playbook, i) {
                        Ok(argv) => notes.push(format!(
                            "runs `{}` in {name}, exit 0 = healthy",
                            argv.join(" ")
                        )),
                        Err(e) => notes.push(e),
                    }
                }
                None
            }
            Action::Verify { within } => {
                notes.push(format!(
                    "checks within {}: running and probe passing (or replication healthy)",
                    human(*within)
                ));
                if let Some(e) = inst
                    .and_then(|i| self.spec_of(i))
                    .and_then(|s| s.expect.clone())
                {
                    notes.push(format!("expected: {e}"));
                }
                None
            }
            Action::WaitReplicaHealthy { within } => {
                notes.push(format!(
                    "waits up to {} for IO and SQL threads `Yes` on {ep_text} and for it to have applied all its source had written when the wait began",
                    human(*within)
                ));
                None
            }
            Action::StartReplica => Some(format!("starts the replica threads of {ep_text}")),
            Action::StopReplica => Some(format!("stops the replica threads of {ep_text}")),
            Action::SetExecMode { lenient } => {
                let mut text = format!(
                    "apply mode of {ep_text} -> {}",
                    if *lenient { "SMART" } else { "STRICT" }
                );
                if let Some(e) = &ep
                    && let Ok(info) = self.drivers.mysql.server(e).await
                {
                    let var = info
                        .exec_mode_var
                        .clone()
                        .unwrap_or_else(|| "slave_exec_mode".into());
                    text = format!(
                        "`{var}` of {ep_text} -> {}",
                        if !*lenient {
                            "STRICT"
                        } else if info.has_smart {
                            "SMART"
                        } else {
                            "IDEMPOTENT"
                        }
                    );
                    if *lenient && !info.has_smart {
                        notes.push(format!(
                                "the server is {} ({}): it has no AliSQL `SMART`, so SMART will be IDEMPOTENT",
                                info.version,
                                info.comment
                            ));
                    }
                    if let Ok(now) = self.drivers.mysql.exec_mode(e).await {
                        notes.push(format!("now: {now}"));
                    }
                }
                Some(text)
            }
            Action::SetParallelWorkers { workers } => {
                let mut text = format!("parallel apply workers of {ep_text} -> {workers}");
                if let Some(e) = &ep
                    && let Ok(info) = self.drivers.mysql.server(e).await
                {
                    if let Some(var) = info.parallel_var {
                        text = format!("`{var}` of {ep_text} -> {workers}");
                    }
                    if let Ok(now) = self.drivers.mysql.parallel_workers(e).await {
                        notes.push(format!("now: {now}; the replica threads are stopped and started again around the change if they run"));
                    }
                }
                Some(text)
            }
            Action::SetReadOnly { on } => {
                if let Some(e) = &ep
                    && let Ok(now) = self.drivers.mysql.read_only(e).await
                {
                    notes.push(format!("now: {}", if now { "ON" } else { "OFF" }));
                }
                Some(format!(
                    "`read_only` of {ep_text} -> {}",
                    if *on { "ON" } else { "OFF" }
                ))
            }
            Action::StartupMysql | Action::RestartDaemon { .. } => {
                let (c, n) = host_note(&step.action);
                notes.extend(n);
                c
            }
            Action::ForcedSwitch => Some(format!(
                "a person forces the master/slave switch of {name} in the DBPaaS console"
            )),
            Action::Exec { argv } => {
                Some(format!("runs `{}` in {name} (no shell)", argv.join(" ")))
            }
            Action::Wait { duration } => {
                notes.push(format!("pauses {}", human(*duration)));
                None
            }
        };
        (changes, notes)
    }
}

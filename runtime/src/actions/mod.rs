//! What each action does, through the drivers: the dispatch and the journal's names
//! here; stores (backup, restore, recreate), health (probe, verify), the role lookup
//! and the steps a person performs in the files beside.

mod health;
mod person;
mod role;
mod store;

pub(crate) use health::probe_argv_for;
use health::{healthy, poll_until, probe_result, wait_caught_up};
pub(crate) use person::{ask_person, fill, host_command};
use person::{host_step, interpolate, person_step};
use role::lookup_role;
pub(crate) use store::learned_backup;
use store::{backup, recreate, restore};

use crate::answers::Answer;
use crate::executor::{ActError, Done, Exec};
use crate::learned::key;
use crate::resolve::Instance;
use mend_compiler::plan::{Action, BackupSource, ComponentSpec, Step};
use std::collections::BTreeMap;

type ActResult = Result<Done, ActError>;

/// The action's name in the journal.
pub(crate) fn action_name(a: &Action) -> &'static str {
    match a {
        Action::ConfirmAlert => "confirm_alert",
        Action::Ask { .. } => "ask",
        Action::Escalate { .. } => "escalate",
        Action::AcceptLoss { .. } => "accept_loss",
        Action::LookupRole => "lookup_role",
        Action::LookupName => "lookup_name",
        Action::Backup { .. } => "backup",
        Action::Restore => "restore",
        Action::Decommission => "decommission",
        Action::Recreate { .. } => "recreate",
        Action::Remove => "remove",
        Action::Start => "start",
        Action::Stop => "stop",
        Action::Restart => "restart",
        Action::Probe => "probe",
        Action::Verify { .. } => "verify",
        Action::WaitReplicaHealthy { .. } => "wait_replica_healthy",
        Action::StartReplica => "start_replica",
        Action::StopReplica => "stop_replica",
        Action::SetExecMode { .. } => "set_exec_mode",
        Action::SetParallelWorkers { .. } => "set_parallel_workers",
        Action::SetReadOnly { .. } => "set_read_only",
        Action::StartupMysql => "startup_mysql",
        Action::ForcedSwitch => "forced_switch",
        Action::RestartDaemon { .. } => "restart_daemon",
        Action::Exec { .. } => "exec",
        Action::Wait { .. } => "wait",
    }
}

fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Where `backup` writes the copy taken from `from`.
pub(crate) fn backup_path(exec: &Exec, id: &str, from: &str) -> String {
    exec.run_dir
        .join("backups")
        .join(format!("{}__{}.tar", safe(id), safe(from)))
        .display()
        .to_string()
}

/// What the intent record says about a destructive step, for reconciling it later.
pub(crate) async fn intent_detail(
    exec: &Exec,
    step: &Step,
    id: &str,
    inst: &Instance,
) -> BTreeMap<String, String> {
    let mut d = BTreeMap::new();
    match &step.action {
        Action::Recreate { same_ip, paused } => {
            if let Ok(Some(live)) = exec.drivers.docker.inspect(&inst.name).await {
                d.insert("old_id".into(), live.id);
            }
            if let Some(ip) = inst.ip() {
                d.insert("ip".into(), ip.to_owned());
            }
            d.insert("same_ip".into(), same_ip.to_string());
            d.insert("paused".into(), paused.to_string());
        }
        Action::Remove => {
            if let Ok(Some(live)) = exec.drivers.docker.inspect(&inst.name).await {
                d.insert("old_id".into(), live.id);
            }
        }
        Action::Restore => {
            if let Some(b) = exec.learned.get(&key("backup", &inst.name)) {
                d.insert("backup".into(), b);
            }
        }
        Action::Backup { sources } => {
            for s in sources {
                let from = match s {
                    BackupSource::SelfNode => Some(inst.name.clone()),
                    BackupSource::Peer => peer_of(exec, inst).await.ok().map(|p| p.name),
                    BackupSource::None => None,
                };
                if let Some(from) = from {
                    d.insert(format!("path:{from}"), backup_path(exec, id, &from));
                }
            }
        }
        _ => {}
    }
    d
}

pub(crate) fn spec<'a>(exec: &'a Exec, inst: &Instance) -> Option<&'a ComponentSpec> {
    exec.playbook.component(&inst.component)
}

/// The peer of an instance (the run's own peer for `self`).
pub(crate) async fn peer_of(exec: &Exec, inst: &Instance) -> Result<Instance, String> {
    if inst.name == exec.me.name {
        return exec.peer.clone();
    }
    let spec = spec(exec, inst).ok_or_else(|| format!("`{}` has no component spec", inst.name))?;
    exec.resolver()
        .peer(spec, inst)
        .await
        .map_err(|e| e.to_string())
}

pub(crate) fn split_command(cmd: &str) -> Vec<String> {
    cmd.split_whitespace().map(str::to_owned).collect()
}

/// Runs one action.
pub(crate) async fn act(
    exec: &Exec,
    step: &Step,
    id: &str,
    inst: &Instance,
    _detail: &BTreeMap<String, String>,
) -> ActResult {
    let docker = &exec.drivers.docker;
    let mysql = &exec.drivers.mysql;
    match &step.action {
        Action::ConfirmAlert => {
            let q = format!(
                "Is the alert for `{}` on {} real? (yes: recover it; no: a false alarm, stop here)",
                inst.component,
                inst.describe()
            );
            match ask_person(exec, step, id, q).await? {
                Answer::Yes => Ok(Done::msg("alert confirmed by a person")),
                Answer::No => Err(ActError::Aborted(
                    "the alert was not confirmed: nothing was changed".into(),
                )),
            }
        }
        Action::Ask { text } => person_step(exec, step, id, interpolate(exec, text, inst)).await,
        Action::Escalate { text } => Err(ActError::Escalated(interpolate(exec, text, inst))),
        Action::AcceptLoss { reason } => {
            exec.accept_loss(reason);
            Ok(Done::msg(format!("loss accepted: {reason}")))
        }
        Action::LookupRole => lookup_role(exec, inst).await,
        Action::LookupName => {
            let ip = inst
                .ip()
                .ok_or_else(|| ActError::Failed(format!("`{}` has no known IP", inst.name)))?;
            let name = docker
                .name_by_ip(ip, exec.inventory.docker.network.as_deref())
                .await?
                .ok_or_else(|| {
                    ActError::Failed(format!("no container holds {ip} on the VLAN network"))
                })?;
            Ok(Done::msg(format!("{ip} is {name}")).learn(key("name", &inst.name), name))
        }
        Action::Backup { sources } => backup(exec, id, inst, sources).await,
        Action::Restore => restore(exec, inst).await,
        Action::Decommission => {
            let q = format!(
                "Take {} and its host `{}` offline (§3.2 step 4). Answer yes when done.",
                inst.describe(),
                inst.host.as_deref().unwrap_or("?")
            );
            person_step(exec, step, id, q).await
        }
        Action::Recreate { same_ip, paused } => recreate(exec, inst, *same_ip, *paused).await,
        Action::Remove => match docker.inspect(&inst.name).await? {
            Some(live) => {
                docker.remove(&live.id).await?;
                Ok(Done::msg(format!(
                    "removed {} ({})",
                    inst.name,
                    live.short_id()
                )))
            }
            None => Ok(Done::msg(format!("{} was already gone", inst.name))),
        },
        Action::Start => {
            docker.start(&inst.name).await?;
            Ok(Done::msg(format!("started {}", inst.name)))
        }
        Action::Stop => {
            docker.stop(&inst.name).await?;
            Ok(Done::msg(format!("stopped {}", inst.name)))
        }
        Action::Restart => {
            docker.restart(&inst.name).await?;
            Ok(Done::msg(format!("restarted {}", inst.name)))
        }
        Action::Probe => {
            let start = std::time::Instant::now();
            loop {
                let live = docker.inspect(&inst.name).await?.ok_or_else(|| {
                    ActError::Failed(format!("container `{}` does not exist", inst.name))
                })?;
                let grace = health::initial_delay(exec, inst, &live);
                let running = live.is_running();
                // §5.1's `docker exec` on a stopped container can only fail ("is not
                // running"); asking the engine anyway costs it an exec per container
                // of a downed host (§2.13 probes each one before restarting it).
                if !running {
                    return Err(ActError::Failed(format!(
                        "container `{}` is {}, so its probe cannot run",
                        inst.name, live.state
                    )));
                }
                let mut fresh = inst.clone();
                fresh.container = Some(live);
                let result = match probe_result(exec, &fresh).await {
                    Err(e) if e.is_fault() => return Err(e.into()),
                    Err(e) => Err(e.message),
                    Ok(r) => r,
                };
                match result {
                    Ok(m) => return Ok(Done::msg(m)),
                    // §5.1: a running container may fail its probe during its initial
                    // delay (just started: the service is still coming up).
                    Err(_) if start.elapsed() < grace => {
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                    Err(e) => return Err(ActError::Failed(e)),
                }
            }
        }
        Action::Verify { within } => {
            let expect = spec(exec, inst).and_then(|s| s.expect.clone());
            let m = poll_until(exec, *within, || healthy(exec, inst)).await?;
            let mut d = Done::msg(m);
            if let Some(e) = expect {
                d = d.note(format!("expected result (check it too): {e}"));
            }
            Ok(d)
        }
        Action::WaitReplicaHealthy { within } => {
            let m = wait_caught_up(exec, inst, *within).await?;
            Ok(Done::msg(m))
        }
        Action::StartReplica => {
            let ep = exec.mysql_of(inst).map_err(ActError::Failed)?;
            mysql.start_replica(ep).await?;
            Ok(Done::msg(format!("replica threads started on `{ep}`")))
        }
        Action::StopReplica => {
            let ep = exec.mysql_of(inst).map_err(ActError::Failed)?;
            mysql.stop_replica(ep).await?;
            Ok(Done::msg(format!("replica threads stopped on `{ep}`")))
        }
        Action::SetExecMode { lenient } => {
            let ep = exec.mysql_of(inst).map_err(ActError::Failed)?;
            let applied = mysql.set_exec_mode(ep, *lenient).await?;
            let mut d = Done::msg(format!("apply mode of `{ep}` is {}", applied.value))
                .learn(key("exec_mode", &inst.name), applied.value.clone());
            if let Some(n) = applied.note {
                d = d.note(n);
            }
            Ok(d)
        }
        Action::SetParallelWorkers { workers } => {
            let ep = exec.mysql_of(inst).map_err(ActError::Failed)?;
            let applied = mysql.set_parallel_workers(ep, *workers).await?;
            let mut d = Done::msg(format!(
                "parallel apply workers of `{ep}`: {}",
                applied.value
            ));
            if let Some(n) = applied.note {
                d = d.note(n);
            }
            Ok(d)
        }
        Action::SetReadOnly { on } => {
            let ep = exec.mysql_of(inst).map_err(ActError::Failed)?;
            mysql.set_read_only(ep, *on).await?;
            Ok(Done::msg(format!(
                "`read_only` of `{ep}` is {}",
                if *on { "ON" } else { "OFF" }
            )))
        }
        Action::StartupMysql | Action::RestartDaemon { .. } => {
            host_step(exec, step, id, inst).await
        }
        Action::ForcedSwitch => {
            let q = format!(
                "§4.1.2: force the master/slave switch of {} in the DBPaaS console (Database instances > AliSQL > the instance > More > Master/slave switch, forced). Answer yes when the switch task has finished.",
                inst.describe()
            );
            person_step(exec, step, id, q).await
        }
        Action::Exec { argv } => {
            let out = docker.exec(&inst.name, argv).await?;
            if out.exit_code == 0 {
                Ok(Done::msg(format!("`{}` exited 0", argv.join(" "))))
            } else {
                Err(ActError::Failed(format!(
                    "`{}` exited {}: {}",
                    argv.join(" "),
                    out.exit_code,
                    out.output.trim()
                )))
            }
        }
        Action::Wait { duration } => {
            if !duration.is_zero() {
                tokio::time::sleep(*duration).await;
            }
            Ok(Done::msg(format!(
                "waited {}",
                crate::planner::human(*duration)
            )))
        }
    }
}

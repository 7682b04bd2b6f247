//! §5.1 probes, and `verify`: healthy now, or within a bound.

use super::{spec, split_command};
use crate::driver::Container;
use crate::executor::{ActError, Exec};
use crate::resolve::Instance;
use mend_compiler::plan::{CheckedPlaybook, Engine, Probe};
use std::time::{Duration, Instant};

/// The probe command of an instance (§5.1), as argv.
pub(crate) fn probe_argv_for(
    playbook: &CheckedPlaybook,
    inst: &Instance,
) -> Result<Vec<String>, String> {
    let probe = playbook
        .component(&inst.component)
        .map_or(Probe::Label("aliyun.probe.cmd".into()), |s| s.probe.clone());
    match probe {
        Probe::None => Err(format!("component `{}` has no probe", inst.component)),
        Probe::Command(c) => Ok(split_command(&c)),
        Probe::Label(label) => {
            let c = inst
                .container
                .as_ref()
                .ok_or_else(|| format!("`{}` is not a container", inst.name))?;
            let cmd = c
                .labels
                .get(&label)
                .ok_or_else(|| format!("`{}` has no `{label}` label", inst.name))?;
            let argv = split_command(cmd);
            if argv.is_empty() {
                Err(format!("`{}` has an empty `{label}` label", inst.name))
            } else {
                Ok(argv)
            }
        }
    }
}

/// The probe's initial delay (§5.1): Ark labels a container with a family of probe
/// labels, `aliyun.probe.cmd` and `aliyun.probe.initial_delay_seconds`; for a probe
/// label `X.cmd`, the delay is the label `X.initial_delay_seconds` (0 without it).
/// A `probe` step that fails inside this window, the container running, tries again.
pub(crate) fn initial_delay(exec: &Exec, inst: &Instance, live: &Container) -> Duration {
    let probe = exec
        .playbook
        .component(&inst.component)
        .map_or(Probe::Label("aliyun.probe.cmd".into()), |s| s.probe.clone());
    let Probe::Label(label) = probe else {
        return Duration::ZERO;
    };
    label
        .strip_suffix(".cmd")
        .and_then(|family| live.labels.get(&format!("{family}.initial_delay_seconds")))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::ZERO, |s| Duration::from_secs(s.min(600)))
}

/// Runs the probe once, the engine's own error apart (a `probe` step is suspended
/// on an unreachable engine, not failed): `Ok(Ok(message))` when healthy,
/// `Ok(Err(why))` when not.
pub(crate) async fn probe_result(
    exec: &Exec,
    inst: &Instance,
) -> Result<Result<String, String>, crate::driver::DriverError> {
    let argv = match probe_argv_for(&exec.playbook, inst) {
        Ok(a) => a,
        Err(e) => return Ok(Err(e)),
    };
    let out = exec.drivers.docker.exec(&inst.name, &argv).await?;
    let tail: String = out
        .output
        .trim()
        .chars()
        .rev()
        .take(200)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    Ok(if out.exit_code == 0 {
        Ok(format!("probe `{}` passed", argv.join(" ")))
    } else {
        Err(format!(
            "probe `{}` exited {}: {tail}",
            argv.join(" "),
            out.exit_code
        ))
    })
}

/// Why a check (`verify`, `wait replica_healthy`) did not pass this time: the world's
/// answer ("not healthy"), or no answer at all (a fault: the service unreachable).
/// Both are polled through until the bound; at the bound a fault suspends the run
/// instead of failing it (docs/reliability.md, "Faults during a run").
#[derive(Debug)]
pub(crate) enum NotYet {
    No(String),
    Fault(String),
}

impl From<String> for NotYet {
    fn from(s: String) -> Self {
        NotYet::No(s)
    }
}

impl From<crate::driver::DriverError> for NotYet {
    fn from(e: crate::driver::DriverError) -> Self {
        if e.is_fault() {
            NotYet::Fault(e.message)
        } else {
            NotYet::No(e.message)
        }
    }
}

impl NotYet {
    /// The step's error once the bound has passed.
    fn at_bound(self, within: Duration) -> ActError {
        let bound = crate::planner::human(within);
        match self {
            NotYet::No(e) => ActError::Failed(format!("not within {bound}: {e}")),
            NotYet::Fault(e) => ActError::Fault(format!("not within {bound}: {e}")),
        }
    }
}

/// Healthy now? For a container: running and its probe passes; for a MySQL server
/// without a container: replicating (if a replica) or answering.
pub(crate) async fn healthy(exec: &Exec, inst: &Instance) -> Result<String, NotYet> {
    let is_container =
        inst.container.is_some() && spec(exec, inst).is_none_or(|s| s.engine != Engine::Mysql);
    if is_container {
        let live = exec
            .drivers
            .docker
            .inspect(&inst.name)
            .await?
            .ok_or_else(|| format!("container `{}` does not exist", inst.name))?;
        if !live.is_running() {
            return Err(NotYet::No(format!(
                "container `{}` is {}",
                inst.name, live.state
            )));
        }
        let mut fresh = inst.clone();
        fresh.container = Some(live);
        if spec(exec, inst).is_some_and(|s| s.probe == Probe::None) {
            return Ok(format!("`{}` is running", inst.name));
        }
        return Ok(probe_result(exec, &fresh).await??);
    }
    let ep = exec.mysql_of(inst)?;
    match exec.drivers.mysql.replica_status(ep).await? {
        Some(s) if s.healthy() => Ok(format!("replication healthy: {}", s.summary())),
        Some(s) => Err(NotYet::No(format!(
            "replication not healthy: {}",
            s.summary()
        ))),
        None => {
            exec.drivers.mysql.read_only(ep).await?;
            Ok(format!("`{ep}` answers"))
        }
    }
}

pub(crate) async fn poll_until<F, Fut>(
    exec: &Exec,
    within: Duration,
    mut check: F,
) -> Result<String, ActError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<String, NotYet>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(m) => return Ok(m),
            Err(e) if start.elapsed() >= within => return Err(e.at_bound(within)),
            Err(_) => tokio::time::sleep(exec.opts.poll.min(within)).await,
        }
    }
}

/// The `[mysql.*]` entry of a replica's source, found by the address the replica
/// connects to (loopback names are one).
fn source_endpoint<'i>(
    inventory: &'i crate::inventory::Inventory,
    s: &crate::driver::ReplicaStatus,
) -> Option<&'i str> {
    let loopback = |h: &str| matches!(h, "127.0.0.1" | "localhost" | "::1");
    inventory
        .mysql
        .values()
        .find(|m| {
            Some(m.port) == s.source_port
                && (m.host == s.source_host || (loopback(&m.host) && loopback(&s.source_host)))
        })
        .map(|m| m.name.as_str())
}

/// `wait replica_healthy`: both threads `Yes` *and* caught up with the source.
///
/// Both threads say `Yes` at once after `START SLAVE`, before the event that failed is
/// applied again; switching back to STRICT then replays it under STRICT and stops on
/// the same error (docs/lab.md). So the wait reads the source's binlog position once
/// (its `[mysql.*]` entry is found by the replica's `Master_Host:Master_Port`) and
/// waits until the replica has applied up to it. A source outside the inventory falls
/// back to the replica's own view ([`ReplicaStatus::idle`]) seen twice in a row.
pub(crate) async fn wait_caught_up(
    exec: &Exec,
    inst: &Instance,
    within: Duration,
) -> Result<String, ActError> {
    let ep = exec.mysql_of(inst).map_err(ActError::Failed)?;
    let mut target = None;
    let mut idle_seen = false;
    let start = Instant::now();
    loop {
        match caught_up_once(exec, ep, &mut target, &mut idle_seen).await {
            Ok(m) => return Ok(m),
            Err(e) if start.elapsed() >= within => return Err(e.at_bound(within)),
            Err(_) => tokio::time::sleep(exec.opts.poll.min(within)).await,
        }
    }
}

/// One look for [`wait_caught_up`]; `target` is the source's position, read once.
async fn caught_up_once(
    exec: &Exec,
    ep: &str,
    target: &mut Option<(String, u64, String)>,
    idle_seen: &mut bool,
) -> Result<String, NotYet> {
    let mysql = &exec.drivers.mysql;
    let s = mysql
        .replica_status(ep)
        .await?
        .ok_or_else(|| format!("`{ep}` is not a replica"))?;
    if !s.healthy() {
        *idle_seen = false;
        return Err(NotYet::No(s.summary()));
    }
    if target.is_none()
        && let Some(src) = source_endpoint(&exec.inventory, &s)
        && let Some((file, pos)) = mysql.binlog_position(src).await?
    {
        *target = Some((file, pos, src.to_owned()));
    }
    match target.as_ref() {
        Some((file, pos, src)) if s.applied_up_to(file, *pos) => Ok(format!(
            "replication healthy, applied up to {file}:{pos} (where `{src}` stood when the wait began)"
        )),
        Some((file, pos, _)) => Err(NotYet::No(format!(
            "{}, applied {}:{} of {file}:{pos}",
            s.summary(),
            s.exec_file,
            s.exec_pos.unwrap_or(0)
        ))),
        None if s.idle() && *idle_seen => Ok(format!(
            "replication healthy and idle (its source {}:{} is not in the inventory: judged from the replica alone)",
            s.source_host,
            s.source_port.unwrap_or(0)
        )),
        None => {
            *idle_seen = s.idle();
            Err(NotYet::No(format!("{}, still applying", s.summary())))
        }
    }
}

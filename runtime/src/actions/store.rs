//! Stores: `backup` (§3.2 step 3), `restore` (step 6), `recreate` (step 5).

use super::{ActResult, backup_path, peer_of, spec};
use crate::executor::{ActError, Done, Exec};
use crate::learned::{BackupRecord, key};
use crate::resolve::Instance;
use mend_compiler::plan::BackupSource;

pub(crate) async fn backup(
    exec: &Exec,
    id: &str,
    inst: &Instance,
    sources: &[BackupSource],
) -> ActResult {
    let store = spec(exec, inst)
        .and_then(|s| s.store.clone())
        .ok_or_else(|| ActError::Failed(format!("component `{}` has no store", inst.component)))?;
    let mut tried = Vec::new();
    for src in sources {
        let from = match src {
            BackupSource::None => {
                let rec = BackupRecord {
                    source: "none".into(),
                    from: None,
                    path: None,
                    entries: 0,
                    bytes: 0,
                };
                let mut msg = "no backup taken (`from none`)".to_owned();
                if !tried.is_empty() {
                    msg = format!("{msg} after: {}", tried.join("; "));
                }
                return Ok(Done::msg(msg).learn(
                    key("backup", &inst.name),
                    serde_json::to_string(&rec).expect("serializes"),
                ));
            }
            BackupSource::SelfNode => inst.clone(),
            BackupSource::Peer => match peer_of(exec, inst).await {
                Ok(p) => p,
                Err(e) => {
                    tried.push(format!("peer: {e}"));
                    continue;
                }
            },
        };
        let label = if *src == BackupSource::SelfNode {
            "self"
        } else {
            "peer"
        };
        let dest = backup_path(exec, id, &from.name);
        match exec
            .drivers
            .docker
            .copy_out(&from.name, &store, std::path::Path::new(&dest))
            .await
        {
            Ok(info) => {
                let rec = BackupRecord {
                    source: label.into(),
                    from: Some(from.name.clone()),
                    path: Some(dest),
                    entries: info.entries,
                    bytes: info.bytes,
                };
                let mut msg = format!(
                    "{store} of {} ({label}) copied: {} entries, {} bytes",
                    from.name, info.entries, info.bytes
                );
                if !tried.is_empty() {
                    msg = format!("{msg}, after: {}", tried.join("; "));
                }
                return Ok(Done::msg(msg).learn(
                    key("backup", &inst.name),
                    serde_json::to_string(&rec).expect("serializes"),
                ));
            }
            // The engine unreachable or mend's own disk full says nothing about this
            // source: going on to the next one (and so to `none`) would destroy a
            // store that could be copied once the fault is gone.
            Err(e) if e.is_fault() => return Err(e.into()),
            Err(e) => tried.push(format!("{label} ({}): {}", from.name, e.message)),
        }
    }
    Err(ActError::Failed(format!(
        "no source could be copied: {}",
        tried.join("; ")
    )))
}

pub(crate) fn learned_backup(exec: &Exec, inst: &Instance) -> Option<BackupRecord> {
    exec.learned
        .get(&key("backup", &inst.name))
        .and_then(|b| serde_json::from_str(&b).ok())
}

pub(crate) async fn restore(exec: &Exec, inst: &Instance) -> ActResult {
    let store = spec(exec, inst)
        .and_then(|s| s.store.clone())
        .ok_or_else(|| ActError::Failed(format!("component `{}` has no store", inst.component)))?;
    let rec = learned_backup(exec, inst).ok_or_else(|| {
        ActError::Failed(format!(
            "no backup of `{}` was taken in this run",
            inst.name
        ))
    })?;
    let Some(path) = rec.path else {
        return Ok(Done::msg(
            "nothing to restore: no backup was taken (`from none`)",
        ));
    };
    exec.drivers
        .docker
        .copy_in(&inst.name, &store, std::path::Path::new(&path))
        .await?;
    Ok(Done::msg(format!(
        "{store} restored into {} from the backup of {} ({} entries)",
        inst.name,
        rec.from.unwrap_or_default(),
        rec.entries
    )))
}

pub(crate) async fn recreate(
    exec: &Exec,
    inst: &Instance,
    same_ip: bool,
    paused: bool,
) -> ActResult {
    let from = inst.container.clone().ok_or_else(|| {
        ActError::Failed(format!(
            "no config known for `{}`: it was never seen by mend (run `mend plan` while it lives to keep a snapshot)",
            inst.name
        ))
    })?;
    let docker = &exec.drivers.docker;
    let mut msg = Vec::new();
    if let Some(live) = docker.inspect(&inst.name).await? {
        docker.remove(&live.id).await?;
        msg.push(format!("removed {} ({})", inst.name, live.short_id()));
    }
    let new_id = docker.create(&from, same_ip).await?;
    msg.push(format!(
        "created {} ({}){}",
        inst.name,
        &new_id[..new_id.len().min(12)],
        if same_ip {
            format!(" with IP {}", from.ip.as_deref().unwrap_or("?"))
        } else {
            String::new()
        }
    ));
    if paused {
        msg.push("not started".into());
    } else {
        docker.start(&new_id).await?;
        msg.push("started".into());
    }
    Ok(Done::msg(msg.join(", ")).learn(key("container", &inst.name), new_id))
}

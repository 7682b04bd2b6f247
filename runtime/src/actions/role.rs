//! `lookup role`: master or slave, from ZooKeeper (§3.2), `read_only` (§4.2) or the
//! metadata DB (§4.1.1).

use super::{ActResult, peer_of, spec};
use crate::driver::{DriverErrorKind, broker_role};
use crate::executor::{ActError, Done, Exec};
use crate::learned::key;
use crate::resolve::Instance;
use mend_compiler::plan::{Role, RoleSource};

pub(crate) async fn lookup_role(exec: &Exec, inst: &Instance) -> ActResult {
    let spec = spec(exec, inst)
        .ok_or_else(|| ActError::Failed(format!("`{}` has no component spec", inst.name)))?;
    let (role, how) = match &spec.role {
        RoleSource::None => {
            return Err(ActError::Failed(format!(
                "component `{}` has no role source",
                spec.name
            )));
        }
        RoleSource::Zk { path, field, map } => {
            let ip = inst
                .ip()
                .ok_or_else(|| ActError::Failed(format!("`{}` has no known IP", inst.name)))?;
            let root = exec
                .inventory
                .zookeeper
                .as_ref()
                .map_or(crate::inventory::DEFAULT_BROKER_NAMES, |z| {
                    z.broker_names.as_str()
                });
            let r = broker_role::broker_role(exec.drivers.zk.as_ref(), root, path, field, map, ip)
                .await?;
            (r.role, r.how)
        }
        RoleSource::ReadOnly => {
            let ep = exec.mysql_of(inst).map_err(ActError::Failed)?;
            match exec.drivers.mysql.read_only(ep).await {
                Ok(ro) => (
                    if ro { Role::Slave } else { Role::Master },
                    format!("`read_only` is {} on `{ep}`", if ro { "ON" } else { "OFF" }),
                ),
                // §4.2: a failed node that does not answer is judged by its peer: peer
                // [RO], the failed one was the master; peer [RW], it is the slave.
                Err(e) if e.kind == DriverErrorKind::Unreachable => {
                    let peer = peer_of(exec, inst).await.map_err(|p| {
                        ActError::Failed(format!("{e}; and no peer to judge by: {p}"))
                    })?;
                    let pep = exec.mysql_of(&peer).map_err(ActError::Failed)?;
                    let peer_ro = exec.drivers.mysql.read_only(pep).await?;
                    (
                        if peer_ro { Role::Master } else { Role::Slave },
                        format!(
                            "`{ep}` does not answer; its peer `{pep}` has `read_only` {} (§4.2)",
                            if peer_ro { "ON" } else { "OFF" }
                        ),
                    )
                }
                Err(e) => return Err(e.into()),
            }
        }
        RoleSource::MetaDb => {
            let meta = exec.inventory.metadb().ok_or_else(|| {
                ActError::Failed(
                    "no metadata DB in the inventory (`metadb = true` on a `[mysql.*]`)".into(),
                )
            })?;
            let ep_name = exec.mysql_of(inst).map_err(ActError::Failed)?;
            let ep = &exec.inventory.mysql[ep_name];
            let ip = ep.meta_ip.clone().unwrap_or_else(|| ep.host.clone());
            let port = ep.meta_port.unwrap_or(ep.port);
            let rows = exec
                .drivers
                .mysql
                .metadb_roles(&meta.name, &ip, port)
                .await?;
            let mine = rows
                .iter()
                .find(|r| r.ip == ip && r.port == port)
                .ok_or_else(|| {
                    ActError::Failed(format!("`dbfree_instance_list` has no row for {ip}:{port}"))
                })?;
            let role = match mine.role.to_ascii_lowercase().as_str() {
                "master" => Role::Master,
                "slave" => Role::Slave,
                other => {
                    return Err(ActError::Failed(format!(
                        "the metadata DB says role `{other}` for {ip}:{port}"
                    )));
                }
            };
            (
                role,
                format!("`dbfree_instance_list` says {} for {ip}:{port}", mine.role),
            )
        }
    };
    let name = broker_role::role_name(role);
    Ok(Done::msg(format!("{} is the {name}: {how}", inst.name))
        .learn(key("role", &inst.name), name))
}

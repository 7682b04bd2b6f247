//! From a playbook's components to the instances they mean in the live inventory.
//!
//! - A **docker** component's instances are the containers whose labels match all of
//!   its `select` rules. A container with a `[mysql.*]` entry naming it
//!   (`container = "…"`) also gets that MySQL server (§4.2's control databases).
//! - A **mysql** component's instances are the `[mysql.*]` entries whose `component`
//!   is its name (the table's name by default).
//! - A **host** component's instance is the named `[ssh.*]` host, or a host to be
//!   handled by a person.
//!
//! A target (`--target`) names a container by name, ID (or a prefix of 6+ characters)
//! or IP; a MySQL server by entry name, `host:port`, or host. A container that is gone
//! (a lost host) is found in the snapshot cache that every `plan` and `run` refreshes.
//!
//! **Peer rule**, first that applies:
//! 1. docker: the other instance with the same value of the group label
//!    (`[docker] group_label`, default `mend.group`);
//! 2. a component whose role is in ZooKeeper (§3.2): the other IP under the same
//!    broker node (`…/{cluster}/{broker}/{ip}`);
//! 3. mysql: the entry's `peer`, else the other entry with the same `group`;
//! 4. the component has exactly two instances: the other one.
//!
//! **Host rule** (`each … on host`): the containers whose host label (`[docker]
//! host_label`, default `mend.host`) has the failed instance's value.
//! `each … on host(C)`: the instances of component C on that host — containers by the
//! same label, MySQL servers by their `ssh` host (§2.1: every DBNode on the host).

use crate::driver::{Container, DockerRead, DriverError, ZkRead, broker_role};
use crate::inventory::Inventory;
use crate::snapshot::SnapshotStore;
use mend_compiler::plan::{ComponentSpec, Engine, RoleSource};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One thing a step can act on.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub component: String,
    /// The container name, or the MySQL entry's name.
    pub name: String,
    /// The container as last seen (or as snapshotted before it was lost).
    pub container: Option<Container>,
    /// The `[mysql.*]` entry of this instance.
    pub mysql: Option<String>,
    /// The host it runs on: the host label's value, or the `[ssh.*]` name.
    pub host: Option<String>,
    /// The MySQL server's address, for instances without a container.
    pub address: Option<String>,
}

impl fmt::Debug for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Instance {
    /// The IP other components know it by.
    pub fn ip(&self) -> Option<&str> {
        self.container
            .as_ref()
            .and_then(|c| c.ip.as_deref())
            .or_else(|| self.address.as_deref().and_then(|a| a.split(':').next()))
    }

    /// `name (ip, id)`, for plans, prompts and logs.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(ip) = self.ip() {
            parts.push(ip.to_owned());
        }
        if let Some(c) = &self.container {
            parts.push(c.short_id().to_owned());
        }
        if let (Some(m), None) = (&self.mysql, &self.container)
            && let Some(a) = &self.address
        {
            parts.push(format!("mysql {m} {a}"));
        }
        if parts.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, parts.join(", "))
        }
    }
}

/// Why a target or a peer could not be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("component `{0}` is not in the playbook")]
    UnknownComponent(String),
    #[error("component `{0}` has no `select` rule: every container would match")]
    NoSelector(String),
    #[error("no instance of `{component}` matches `{target}` ({looked})")]
    NoMatch {
        component: String,
        target: String,
        looked: String,
    },
    #[error("`{target}` matches several instances of `{component}`: {names}")]
    Ambiguous {
        component: String,
        target: String,
        names: String,
    },
    #[error("container `{name}` is not a `{component}`: its labels do not match {selectors}")]
    WrongComponent {
        name: String,
        component: String,
        selectors: String,
    },
    #[error("no peer for `{0}`: {1}")]
    NoPeer(String, String),
    #[error("{0}")]
    Host(String),
    #[error(transparent)]
    Driver(#[from] DriverError),
}

/// Reads the inventory (read-only) to resolve names.
pub struct Resolver<'a> {
    pub inventory: &'a Inventory,
    pub docker: &'a dyn DockerRead,
    pub zk: &'a dyn ZkRead,
    pub snapshots: Option<&'a SnapshotStore>,
}

fn selectors_text(spec: &ComponentSpec) -> String {
    spec.selectors
        .iter()
        .map(|(k, v)| format!("`{k}={v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Resolver<'_> {
    fn instance_of(&self, component: &str, c: Container) -> Instance {
        let ep = self.inventory.mysql_for_container(&c.name);
        Instance {
            component: component.to_owned(),
            name: c.name.clone(),
            host: c.labels.get(&self.inventory.docker.host_label).cloned(),
            mysql: ep.map(|m| m.name.clone()),
            address: ep.map(|m| format!("{}:{}", m.host, m.port)),
            container: Some(c),
        }
    }

    /// Every instance of a component, as it is now.
    pub async fn instances(&self, spec: &ComponentSpec) -> Result<Vec<Instance>, ResolveError> {
        match spec.engine {
            Engine::Docker => {
                if spec.selectors.is_empty() {
                    return Err(ResolveError::NoSelector(spec.name.clone()));
                }
                let found = self.docker.list(&spec.selectors).await?;
                Ok(found
                    .into_iter()
                    .map(|c| self.instance_of(&spec.name, c))
                    .collect())
            }
            Engine::Mysql => {
                let mut out = Vec::new();
                for ep in self.inventory.mysql_of(&spec.name) {
                    let container = match &ep.container {
                        Some(name) => self.docker.inspect(name).await.ok().flatten(),
                        None => None,
                    };
                    out.push(Instance {
                        component: spec.name.clone(),
                        name: ep.name.clone(),
                        container,
                        mysql: Some(ep.name.clone()),
                        host: ep.ssh.clone(),
                        address: Some(format!("{}:{}", ep.host, ep.port)),
                    });
                }
                Ok(out)
            }
            Engine::Host => Ok(self
                .inventory
                .ssh
                .values()
                .map(|s| Instance {
                    component: spec.name.clone(),
                    name: s.name.clone(),
                    container: None,
                    mysql: None,
                    host: Some(s.name.clone()),
                    address: Some(s.address.clone()),
                })
                .collect()),
        }
    }

    /// The instance a `--target` names.
    pub async fn target(
        &self,
        spec: &ComponentSpec,
        target: &str,
    ) -> Result<Instance, ResolveError> {
        let t = target.trim_start_matches('/');
        if spec.engine == Engine::Docker && spec.selectors.is_empty() {
            return self.named_container(spec, t).await;
        }
        let all = self.instances(spec).await?;
        let hits: Vec<&Instance> = all.iter().filter(|i| names(i, t)).collect();
        match hits.as_slice() {
            [one] => return Ok((*one).clone()),
            [] => {}
            many => {
                return Err(ResolveError::Ambiguous {
                    component: spec.name.clone(),
                    target: target.to_owned(),
                    names: many
                        .iter()
                        .map(|i| i.name.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        if spec.engine == Engine::Docker {
            // A container of another component, named outright: say so.
            if let Some(c) = self.docker.inspect(t).await? {
                return Err(ResolveError::WrongComponent {
                    name: c.name,
                    component: spec.name.clone(),
                    selectors: selectors_text(spec),
                });
            }
            if let Some(ip_owner) = self
                .docker
                .name_by_ip(t, self.inventory.docker.network.as_deref())
                .await?
                && let Some(i) = all.iter().find(|i| i.name == ip_owner)
            {
                return Ok(i.clone());
            }
            // Gone from the engine: the snapshot taken while it lived.
            if let Some(store) = self.snapshots
                && let Some(c) = store.find(t).filter(|c| c.matches(&spec.selectors))
            {
                return Ok(self.instance_of(&spec.name, c));
            }
        }
        if spec.engine == Engine::Host {
            return Ok(Instance {
                component: spec.name.clone(),
                name: t.to_owned(),
                container: None,
                mysql: None,
                host: Some(t.to_owned()),
                address: None,
            });
        }
        Err(ResolveError::NoMatch {
            component: spec.name.clone(),
            target: target.to_owned(),
            looked: match spec.engine {
                Engine::Docker => format!(
                    "{} live containers with {}, and the snapshot cache",
                    all.len(),
                    selectors_text(spec)
                ),
                Engine::Mysql => format!(
                    "{} `[mysql.*]` entries with component `{}`",
                    all.len(),
                    spec.name
                ),
                Engine::Host => String::new(),
            },
        })
    }

    /// A docker component without `select` (the guide's "other stateless containers",
    /// §1.12): its instance is the container the target names outright, by name, ID or
    /// IP on the VLAN (§5.2), or, when it is gone, by its snapshot.
    async fn named_container(
        &self,
        spec: &ComponentSpec,
        t: &str,
    ) -> Result<Instance, ResolveError> {
        let network = self.inventory.docker.network.as_deref();
        let found = match self.docker.inspect(t).await? {
            Some(c) => Some(c),
            None => match self.docker.name_by_ip(t, network).await? {
                Some(name) => self.docker.inspect(&name).await?,
                None => None,
            },
        };
        if let Some(c) = found.or_else(|| self.snapshots.and_then(|s| s.find(t))) {
            return Ok(self.instance_of(&spec.name, c));
        }
        Err(ResolveError::NoMatch {
            component: spec.name.clone(),
            target: t.to_owned(),
            looked: format!(
                "`{}` has no `select`: the container named by the target (name, ID or IP), and the snapshot cache",
                spec.name
            ),
        })
    }

    /// The other node of the instance's pair or group (see the module doc).
    pub async fn peer(
        &self,
        spec: &ComponentSpec,
        me: &Instance,
    ) -> Result<Instance, ResolveError> {
        let mut all = self.instances(spec).await?;
        // A lost instance is not live: keep it out of its own peer set.
        all.retain(|i| i.name != me.name);
        let group_label = &self.inventory.docker.group_label;
        if let Some(group) = me
            .container
            .as_ref()
            .and_then(|c| c.labels.get(group_label))
        {
            let same: Vec<&Instance> = all
                .iter()
                .filter(|i| {
                    i.container.as_ref().and_then(|c| c.labels.get(group_label)) == Some(group)
                })
                .collect();
            return match same.as_slice() {
                [one] => Ok((*one).clone()),
                [] => Err(ResolveError::NoPeer(
                    me.name.clone(),
                    format!("no other `{}` has `{group_label}={group}`", spec.name),
                )),
                many => Err(ResolveError::NoPeer(
                    me.name.clone(),
                    format!(
                        "{} others have `{group_label}={group}`: {}",
                        many.len(),
                        many.iter()
                            .map(|i| i.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            };
        }
        if let (RoleSource::Zk { .. }, Some(ip)) = (&spec.role, me.ip()) {
            let root = self
                .inventory
                .zookeeper
                .as_ref()
                .map_or(crate::inventory::DEFAULT_BROKER_NAMES, |z| {
                    z.broker_names.as_str()
                });
            if let Ok(Some(loc)) = broker_role::locate(self.zk, root, ip).await {
                let others: Vec<&String> =
                    loc.members.iter().filter(|m| m.as_str() != ip).collect();
                if let [other] = others.as_slice() {
                    if let Some(i) = all.iter().find(|i| i.ip() == Some(other.as_str())) {
                        return Ok(i.clone());
                    }
                    if let Some(c) = self.snapshots.and_then(|s| s.find(other)) {
                        return Ok(self.instance_of(&spec.name, c));
                    }
                    return Err(ResolveError::NoPeer(
                        me.name.clone(),
                        format!(
                            "zookeeper names {other} as its group member, but no container has that IP"
                        ),
                    ));
                }
            }
        }
        if let Some(ep) = me.mysql.as_ref().and_then(|m| self.inventory.mysql.get(m)) {
            if let Some(p) = &ep.peer
                && let Some(i) = all.iter().find(|i| i.mysql.as_deref() == Some(p.as_str()))
            {
                return Ok(i.clone());
            }
            if let Some(g) = &ep.group {
                let same: Vec<&Instance> = all
                    .iter()
                    .filter(|i| {
                        i.mysql
                            .as_ref()
                            .and_then(|m| self.inventory.mysql.get(m))
                            .and_then(|e| e.group.as_ref())
                            == Some(g)
                    })
                    .collect();
                if let [one] = same.as_slice() {
                    return Ok((*one).clone());
                }
            }
        }
        match all.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(ResolveError::NoPeer(
                me.name.clone(),
                format!("it is the only `{}`", spec.name),
            )),
            many => Err(ResolveError::NoPeer(
                me.name.clone(),
                format!(
                    "{} other `{}` instances and no group label `{group_label}` to choose among them",
                    many.len(),
                    spec.name
                ),
            )),
        }
    }

    /// Every container on the instance's host (`each … on host`). Each one is given
    /// the first playbook component whose selectors match it, else its
    /// `ark.component` label.
    pub async fn host_scope(
        &self,
        me: &Instance,
        components: &[ComponentSpec],
    ) -> Result<Vec<Instance>, ResolveError> {
        let label = &self.inventory.docker.host_label;
        let host = me.host.clone().ok_or_else(|| {
            ResolveError::Host(format!(
                "cannot tell which host `{}` runs on: it has no `{label}` label (set `[docker] host_label`)",
                me.name
            ))
        })?;
        let found = self.docker.list(&[(label.clone(), host)]).await?;
        Ok(found
            .into_iter()
            .map(|c| {
                let component = components
                    .iter()
                    .find(|s| {
                        s.engine == Engine::Docker
                            && !s.selectors.is_empty()
                            && c.matches(&s.selectors)
                    })
                    .map(|s| s.name.clone())
                    .or_else(|| c.labels.get("ark.component").cloned())
                    .unwrap_or_else(|| "container".to_owned());
                self.instance_of(&component, c)
            })
            .collect())
    }

    /// The instances of component `spec` on the instance's host (`each … on host(C)`).
    pub async fn host_of(
        &self,
        spec: &ComponentSpec,
        me: &Instance,
    ) -> Result<Vec<Instance>, ResolveError> {
        let host = me.host.clone().ok_or_else(|| {
            ResolveError::Host(format!(
                "cannot tell which host `{}` runs on: it has no `{}` label, or no `ssh = \"…\"` in its `[mysql.*]`",
                me.name, self.inventory.docker.host_label
            ))
        })?;
        Ok(self
            .instances(spec)
            .await?
            .into_iter()
            .filter(|i| i.host.as_deref() == Some(host.as_str()))
            .collect())
    }
}

fn names(i: &Instance, t: &str) -> bool {
    if i.name == t || i.ip() == Some(t) || i.address.as_deref() == Some(t) {
        return true;
    }
    if let Some(c) = &i.container
        && (c.id == t || (t.len() >= 6 && c.id.starts_with(t)))
    {
        return true;
    }
    false
}

#[cfg(test)]
mod tests;

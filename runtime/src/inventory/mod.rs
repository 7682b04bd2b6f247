//! The inventory, `mend.toml`: where the Docker engine, the MySQL servers, ZooKeeper and
//! the hosts are, and how to log in to them — by reference only.
//!
//! ```toml
//! state_dir = "/var/lib/mend"          # optional; runs, journals, locks, backups
//!
//! [docker]                              # optional: the local socket by default
//! host = "tcp://10.0.0.2:2376"          # default: $DOCKER_HOST, then the local socket
//! tls_ca = "certs/ca.pem"               # TLS for tcp://: all three or none
//! tls_cert = "certs/cert.pem"
//! tls_key = "certs/key.pem"
//! network = "vlan454"                   # the VLAN (§5.2); default: a network named *vlan*
//! group_label = "mend.group"            # peers: same component, same value (default)
//! host_label = "mend.host"              # `each … on host`: same value (default)
//!
//! [mysql.dbnode_a]                      # one MySQL/MariaDB server, named `dbnode_a`
//! component = "dbnode"                  # default: the table's name
//! host = "127.0.0.1"
//! port = 3306
//! user = "root"
//! password_env = "MEND_DBNODE_PASSWORD" # or password_file = "/run/secrets/dbnode"
//! group = "pair1"                       # optional: the master/slave pair it belongs to
//! peer = "dbnode_b"                     # optional: names the peer outright
//! container = "task_2390_g0_metadb_1"   # optional: the container that runs it (§4.2)
//! metadb = false                        # true: this is the DBPaaS metadata DB (§4.1.1)
//! database = "dbaas"                    # optional: the session's default database
//! ssh = "db1"                           # optional: the [ssh.*] host it runs on
//! tls = true                            # optional: TLS required, server cert checked
//! tls_ca = "certs/mysql-ca.pem"         # optional: the CA to check it with (implies tls)
//!
//! [zookeeper]
//! connect = "127.0.0.1:21810"
//! broker_names = "/mq/brokerNames/cluster"   # root of the §3.2 walk (default)
//!
//! [ssh.db1]                             # optional; without it host steps go to a person
//! address = "10.0.0.5"
//! port = 22
//! user = "admin"
//! identity_file = "keys/db1"             # default: the ssh client's own keys and agent
//! known_hosts = "keys/known_hosts"       # default: ~/.ssh/known_hosts; always checked strictly
//! connect_timeout_secs = 10
//! startup_mysql = "myadm -P {port} -d startup"   # {port} {name} {host}
//!
//! [ssh.here]                            # the machine mend runs on (the lab)
//! local = true
//! startup_mysql = "scripts/lab mysql-start {name} --read-only"
//! ```
//!
//! Host steps on a `local` host run here (argv, no shell); on an `[ssh.*]` host with an
//! `address` they run over SSH through the system's OpenSSH client (each argument
//! quoted for the remote shell, so values stay data); a host with no `[ssh.*]` entry
//! gets a step for a person, who is shown the exact command.
//!
//! A password written inline (`password = "…"`) is refused: credentials come from an
//! environment variable or a file, read when the driver connects (see
//! [`crate::secret`]). Relative paths are relative to the inventory file.

use crate::secret::Secret;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Default label that puts two containers of a component in the same group (peers).
pub const DEFAULT_GROUP_LABEL: &str = "mend.group";
/// Default label that names the (simulated or real) host a container runs on.
pub const DEFAULT_HOST_LABEL: &str = "mend.host";
/// Default root of the §3.2 ZooKeeper walk.
pub const DEFAULT_BROKER_NAMES: &str = "/mq/brokerNames/cluster";

/// The parsed inventory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    /// The file it came from, for messages.
    pub path: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub docker: DockerEndpoint,
    pub mysql: BTreeMap<String, MysqlEndpoint>,
    pub zookeeper: Option<ZkEndpoint>,
    pub ssh: BTreeMap<String, SshEndpoint>,
}

/// How to reach the Docker engine.
#[derive(Debug, Clone, PartialEq)]
pub struct DockerEndpoint {
    /// `unix:///…`, `tcp://…`; `None`: `$DOCKER_HOST`, then the local socket.
    pub host: Option<String>,
    pub tls: Option<TlsFiles>,
    /// The VLAN network of §5.2; `None`: the first network whose name contains `vlan`.
    pub network: Option<String>,
    pub group_label: String,
    pub host_label: String,
    /// Seconds a single engine request may take.
    pub timeout_secs: u64,
}

impl Default for DockerEndpoint {
    fn default() -> Self {
        DockerEndpoint {
            host: None,
            tls: None,
            network: None,
            group_label: DEFAULT_GROUP_LABEL.to_owned(),
            host_label: DEFAULT_HOST_LABEL.to_owned(),
            timeout_secs: 120,
        }
    }
}

impl DockerEndpoint {
    /// The address that will be used, for messages.
    pub fn describe(&self) -> String {
        match &self.host {
            Some(h) => h.clone(),
            None => std::env::var("DOCKER_HOST")
                .unwrap_or_else(|_| "unix:///var/run/docker.sock".to_owned()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Where a password comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordRef {
    Env(String),
    File(PathBuf),
    /// No password (a socket-authenticated or passwordless account).
    None,
}

impl PasswordRef {
    /// Reads the password now. Called by a driver when it connects, never earlier.
    pub fn resolve(&self) -> Result<Option<Secret>, String> {
        match self {
            PasswordRef::Env(var) => Secret::from_env(var).map(Some),
            PasswordRef::File(path) => Secret::from_file(path).map(Some),
            PasswordRef::None => Ok(None),
        }
    }
}

impl fmt::Display for PasswordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordRef::Env(v) => write!(f, "env `{v}`"),
            PasswordRef::File(p) => write!(f, "file `{}`", p.display()),
            PasswordRef::None => f.write_str("none"),
        }
    }
}

/// One MySQL or MariaDB server.
#[derive(Debug, Clone, PartialEq)]
pub struct MysqlEndpoint {
    pub name: String,
    pub component: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: PasswordRef,
    /// Default database of the session (the metadata DB's schema, §4.1.1).
    pub database: Option<String>,
    pub group: Option<String>,
    pub peer: Option<String>,
    pub container: Option<String>,
    pub metadb: bool,
    pub ssh: Option<String>,
    /// How the metadata DB's `dbfree_instance_list` names this server (default: host/port).
    pub meta_ip: Option<String>,
    pub meta_port: Option<u16>,
    /// TLS to this server: `None` plain TCP; `Some(None)` TLS checked against the
    /// built-in web roots; `Some(Some(ca))` TLS checked against that CA file. A
    /// server whose certificate does not check is refused, never used in clear.
    pub tls: Option<Option<PathBuf>>,
}

impl MysqlEndpoint {
    /// `name (host:port)`, for plans and messages.
    pub fn describe(&self) -> String {
        format!("{} ({}:{})", self.name, self.host, self.port)
    }
}

/// The ZooKeeper ensemble.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkEndpoint {
    pub connect: String,
    pub broker_names: String,
    pub session_timeout_secs: u64,
}

/// A host reachable over SSH (optional).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshEndpoint {
    pub name: String,
    /// `local = true`: the host is the machine mend runs on; commands run here,
    /// without a shell (the lab's MariaDB servers are local processes).
    pub local: bool,
    pub address: String,
    pub port: u16,
    pub user: Option<String>,
    pub identity_file: Option<PathBuf>,
    /// The known-hosts file the host key is checked against (strictly: an unknown or
    /// changed key refuses the connection). `None`: the ssh client's default.
    pub known_hosts: Option<PathBuf>,
    pub connect_timeout_secs: u64,
    /// The §4.1.3 command; `{port}`, `{name}` (the `[mysql.*]` entry) and `{host}`
    /// replaced. Default `myadm -P {port} -d startup`.
    pub startup_mysql: String,
    /// The §2.13 command, `{daemon}` and `{host}` replaced. Default
    /// `sudo service {daemon} restart`.
    pub restart_daemon: String,
}

/// Why an inventory was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct InventoryError {
    pub file: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    state_dir: Option<PathBuf>,
    #[serde(default)]
    docker: Option<RawDocker>,
    #[serde(default)]
    mysql: BTreeMap<String, RawMysql>,
    zookeeper: Option<RawZk>,
    #[serde(default)]
    ssh: BTreeMap<String, RawSsh>,
    /// `mend check`'s table (docs/ci.md): the same `mend.toml` holds both; the CLI
    /// reads and checks it, the runtime leaves it alone.
    #[serde(default, rename = "lint")]
    _lint: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocker {
    host: Option<String>,
    tls_ca: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    network: Option<String>,
    group_label: Option<String>,
    host_label: Option<String>,
    timeout_secs: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMysql {
    component: Option<String>,
    host: String,
    port: Option<u16>,
    user: String,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    database: Option<String>,
    group: Option<String>,
    peer: Option<String>,
    container: Option<String>,
    #[serde(default)]
    metadb: bool,
    ssh: Option<String>,
    meta_ip: Option<String>,
    meta_port: Option<u16>,
    tls: Option<bool>,
    tls_ca: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZk {
    connect: String,
    broker_names: Option<String>,
    session_timeout_secs: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSsh {
    #[serde(default)]
    local: bool,
    address: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    identity_file: Option<PathBuf>,
    known_hosts: Option<PathBuf>,
    connect_timeout_secs: Option<u64>,
    startup_mysql: Option<String>,
    restart_daemon: Option<String>,
}

/// Keys that would hold a credential inline.
const INLINE_SECRET_KEYS: &[&str] = &["password", "passwd", "pass", "pwd", "secret", "token"];

impl Inventory {
    /// Reads and checks `mend.toml`.
    pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
        let text = std::fs::read_to_string(path).map_err(|e| InventoryError {
            file: path.display().to_string(),
            message: format!("cannot read the inventory: {e}"),
        })?;
        let mut inv = Inventory::parse(&text, &path.display().to_string(), path.parent())?;
        inv.path = Some(path.to_owned());
        Ok(inv)
    }

    /// Parses inventory text; `base` anchors relative paths.
    pub fn parse(text: &str, file: &str, base: Option<&Path>) -> Result<Inventory, InventoryError> {
        let err = |message: String| InventoryError {
            file: file.to_owned(),
            message,
        };
        // Parse to a tree first, to refuse inline credentials before anything echoes
        // them. toml's own messages quote the source line, which could be the password
        // line: report line and column only.
        let value: toml::Table = toml::from_str(text).map_err(|e| err(toml_message(text, &e)))?;
        if let Some(place) = find_inline_secret(&value, "") {
            return Err(err(format!(
                "`{place}` holds a credential inline: use `password_env = \"VAR\"` or \
                 `password_file = \"PATH\"` instead (the value is not shown)"
            )));
        }
        let raw: RawInventory = toml::from_str(text).map_err(|e| err(toml_message(text, &e)))?;
        let rel = |p: PathBuf| match base {
            Some(b) if p.is_relative() && !b.as_os_str().is_empty() => b.join(p),
            _ => p,
        };

        let docker = match raw.docker {
            None => DockerEndpoint::default(),
            Some(d) => {
                let tls = match (d.tls_ca, d.tls_cert, d.tls_key) {
                    (None, None, None) => None,
                    (Some(ca), Some(cert), Some(key)) => Some(TlsFiles {
                        ca: rel(ca),
                        cert: rel(cert),
                        key: rel(key),
                    }),
                    _ => {
                        return Err(err(
                            "`[docker]` TLS needs all of `tls_ca`, `tls_cert` and `tls_key`".into(),
                        ));
                    }
                };
                if tls.is_some() && !d.host.as_deref().is_some_and(|h| h.starts_with("tcp://")) {
                    return Err(err(
                        "`[docker]` TLS files are given but `host` is not a `tcp://` address"
                            .into(),
                    ));
                }
                DockerEndpoint {
                    host: d.host,
                    tls,
                    network: d.network,
                    group_label: d.group_label.unwrap_or_else(|| DEFAULT_GROUP_LABEL.into()),
                    host_label: d.host_label.unwrap_or_else(|| DEFAULT_HOST_LABEL.into()),
                    timeout_secs: d.timeout_secs.unwrap_or(120),
                }
            }
        };

        let mut ssh = BTreeMap::new();
        for (name, s) in raw.ssh {
            let address = match (s.address, s.local) {
                // handed to `ssh` as its destination: an option there (`-oProxyCommand=…`)
                // would be code, so refuse anything that could read as one
                (Some(a), _)
                    if a.is_empty() || a.starts_with('-') || a.contains(char::is_whitespace) =>
                {
                    return Err(err(format!(
                        "`[ssh.{name}]` address `{}` is not a host name or address",
                        a.escape_debug()
                    )));
                }
                (Some(a), _) => a,
                (None, true) => "localhost".to_owned(),
                (None, false) => {
                    return Err(err(format!(
                        "`[ssh.{name}]` needs `address` (or `local = true`)"
                    )));
                }
            };
            ssh.insert(
                name.clone(),
                SshEndpoint {
                    name,
                    local: s.local,
                    address,
                    port: s.port.unwrap_or(22),
                    user: s.user,
                    identity_file: s.identity_file.map(rel),
                    known_hosts: s.known_hosts.map(rel),
                    connect_timeout_secs: s.connect_timeout_secs.unwrap_or(10).max(1),
                    startup_mysql: s
                        .startup_mysql
                        .unwrap_or_else(|| "myadm -P {port} -d startup".into()),
                    restart_daemon: s
                        .restart_daemon
                        .unwrap_or_else(|| "sudo service {daemon} restart".into()),
                },
            );
        }

        let mut mysql = BTreeMap::new();
        for (name, m) in raw.mysql {
            let password = match (m.password_env, m.password_file) {
                (Some(_), Some(_)) => {
                    return Err(err(format!(
                        "`[mysql.{name}]` has both `password_env` and `password_file`: keep one"
                    )));
                }
                (Some(v), None) => PasswordRef::Env(v),
                (None, Some(p)) => PasswordRef::File(rel(p)),
                (None, None) => PasswordRef::None,
            };
            if let Some(h) = &m.ssh
                && !ssh.contains_key(h)
            {
                return Err(err(format!(
                    "`[mysql.{name}]` names ssh host `{h}`, but there is no `[ssh.{h}]`"
                )));
            }
            let tls = match (m.tls, m.tls_ca) {
                (Some(false), Some(_)) => {
                    return Err(err(format!(
                        "`[mysql.{name}]` has `tls = false` and a `tls_ca`: keep one"
                    )));
                }
                (_, Some(ca)) => Some(Some(rel(ca))),
                (Some(true), None) => Some(None),
                (Some(false) | None, None) => None,
            };
            mysql.insert(
                name.clone(),
                MysqlEndpoint {
                    component: m.component.unwrap_or_else(|| name.clone()),
                    name,
                    host: m.host,
                    port: m.port.unwrap_or(3306),
                    user: m.user,
                    password,
                    database: m.database,
                    group: m.group,
                    peer: m.peer,
                    container: m.container,
                    metadb: m.metadb,
                    ssh: m.ssh,
                    meta_ip: m.meta_ip,
                    meta_port: m.meta_port,
                    tls,
                },
            );
        }
        for ep in mysql.values() {
            if let Some(p) = &ep.peer
                && !mysql.contains_key(p)
            {
                return Err(err(format!(
                    "`[mysql.{}]` names peer `{p}`, but there is no `[mysql.{p}]`",
                    ep.name
                )));
            }
        }
        if mysql.values().filter(|m| m.metadb).count() > 1 {
            return Err(err("more than one `[mysql.*]` has `metadb = true`".into()));
        }

        let zookeeper = raw.zookeeper.map(|z| ZkEndpoint {
            connect: z.connect,
            broker_names: z
                .broker_names
                .unwrap_or_else(|| DEFAULT_BROKER_NAMES.into())
                .trim_end_matches('/')
                .to_owned(),
            session_timeout_secs: z.session_timeout_secs.unwrap_or(10),
        });

        Ok(Inventory {
            path: None,
            state_dir: raw.state_dir.map(rel),
            docker,
            mysql,
            zookeeper,
            ssh,
        })
    }

    /// The endpoints of a MySQL-engine component.
    pub fn mysql_of(&self, component: &str) -> impl Iterator<Item = &MysqlEndpoint> {
        self.mysql
            .values()
            .filter(move |m| m.component == component)
    }

    /// The endpoint linked to a container (`container = "…"`).
    pub fn mysql_for_container(&self, container: &str) -> Option<&MysqlEndpoint> {
        self.mysql
            .values()
            .find(|m| m.container.as_deref() == Some(container))
    }

    /// The DBPaaS metadata database (§4.1.1).
    pub fn metadb(&self) -> Option<&MysqlEndpoint> {
        self.mysql.values().find(|m| m.metadb)
    }
}

fn find_inline_secret(table: &toml::Table, prefix: &str) -> Option<String> {
    for (k, v) in table {
        let here = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if INLINE_SECRET_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
            return Some(here);
        }
        if let toml::Value::Table(t) = v
            && let Some(found) = find_inline_secret(t, &here)
        {
            return Some(found);
        }
    }
    None
}

fn toml_message(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim_end();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("{line}:{col}: {msg}")
        }
        None => msg.to_owned(),
    }
}

#[cfg(test)]
mod tests;

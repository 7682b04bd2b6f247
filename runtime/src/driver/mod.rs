//! Drivers: the only way the runtime reaches Docker, MySQL, ZooKeeper and hosts.
//!
//! Each service has a *read* trait and a *write* trait that extends it. `mend plan`
//! is handed the read traits only ([`ReadDrivers`]), so that a plan cannot change the
//! world by construction; the executor gets both ([`Drivers`]).
//!
//! Implementations: [`docker::BollardDocker`], [`mysql::MysqlAsync`], [`zk::ZkClient`],
//! [`host::Hosts`] (local or over SSH), [`host::NoSsh`], and [`fake::FakeWorld`] (in memory, for tests and benchmarks).

pub mod archive;
pub mod broker_role;
pub mod docker;
pub mod fake;
pub mod host;
pub mod mysql;
pub mod replication;
pub mod zk;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

pub use replication::{ReplicaError, ReplicaStatus};

/// What can go wrong in a driver. Messages are scrubbed of secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DriverError {
    pub kind: DriverErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverErrorKind {
    /// The thing asked about does not exist (a container, a node, a row).
    NotFound,
    /// The endpoint cannot be reached or refused the login.
    Unreachable,
    /// The server refused the request.
    Refused,
    /// mend's own disk: the state directory could not be written (full, read-only).
    Local,
    /// Anything else.
    Other,
}

impl DriverError {
    pub fn new(kind: DriverErrorKind, message: impl AsRef<str>) -> Self {
        DriverError {
            kind,
            message: crate::secret::scrub(message.as_ref()),
        }
    }
    pub fn not_found(message: impl AsRef<str>) -> Self {
        Self::new(DriverErrorKind::NotFound, message)
    }
    pub fn unreachable(message: impl AsRef<str>) -> Self {
        Self::new(DriverErrorKind::Unreachable, message)
    }
    pub fn refused(message: impl AsRef<str>) -> Self {
        Self::new(DriverErrorKind::Refused, message)
    }
    pub fn other(message: impl AsRef<str>) -> Self {
        Self::new(DriverErrorKind::Other, message)
    }
    pub fn local(message: impl AsRef<str>) -> Self {
        Self::new(DriverErrorKind::Local, message)
    }
    /// A fault of mend's surroundings rather than an answer: the run is suspended on
    /// it instead of failing (`mend resume` goes on once it is gone).
    pub fn is_fault(&self) -> bool {
        matches!(
            self.kind,
            DriverErrorKind::Unreachable | DriverErrorKind::Local
        )
    }
}

pub type DriverResult<T> = Result<T, DriverError>;

/// An error and its causes on one line: a client library's own words are often
/// generic (hyper's "client error (Connect)", openssh's "failed to connect to the
/// remote host"); the causes say why ("Connection refused", "certificate verify
/// failed", ssh's own message).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        let more = more.trim();
        if !more.is_empty() && !text.contains(more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text.replace('\n', " ").trim().to_owned()
}

/// A container's lifecycle state, as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerState {
    Created,
    Running,
    Paused,
    Restarting,
    Exited,
    Dead,
    Removing,
    Unknown,
}

impl ContainerState {
    pub fn parse(s: &str) -> Self {
        match s {
            "created" => ContainerState::Created,
            "running" => ContainerState::Running,
            "paused" => ContainerState::Paused,
            "restarting" => ContainerState::Restarting,
            "exited" => ContainerState::Exited,
            "dead" => ContainerState::Dead,
            "removing" => ContainerState::Removing,
            _ => ContainerState::Unknown,
        }
    }
}

impl fmt::Display for ContainerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ContainerState::Created => "created",
            ContainerState::Running => "running",
            ContainerState::Paused => "paused",
            ContainerState::Restarting => "restarting",
            ContainerState::Exited => "exited",
            ContainerState::Dead => "dead",
            ContainerState::Removing => "removing",
            ContainerState::Unknown => "unknown",
        };
        f.write_str(s)
    }
}

/// A container as inspected: everything needed to find it, judge it and create it
/// again (§2.4, §3.2: same name, labels, env, volumes, network, IP, memory).
///
/// `env` may hold credentials (the Ark scripts paste them there): `Debug` shows only
/// the variable names, and the runtime keeps snapshots in owner-only files apart from
/// the journal.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    pub id: String,
    /// Without the engine's leading `/`.
    pub name: String,
    /// The image as configured (`mend-lab/component`, or a digest).
    pub image: String,
    /// The image ID the container was created from.
    pub image_id: String,
    pub state: ContainerState,
    pub labels: BTreeMap<String, String>,
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    pub stop_signal: Option<String>,
    pub binds: Vec<String>,
    /// Anonymous volumes (`VOLUME` or `-v /path`).
    pub volumes: Vec<String>,
    /// The network the container's fixed IP lives on.
    pub network: Option<String>,
    pub ip: Option<String>,
    pub aliases: Vec<String>,
    /// `always`, `unless-stopped`, `on-failure`, `no`.
    pub restart_policy: Option<String>,
    pub restart_retries: Option<i64>,
    /// Bytes; `None` or 0: unlimited.
    pub memory: Option<i64>,
    pub init: Option<bool>,
}

impl fmt::Debug for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env_names: Vec<&str> = self
            .env
            .iter()
            .map(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k))
            .collect();
        f.debug_struct("Container")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("image", &self.image)
            .field("state", &self.state)
            .field("labels", &self.labels)
            .field("env (names only)", &env_names)
            .field("network", &self.network)
            .field("ip", &self.ip)
            .field("restart_policy", &self.restart_policy)
            .field("memory", &self.memory)
            .finish_non_exhaustive()
    }
}

impl Container {
    /// The short ID, as `docker ps` prints it.
    pub fn short_id(&self) -> &str {
        &self.id[..self.id.len().min(12)]
    }

    pub fn is_running(&self) -> bool {
        self.state == ContainerState::Running
    }

    /// True when every selector label matches.
    pub fn matches(&self, selectors: &[(String, String)]) -> bool {
        selectors
            .iter()
            .all(|(k, v)| self.labels.get(k).is_some_and(|have| have == v))
    }
}

/// What a command run inside a container returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecOutput {
    pub exit_code: i64,
    /// Standard output and error, interleaved, cut to the last 4 KiB.
    pub output: String,
}

/// A directory copied out of a container into a local tar file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveInfo {
    pub path: std::path::PathBuf,
    pub bytes: u64,
    pub entries: u64,
}

/// The Docker engine, read-only: what `mend plan` may use.
#[async_trait]
pub trait DockerRead: Send + Sync {
    /// A container by name, ID or ID prefix; `None` if there is none.
    async fn inspect(&self, name_or_id: &str) -> DriverResult<Option<Container>>;
    /// Every container (running or not) whose labels match all selectors.
    async fn list(&self, selectors: &[(String, String)]) -> DriverResult<Vec<Container>>;
    /// §5.2: the name of the container holding `ip` on the VLAN network (`network`, or
    /// the networks whose name contains `vlan`, or every user-defined network).
    async fn name_by_ip(&self, ip: &str, network: Option<&str>) -> DriverResult<Option<String>>;
}

/// The Docker engine, with the calls that change it.
#[async_trait]
pub trait DockerDriver: DockerRead {
    async fn start(&self, id: &str) -> DriverResult<()>;
    async fn stop(&self, id: &str) -> DriverResult<()>;
    async fn restart(&self, id: &str) -> DriverResult<()>;
    /// Stops and removes, with its anonymous volumes.
    async fn remove(&self, id: &str) -> DriverResult<()>;
    /// Creates (does not start) a container from an old one's config: same name,
    /// labels, env, binds, volumes, network, restart policy, memory, and — when
    /// `same_ip` — the same IP. Returns the new ID.
    async fn create(&self, from: &Container, same_ip: bool) -> DriverResult<String>;
    /// Runs `argv` in the container, without a shell.
    async fn exec(&self, id: &str, argv: &[String]) -> DriverResult<ExecOutput>;
    /// Copies directory `path` out into the tar file `dest`, written to `dest.partial`
    /// first and renamed when complete and flushed.
    async fn copy_out(&self, id: &str, path: &str, dest: &Path) -> DriverResult<ArchiveInfo>;
    /// Copies the tar file `src` (as made by `copy_out` of the same `path`) back into
    /// directory `path`. Works on a created, not yet started container.
    async fn copy_in(&self, id: &str, path: &str, src: &Path) -> DriverResult<()>;
}

/// A row of the §4.1.1 metadata query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaInstance {
    pub host_name: String,
    pub ip: String,
    pub port: u16,
    pub role: String,
}

/// What a server is and what it calls things.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// `SELECT VERSION()`.
    pub version: String,
    /// `@@version_comment`.
    pub comment: String,
    /// The dialect that `SHOW … STATUS`/`START …` use.
    pub dialect: replication::Dialect,
    /// The apply-mode variable (`slave_exec_mode` or `replica_exec_mode`).
    pub exec_mode_var: Option<String>,
    /// The parallel-apply variable (`slave_parallel_threads`, `slave_parallel_workers`
    /// or `replica_parallel_workers`).
    pub parallel_var: Option<String>,
    /// The server takes AliSQL's `SMART` apply mode.
    pub has_smart: bool,
}

/// A MySQL or MariaDB server, read-only. Servers are named by their inventory entry.
#[async_trait]
pub trait MysqlRead: Send + Sync {
    async fn server(&self, endpoint: &str) -> DriverResult<ServerInfo>;
    /// `None` when the server is not a replica.
    async fn replica_status(&self, endpoint: &str) -> DriverResult<Option<ReplicaStatus>>;
    async fn read_only(&self, endpoint: &str) -> DriverResult<bool>;
    async fn exec_mode(&self, endpoint: &str) -> DriverResult<String>;
    async fn parallel_workers(&self, endpoint: &str) -> DriverResult<u32>;
    /// `SHOW MASTER STATUS` (`SHOW BINARY LOG STATUS` on MySQL 8.4): the binlog file
    /// and position a source has written up to; `None` when binary logging is off.
    async fn binlog_position(&self, endpoint: &str) -> DriverResult<Option<(String, u64)>>;
    /// §4.1.1: the pair of the instance `ip:port`, from the metadata DB `metadb`.
    async fn metadb_roles(
        &self,
        metadb: &str,
        ip: &str,
        port: u16,
    ) -> DriverResult<Vec<MetaInstance>>;
}

/// The outcome of a setting change that may differ from what was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// The value set, e.g. `IDEMPOTENT`.
    pub value: String,
    /// Why it differs from what was asked, or what else had to be done.
    pub note: Option<String>,
}

/// A MySQL or MariaDB server, with the calls that change it.
#[async_trait]
pub trait MysqlDriver: MysqlRead {
    async fn start_replica(&self, endpoint: &str) -> DriverResult<()>;
    async fn stop_replica(&self, endpoint: &str) -> DriverResult<()>;
    /// Lenient: AliSQL `SMART`, or `IDEMPOTENT` where the server refuses `SMART`.
    /// Strict: `STRICT`.
    async fn set_exec_mode(&self, endpoint: &str, lenient: bool) -> DriverResult<Applied>;
    /// Stops the replica threads first if they run, and starts them again after.
    async fn set_parallel_workers(&self, endpoint: &str, workers: u32) -> DriverResult<Applied>;
    async fn set_read_only(&self, endpoint: &str, on: bool) -> DriverResult<()>;
}

/// ZooKeeper, read-only (mend never writes to it).
#[async_trait]
pub trait ZkRead: Send + Sync {
    /// Children of a node; `None` when the node does not exist.
    async fn children(&self, path: &str) -> DriverResult<Option<Vec<String>>>;
    /// Data of a node; `None` when the node does not exist.
    async fn data(&self, path: &str) -> DriverResult<Option<Vec<u8>>>;
}

/// Hosts, for the guide's host-level steps (§4.1.3 startup, §2.13 daemon restart).
#[async_trait]
pub trait HostDriver: Send + Sync {
    /// Whether steps on `host` can be run by the driver; when not, they go to a person.
    fn can_run_on(&self, host: &str) -> bool;
    /// Why not, for plans and prompts.
    fn why_not(&self, host: &str) -> String;
    /// How a command reaches `host` (`over ssh admin@10.0.0.5:22`), for plans; empty
    /// when there is nothing to say.
    fn route(&self, _host: &str) -> String {
        String::new()
    }
    /// What is already known to stand in the way of running a command on `host`
    /// (a missing key file, no `ssh` client), read locally without connecting, so
    /// that `mend plan` says it before the run needs it.
    fn problems(&self, _host: &str) -> Vec<String> {
        Vec::new()
    }
    async fn run(&self, host: &str, argv: &[String]) -> DriverResult<ExecOutput>;
}

/// The read-only half of every driver: all `mend plan` gets.
#[derive(Clone)]
pub struct ReadDrivers {
    pub docker: Arc<dyn DockerRead>,
    pub mysql: Arc<dyn MysqlRead>,
    pub zk: Arc<dyn ZkRead>,
    pub host: Arc<dyn HostDriver>,
}

/// Every driver, for `mend run`.
#[derive(Clone)]
pub struct Drivers {
    pub docker: Arc<dyn DockerDriver>,
    pub mysql: Arc<dyn MysqlDriver>,
    pub zk: Arc<dyn ZkRead>,
    pub host: Arc<dyn HostDriver>,
    read: ReadDrivers,
}

impl Drivers {
    pub fn new<D, M, Z, H>(docker: Arc<D>, mysql: Arc<M>, zk: Arc<Z>, host: Arc<H>) -> Self
    where
        D: DockerDriver + 'static,
        M: MysqlDriver + 'static,
        Z: ZkRead + 'static,
        H: HostDriver + 'static,
    {
        let read = ReadDrivers {
            docker: docker.clone(),
            mysql: mysql.clone(),
            zk: zk.clone(),
            host: host.clone(),
        };
        Drivers {
            docker,
            mysql,
            zk,
            host,
            read,
        }
    }

    /// The read-only view.
    pub fn read(&self) -> &ReadDrivers {
        &self.read
    }
}

/// The read half of a boxed Docker driver (without relying on trait upcasting).
struct DockerReadOf(Arc<dyn DockerDriver>);

#[async_trait]
impl DockerRead for DockerReadOf {
    async fn inspect(&self, name_or_id: &str) -> DriverResult<Option<Container>> {
        self.0.inspect(name_or_id).await
    }
    async fn list(&self, selectors: &[(String, String)]) -> DriverResult<Vec<Container>> {
        self.0.list(selectors).await
    }
    async fn name_by_ip(&self, ip: &str, network: Option<&str>) -> DriverResult<Option<String>> {
        self.0.name_by_ip(ip, network).await
    }
}

/// The read half of a boxed MySQL driver.
struct MysqlReadOf(Arc<dyn MysqlDriver>);

#[async_trait]
impl MysqlRead for MysqlReadOf {
    async fn server(&self, endpoint: &str) -> DriverResult<ServerInfo> {
        self.0.server(endpoint).await
    }
    async fn replica_status(&self, endpoint: &str) -> DriverResult<Option<ReplicaStatus>> {
        self.0.replica_status(endpoint).await
    }
    async fn read_only(&self, endpoint: &str) -> DriverResult<bool> {
        self.0.read_only(endpoint).await
    }
    async fn exec_mode(&self, endpoint: &str) -> DriverResult<String> {
        self.0.exec_mode(endpoint).await
    }
    async fn parallel_workers(&self, endpoint: &str) -> DriverResult<u32> {
        self.0.parallel_workers(endpoint).await
    }
    async fn binlog_position(&self, endpoint: &str) -> DriverResult<Option<(String, u64)>> {
        self.0.binlog_position(endpoint).await
    }
    async fn metadb_roles(
        &self,
        metadb: &str,
        ip: &str,
        port: u16,
    ) -> DriverResult<Vec<MetaInstance>> {
        self.0.metadb_roles(metadb, ip, port).await
    }
}

impl Drivers {
    /// From boxed drivers (the read view forwards to them).
    pub fn from_dyn(
        docker: Arc<dyn DockerDriver>,
        mysql: Arc<dyn MysqlDriver>,
        zk: Arc<dyn ZkRead>,
        host: Arc<dyn HostDriver>,
    ) -> Self {
        let read = ReadDrivers {
            docker: Arc::new(DockerReadOf(docker.clone())),
            mysql: Arc::new(MysqlReadOf(mysql.clone())),
            zk: zk.clone(),
            host: host.clone(),
        };
        Drivers {
            docker,
            mysql,
            zk,
            host,
            read,
        }
    }
}

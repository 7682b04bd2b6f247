//! An in-process world for tests and benchmarks: containers, MySQL servers and a
//! ZooKeeper tree in memory, every driver trait implemented over them, every call
//! recorded (with whether it changes anything) and failures or delays injectable.
//! The trait implementations are in `docker.rs` and `services.rs` beside.

mod docker;
mod services;

use super::{
    Container, ContainerState, DriverError, DriverResult, Drivers, ExecOutput, HostDriver,
    MetaInstance, ReplicaStatus, host::NoSsh,
};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// One recorded driver call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub op: &'static str,
    pub target: String,
    pub mutating: bool,
}

/// A fake MySQL server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeDb {
    pub read_only: bool,
    pub exec_mode: String,
    pub workers: u32,
    pub replica: Option<ReplicaStatus>,
    /// Takes `SMART` (AliSQL); otherwise `SMART` is refused with error 1231.
    pub smart: bool,
    /// The §4.1.1 metadata rows, when this server is the metadata DB.
    pub meta: Vec<(String, MetaInstance)>,
}

impl Default for FakeDb {
    fn default() -> Self {
        FakeDb {
            read_only: false,
            exec_mode: "STRICT".into(),
            workers: 4,
            replica: None,
            smart: false,
            meta: Vec::new(),
        }
    }
}

#[derive(Default)]
pub(super) struct State {
    pub(super) containers: BTreeMap<String, Container>,
    /// Container ID → (path → bytes): the files a backup can copy.
    pub(super) files: HashMap<String, BTreeMap<String, Vec<u8>>>,
    /// Container name → exit code its probe returns when running (default 0).
    pub(super) probe_exit: HashMap<String, i64>,
    pub(super) dbs: BTreeMap<String, FakeDb>,
    pub(super) zk: BTreeMap<String, Vec<u8>>,
    calls: Vec<Call>,
    fail: HashMap<&'static str, (u32, String)>,
    delay: HashMap<&'static str, Duration>,
    pub(super) next_id: u64,
    record: bool,
    in_flight: usize,
    max_in_flight: usize,
}

/// The fake world. Clones share it.
#[derive(Clone)]
pub struct FakeWorld {
    state: Arc<Mutex<State>>,
}

impl Default for FakeWorld {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts a delayed call out, even when its future is dropped.
struct Leave<'a>(&'a FakeWorld);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
    }
}

pub(super) fn fake_id(n: u64) -> String {
    // Spread, so that short prefixes are unique as real IDs are.
    let a = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!(
        "{a:016x}{:016x}{:016x}{n:016x}",
        a.rotate_left(17),
        a.rotate_left(31)
    )
}

impl FakeWorld {
    pub fn new() -> Self {
        FakeWorld {
            state: Arc::new(Mutex::new(State {
                next_id: 1,
                record: true,
                ..State::default()
            })),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every driver, over this world, with hosts that have no SSH.
    pub fn drivers(&self) -> Drivers {
        let w = Arc::new(self.clone());
        Drivers::new(w.clone(), w.clone(), w, Arc::new(NoSsh))
    }

    /// Stops recording calls (benchmarks).
    pub fn set_recording(&self, on: bool) {
        self.lock().record = on;
    }

    /// Adds a running container; returns its ID.
    pub fn add_container(&self, name: &str, ip: &str, labels: &[(&str, &str)]) -> String {
        let mut s = self.lock();
        let id = fake_id(s.next_id);
        s.next_id += 1;
        let c = Container {
            id: id.clone(),
            name: name.to_owned(),
            image: "mend-lab/component:latest".into(),
            image_id: "sha256:fake".into(),
            state: ContainerState::Running,
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            env: vec!["LAB_ROLE=fake".into()],
            cmd: None,
            entrypoint: None,
            working_dir: None,
            user: None,
            hostname: None,
            stop_signal: None,
            binds: Vec::new(),
            volumes: Vec::new(),
            network: Some("vlan-fake".into()),
            ip: Some(ip.to_owned()),
            aliases: Vec::new(),
            restart_policy: Some("always".into()),
            restart_retries: None,
            memory: None,
            init: None,
        };
        s.containers.insert(id.clone(), c);
        id
    }

    /// A container by name, as it is now.
    pub fn container(&self, name: &str) -> Option<Container> {
        self.lock()
            .containers
            .values()
            .find(|c| c.name == name)
            .cloned()
    }

    pub fn set_state(&self, name: &str, state: ContainerState) {
        if let Some(c) = self.lock().containers.values_mut().find(|c| c.name == name) {
            c.state = state;
        }
    }

    /// Removes a container behind the runtime's back (a lost host).
    pub fn drop_container(&self, name: &str) {
        let mut s = self.lock();
        if let Some(id) = s
            .containers
            .values()
            .find(|c| c.name == name)
            .map(|c| c.id.clone())
        {
            s.containers.remove(&id);
            s.files.remove(&id);
        }
    }

    /// Puts a file into a container.
    pub fn put_file(&self, name: &str, path: &str, data: &[u8]) {
        let mut s = self.lock();
        if let Some(id) = s
            .containers
            .values()
            .find(|c| c.name == name)
            .map(|c| c.id.clone())
        {
            s.files
                .entry(id)
                .or_default()
                .insert(path.to_owned(), data.to_vec());
        }
    }

    /// The files of a container.
    pub fn files(&self, name: &str) -> BTreeMap<String, Vec<u8>> {
        let s = self.lock();
        s.containers
            .values()
            .find(|c| c.name == name)
            .and_then(|c| s.files.get(&c.id).cloned())
            .unwrap_or_default()
    }

    /// The exit code the probe of `name` returns while it runs.
    pub fn set_probe_exit(&self, name: &str, code: i64) {
        self.lock().probe_exit.insert(name.to_owned(), code);
    }

    pub fn add_db(&self, name: &str, db: FakeDb) {
        self.lock().dbs.insert(name.to_owned(), db);
    }

    pub fn db(&self, name: &str) -> Option<FakeDb> {
        self.lock().dbs.get(name).cloned()
    }

    pub fn update_db(&self, name: &str, f: impl FnOnce(&mut FakeDb)) {
        if let Some(db) = self.lock().dbs.get_mut(name) {
            f(db);
        }
    }

    /// Creates a ZooKeeper node (and its parents) with data.
    pub fn zk_set(&self, path: &str, data: &[u8]) {
        let mut s = self.lock();
        let mut p = String::new();
        for part in path.trim_start_matches('/').split('/') {
            p.push('/');
            p.push_str(part);
            s.zk.entry(p.clone()).or_default();
        }
        s.zk.insert(path.to_owned(), data.to_vec());
    }

    /// The next `times` calls of `op` fail with `message`; a message that starts with
    /// `unreachable` is an [`DriverErrorKind::Unreachable`](super::DriverErrorKind)
    /// error (a fault), any other is `Other`.
    pub fn fail_next(&self, op: &'static str, times: u32, message: &str) {
        self.lock().fail.insert(op, (times, message.to_owned()));
    }

    /// Every call of `op` takes `d`.
    pub fn delay(&self, op: &'static str, d: Duration) {
        self.lock().delay.insert(op, d);
    }

    /// Calls of `op` take no extra time again.
    pub fn clear_delay(&self, op: &'static str) {
        self.lock().delay.remove(op);
    }

    /// The calls so far.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// The most delayed calls that were in progress at once.
    pub fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    /// How many calls of `op` were made.
    pub fn count(&self, op: &str) -> usize {
        self.lock().calls.iter().filter(|c| c.op == op).count()
    }

    /// Records a call, applies an injected delay, and fails it if told to.
    pub(super) async fn enter(
        &self,
        op: &'static str,
        target: &str,
        mutating: bool,
    ) -> DriverResult<()> {
        let delay = {
            let mut s = self.lock();
            if s.record {
                s.calls.push(Call {
                    op,
                    target: target.to_owned(),
                    mutating,
                });
            }
            s.delay.get(op).copied()
        };
        if let Some(d) = delay {
            {
                let mut s = self.lock();
                s.in_flight += 1;
                s.max_in_flight = s.max_in_flight.max(s.in_flight);
            }
            let _leave = Leave(self);
            tokio::time::sleep(d).await;
        }
        let mut s = self.lock();
        if let Some((n, msg)) = s.fail.get_mut(op)
            && *n > 0
        {
            *n -= 1;
            let text = format!("{op} `{target}`: {msg}");
            return Err(if msg.starts_with("unreachable") {
                DriverError::unreachable(text)
            } else {
                DriverError::other(text)
            });
        }
        Ok(())
    }

    pub(super) fn find_id(s: &State, name_or_id: &str) -> Option<String> {
        s.containers
            .values()
            .find(|c| {
                c.name == name_or_id
                    || c.id == name_or_id
                    || (name_or_id.len() >= 6 && c.id.starts_with(name_or_id))
            })
            .map(|c| c.id.clone())
    }

    pub(super) fn with_container<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut Container) -> DriverResult<T>,
    ) -> DriverResult<T> {
        let mut s = self.lock();
        let Some(key) = Self::find_id(&s, id) else {
            return Err(DriverError::not_found(format!("no such container: {id}")));
        };
        let c = s.containers.get_mut(&key).expect("found above");
        f(c)
    }

    pub(super) fn db_mut<T>(
        &self,
        name: &str,
        f: impl FnOnce(&mut FakeDb) -> DriverResult<T>,
    ) -> DriverResult<T> {
        let mut s = self.lock();
        let db = s
            .dbs
            .get_mut(name)
            .ok_or_else(|| DriverError::unreachable(format!("mysql `{name}`: cannot connect")))?;
        f(db)
    }
}

/// A host driver for tests that "runs" every command and records it.
#[derive(Default)]
pub struct FakeHosts {
    pub ran: Mutex<Vec<(String, Vec<String>)>>,
}

#[async_trait]
impl HostDriver for FakeHosts {
    fn can_run_on(&self, _host: &str) -> bool {
        true
    }
    fn why_not(&self, _host: &str) -> String {
        String::new()
    }
    async fn run(&self, host: &str, argv: &[String]) -> DriverResult<ExecOutput> {
        self.ran
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((host.to_owned(), argv.to_vec()));
        Ok(ExecOutput {
            exit_code: 0,
            output: String::new(),
        })
    }
}

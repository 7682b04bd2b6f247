//! Shared by the runtime's lab tests (`runtime_docker`, `runtime_mysql`, `runtime_zk`):
//! where the lab's services are, and skipping loudly.
//!
//! Services are named by `MEND_LAB_*` variables, from the environment or from
//! `$MEND_LAB_DIR/env` (default `/tmp/mend-lab/env`, written by `scripts/lab up`).
//! A test whose services are missing is skipped with a loud message — unless
//! `MEND_LAB_REQUIRED` is set (CI sets it), when it fails.
//!
//! Docker tests work in a [`Sandbox`]: an `--internal` network of their own with
//! containers of the lab's image (`MEND_LAB_IMAGE`), removed on drop.

use bollard::models::{
    ContainerCreateBody, EndpointIpamConfig, EndpointSettings, HostConfig, Ipam, IpamConfig,
    NetworkCreateRequest, NetworkingConfig, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::CreateContainerOptionsBuilder;
use mend_runtime::driver::DockerDriver;
use mend_runtime::driver::docker::BollardDocker;
use mend_runtime::inventory::DockerEndpoint;
use mend_runtime::lock::{LockError, TargetLock};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub(crate) struct Lab {
    vars: BTreeMap<String, String>,
}

pub(crate) fn required() -> bool {
    std::env::var_os("MEND_LAB_REQUIRED").is_some()
}

/// Skips (loudly) or, with `MEND_LAB_REQUIRED`, fails.
pub(crate) fn unavailable(test: &str, why: &str) {
    assert!(
        !required(),
        "{test}: {why} (MEND_LAB_REQUIRED is set: start the lab with `scripts/lab up`)"
    );
    eprintln!(
        "\n*** SKIPPED {test}: {why}. Start the lab (`scripts/lab up`); set MEND_LAB_REQUIRED=1 to make this a failure. ***\n"
    );
}

impl Lab {
    pub(crate) fn load() -> Lab {
        let mut vars = BTreeMap::new();
        let dir = std::env::var("MEND_LAB_DIR").unwrap_or_else(|_| "/tmp/mend-lab".into());
        if let Ok(text) = std::fs::read_to_string(PathBuf::from(&dir).join("env")) {
            for line in text.lines() {
                if let Some((k, v)) = line.split_once('=') {
                    vars.insert(k.trim().to_owned(), v.trim().to_owned());
                }
            }
        }
        for (k, v) in std::env::vars() {
            if k.starts_with("MEND_LAB_") {
                vars.insert(k, v);
            }
        }
        vars.entry("MEND_LAB_DIR".into()).or_insert(dir);
        Lab { vars }
    }

    pub(crate) fn get(&self, key: &str) -> String {
        self.vars.get(key).cloned().unwrap_or_default()
    }

    /// All `keys` set; otherwise the test is skipped (or fails).
    pub(crate) fn has(&self, test: &str, keys: &[&str]) -> bool {
        let missing: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| self.vars.get(*k).is_none_or(String::is_empty))
            .collect();
        if missing.is_empty() {
            return true;
        }
        unavailable(test, &format!("{} not set", missing.join(", ")));
        false
    }

    /// `host:port` of a loopback service, reachable; otherwise skipped (or fails).
    /// The network rule: tests talk to loopback only.
    pub(crate) fn loopback(&self, test: &str, key: &str) -> Option<(String, u16)> {
        let addr = self.get(key);
        let (host, port) = addr.rsplit_once(':')?;
        assert!(
            host.starts_with("127."),
            "{key}={addr}: tests only talk to loopback"
        );
        let port: u16 = port.parse().ok()?;
        if std::net::TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_secs(2))
            .is_err()
        {
            unavailable(test, &format!("nothing answers on {key}={addr}"));
            return None;
        }
        Some((host.to_owned(), port))
    }

    /// Holds a lab service for this test alone (other tests of the binary, and other
    /// test processes, wait): MariaDB's replication is one shared state.
    pub(crate) async fn exclusive(&self, what: &str) -> TargetLock {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = PathBuf::from(self.get("MEND_LAB_DIR")).join("test-locks");
        let me = format!(
            "test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let start = Instant::now();
        loop {
            match TargetLock::acquire(&dir, what, &me) {
                Ok(l) => return l,
                Err(LockError::Held { .. }) if start.elapsed() < Duration::from_secs(600) => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("lab lock `{what}`: {e}"),
            }
        }
    }
}

/// A loopback port nothing listens on: bound and let go (the network rule: tests
/// only use loopback).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A scratch directory under the system temp dir, removed on drop.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new(name: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("mend-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        Scratch(d)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) const STORE: &str = "/home/admin/store";
pub(crate) const PROBE: &str = "sh /home/admin/bin/check_health.sh";

/// A test network and its containers, removed on drop (also when the test panics).
pub(crate) struct Sandbox {
    pub(crate) docker: BollardDocker,
    image: String,
    pub(crate) net: String,
    prefix: String,
    names: Vec<String>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if !self.names.is_empty() {
            let _ = std::process::Command::new("docker")
                .args(["rm", "-f"])
                .args(&self.names)
                .output();
        }
        let _ = std::process::Command::new("docker")
            .args(["network", "rm", &self.net])
            .output();
    }
}

impl Sandbox {
    pub(crate) async fn new(test: &str, tag: &str) -> Option<Sandbox> {
        let lab = Lab::load();
        let image = Some(lab.get("MEND_LAB_IMAGE"))
            .filter(|i| !i.is_empty())
            .unwrap_or_else(|| "mend-lab/component:latest".into());
        let docker = match BollardDocker::connect(&DockerEndpoint::default()).await {
            Ok(d) => d,
            Err(e) => {
                unavailable(test, &format!("no Docker engine: {e}"));
                return None;
            }
        };
        if docker.client().inspect_image(&image).await.is_err() {
            unavailable(
                test,
                &format!("image `{image}` is missing (`scripts/lab up images`)"),
            );
            return None;
        }
        let net = format!("mend-rt-{tag}-{}", std::process::id());
        let _ = docker.client().remove_network(&net).await;
        for attempt in 0..20u32 {
            let third = 100 + (std::process::id() + attempt * 7 + tag.len() as u32 * 13) % 150;
            let prefix = format!("172.30.{third}");
            let req = NetworkCreateRequest {
                name: net.clone(),
                driver: Some("bridge".into()),
                internal: Some(true),
                ipam: Some(Ipam {
                    config: Some(vec![IpamConfig {
                        subnet: Some(format!("{prefix}.0/24")),
                        gateway: Some(format!("{prefix}.1")),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
                labels: Some([("mend.test".to_owned(), "runtime".to_owned())].into()),
                ..Default::default()
            };
            if docker.client().create_network(req).await.is_ok() {
                return Some(Sandbox {
                    docker,
                    image,
                    net,
                    prefix,
                    names: Vec::new(),
                });
            }
        }
        panic!("{test}: could not create an --internal test network");
    }

    pub(crate) fn ip(&self, last: u8) -> String {
        format!("{}.{last}", self.prefix)
    }

    /// A running broker stand-in with a store.
    pub(crate) async fn broker(
        &mut self,
        name: &str,
        ip: &str,
        host: &str,
        store_bytes: usize,
    ) -> String {
        let name = format!("{name}-{}", std::process::id());
        self.names.push(name.clone());
        let labels: HashMap<String, String> = [
            ("ark.component", "mq-broker"),
            ("ark.service", "mq-broker"),
            ("aliyun.probe.cmd", PROBE),
            ("mend.host", host),
            ("mend.test.net", self.net.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let body = ContainerCreateBody {
            image: Some(self.image.clone()),
            env: Some(vec![
                "LAB_ROLE=mq-broker".into(),
                "BROKER_CLUSTER=RT".into(),
                "BROKER_NAME=rt-a".into(),
                "LAB_HEARTBEAT_TTL=3".into(),
            ]),
            labels: Some(labels),
            host_config: Some(HostConfig {
                network_mode: Some(self.net.clone()),
                restart_policy: Some(RestartPolicy {
                    name: Some(RestartPolicyNameEnum::ALWAYS),
                    maximum_retry_count: None,
                }),
                memory: Some(64 * 1024 * 1024),
                ..Default::default()
            }),
            networking_config: Some(NetworkingConfig {
                endpoints_config: Some(
                    [(
                        self.net.clone(),
                        EndpointSettings {
                            ipam_config: Some(EndpointIpamConfig {
                                ipv4_address: Some(ip.to_owned()),
                                ..Default::default()
                            }),
                            ..Default::default()
                        },
                    )]
                    .into(),
                ),
            }),
            ..Default::default()
        };
        let opts = CreateContainerOptionsBuilder::new().name(&name).build();
        self.docker
            .client()
            .create_container(Some(opts), body)
            .await
            .expect("create");
        self.docker.start(&name).await.expect("start");
        let seed = format!(
            "mkdir -p {STORE}/commitlog {STORE}/config && head -c {store_bytes} /dev/urandom > {STORE}/commitlog/00000000000000000000 \
             && echo '{{\"topic\":\"{name}\"}}' > {STORE}/config/topics.json && ln -s commitlog/00000000000000000000 {STORE}/latest"
        );
        let out = self
            .docker
            .exec(&name, &["sh".into(), "-c".into(), seed])
            .await
            .expect("seed the store");
        assert_eq!(out.exit_code, 0, "{}", out.output);
        name
    }

    /// `sha256sum` of every file of the store, as the container sees it.
    pub(crate) async fn store_sums(&self, name: &str) -> String {
        let cmd =
            format!("cd {STORE} && find . -type f | sort | xargs sha256sum && readlink latest");
        let out = self
            .docker
            .exec(name, &["sh".into(), "-c".into(), cmd])
            .await
            .expect("exec");
        assert_eq!(out.exit_code, 0, "{}", out.output);
        out.output
    }

    pub(crate) async fn wait_healthy(&self, name: &str) {
        let start = Instant::now();
        let argv: Vec<String> = PROBE.split_whitespace().map(str::to_owned).collect();
        loop {
            if self
                .docker
                .exec(name, &argv)
                .await
                .is_ok_and(|o| o.exit_code == 0)
            {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{name}: probe never passed"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Seeds a §3.2 broker group of two under `root` in ZooKeeper (a subtree of the test's own).
pub(crate) async fn seed_zk(
    connect: &str,
    root: &str,
    master_ip: &str,
    slave_ip: &str,
) -> zookeeper_client::Client {
    use zookeeper_client as zk;
    let c = zk::Client::connector()
        .with_session_timeout(Duration::from_secs(10))
        .connect(connect)
        .await
        .expect("zookeeper");
    let opts = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    let state = format!(
        r#"{{"clusterName":"RT","brokerName":"rt-a","brokers":{{"{master_ip}":{{"brokerId":0,"addr":"{master_ip}:10911"}},"{slave_ip}":{{"brokerId":1,"addr":"{slave_ip}:10911"}}}}}}"#
    );
    let nodes = [
        (
            format!("{root}/mq/brokerNames/cluster/RT/rt-a/{master_ip}"),
            Vec::new(),
        ),
        (
            format!("{root}/mq/brokerNames/cluster/RT/rt-a/{slave_ip}"),
            Vec::new(),
        ),
        (
            format!("{root}/MQFailover/StateMachine/RT/rt-a"),
            state.into_bytes(),
        ),
    ];
    for (path, data) in nodes {
        let mut p = String::new();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            p.push('/');
            p.push_str(part);
            let d: &[u8] = if i + 1 == parts.len() { &data } else { b"" };
            match c.create(&p, d, &opts).await {
                Ok(_) | Err(zk::Error::NodeExists) => {}
                Err(e) => panic!("create {p}: {e}"),
            }
        }
    }
    c
}

pub(crate) async fn remove_zk_tree(c: &zookeeper_client::Client, path: &str) {
    for ch in c.list_children(path).await.unwrap_or_default() {
        Box::pin(remove_zk_tree(c, &format!("{path}/{ch}"))).await;
    }
    let _ = c.delete(path, None).await;
}

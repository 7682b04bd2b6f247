//! Shared by the lab scenarios (`lab_scenarios`): the real `mend` binary run as an
//! operator runs it, the lab's own commands (`scripts/lab`, docs/lab.md) to break and
//! inspect it, the fixtures of `tests/fixtures/lab/` filled in for this lab, the run
//! journal read back, and the locks that keep scenarios from sharing the lab at once.
//!
//! Every scenario holds the lab lock `containers` (the lab's containers are one shared
//! state, and nextest runs tests in parallel processes); the MySQL scenarios also hold
//! `mysql`, the lock of `runtime_mysql` (`scripts/bench-recovery` and
//! `runtime_playbook`'s plan against the lab's brokers hold `containers` too). A
//! scenario whose lab is missing is skipped
//! loudly, or fails when `MEND_LAB_REQUIRED` is set (CI sets it after `scripts/lab up`).
//!
//! Network rule: everything here talks to loopback (MariaDB, ZooKeeper, the Docker
//! socket) or, through `docker exec`, to the lab's containers on their `--internal`
//! network.

use crate::runtime_lab::{Lab, Scratch, unavailable};
use crate::support::repo_root;
use mend_runtime::journal::Record;
use mend_runtime::lock::TargetLock;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The lock every scenario holds.
pub(crate) const CONTAINERS: &str = "containers";
/// The lock of the MariaDB pair (shared with `runtime_mysql`).
pub(crate) const MYSQL: &str = "mysql";
/// The longest a `mend run` or `resume` of a scenario may take.
const RUN_LIMIT: Duration = Duration::from_secs(180);

pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(f)
}

pub(crate) use crate::support::mend_binary;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `scripts/lab reset WHAT` when dropped: always, or only when the scenario panicked.
pub(crate) struct ResetOnExit {
    root: PathBuf,
    what: &'static str,
    always: bool,
}

impl Drop for ResetOnExit {
    fn drop(&mut self) {
        if !self.always && !std::thread::panicking() {
            return;
        }
        let t = Instant::now();
        let out = Command::new(self.root.join("scripts/lab"))
            .args(["reset", self.what])
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() => eprintln!(
                "lab: reset {} ({:.1}s)",
                self.what,
                t.elapsed().as_secs_f64()
            ),
            Ok(o) => eprintln!(
                "lab: reset {} FAILED: {}",
                self.what,
                text(&o.stderr).trim()
            ),
            Err(e) => eprintln!("lab: reset {} FAILED: {e}", self.what),
        }
    }
}

/// One lab container, as `docker inspect` sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) id: String,
    pub(crate) status: String,
    pub(crate) started_at: String,
    /// The fixed IP it is configured with (kept while it is stopped).
    pub(crate) ip: String,
}

impl Seen {
    pub(crate) fn running(&self) -> bool {
        self.status == "running"
    }
}

/// A line of `scripts/lab containers`.
#[derive(Debug, Clone)]
pub(crate) struct LabContainer {
    pub(crate) name: String,
    pub(crate) ip: String,
    pub(crate) host: String,
    pub(crate) role: String,
    pub(crate) component: String,
}

/// A `mend` process the scenario started: killed (SIGKILL) if it still runs when this
/// is dropped, so that a failed scenario leaves no runner behind holding a lock.
pub(crate) struct Spawned(pub(crate) Child, Option<PathBuf>);

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// A scenario in progress: the lab, its locks, a scratch directory.
pub(crate) struct Scenario {
    pub(crate) name: &'static str,
    pub(crate) lab: Lab,
    pub(crate) root: PathBuf,
    pub(crate) bin: PathBuf,
    pub(crate) work: Scratch,
    started: Instant,
    _locks: Vec<TargetLock>,
}

impl Drop for Scenario {
    fn drop(&mut self) {
        eprintln!(
            "scenario {}: {} in {:.1}s",
            self.name,
            if std::thread::panicking() {
                "FAILED"
            } else {
                "passed"
            },
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// What every scenario needs of the lab's env.
const KEYS: &[&str] = &[
    "MEND_LAB_DIR",
    "MEND_LAB_NETWORK",
    "MEND_LAB_ZK",
    "MEND_LAB_BROKER_MASTER",
    "MEND_LAB_BROKER_MASTER_IP",
    "MEND_LAB_BROKER_SLAVE",
    "MEND_LAB_BROKER_SLAVE_IP",
    "MEND_LAB_BROKER_SLAVE_HOST",
    "MEND_LAB_BROKER_MASTER_SEED",
    "MEND_LAB_BROKER_SLAVE_SEED",
    "MEND_LAB_BROKER_STORE",
    "MEND_LAB_BROKER_STATE_PATH",
    "MEND_LAB_DNCS",
    "MEND_LAB_DNCS_URL",
    "MEND_LAB_STATELESS",
    "MEND_LAB_MYSQL_PRIMARY",
    "MEND_LAB_MYSQL_REPLICA",
    "MEND_LAB_MYSQL_USER",
    "MEND_LAB_MYSQL_PASSWORD_FILE",
];

impl Scenario {
    /// The lab is there (else skipped, or failed with `MEND_LAB_REQUIRED`); then the
    /// locks, in order.
    pub(crate) fn start(name: &'static str, locks: &[&str]) -> Option<Scenario> {
        let test = format!("lab_scenarios::{name}");
        let lab = Lab::load();
        if !lab.has(&test, KEYS) {
            return None;
        }
        let root = repo_root();
        let docker = Command::new("docker")
            .args(["info", "--format", "{{.ServerVersion}}"])
            .stdin(Stdio::null())
            .output();
        if !docker.as_ref().is_ok_and(|o| o.status.success()) {
            unavailable(&test, "no Docker engine answers (`scripts/lab up`)");
            return None;
        }
        // The lab's network tells a lab that is up from one that is not; a container
        // that an earlier failure left broken or gone is the scenario's to repair
        // (`ensure_containers_pristine`).
        let network = lab.get("MEND_LAB_NETWORK");
        let there = Command::new("docker")
            .args(["network", "inspect", &network])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !there {
            unavailable(
                &test,
                &format!("the lab's network `{network}` does not exist (`scripts/lab up`)"),
            );
            return None;
        }
        for key in [
            "MEND_LAB_ZK",
            "MEND_LAB_MYSQL_PRIMARY",
            "MEND_LAB_MYSQL_REPLICA",
        ] {
            lab.loopback(&test, key)?;
        }
        let bin = mend_binary();
        let mut held = Vec::new();
        for l in locks {
            held.push(block_on(lab.exclusive(l)));
        }
        eprintln!("scenario {name}: lab locked ({})", locks.join(", "));
        Some(Scenario {
            name,
            lab,
            work: Scratch::new(&format!("lab-{name}")),
            root,
            bin,
            started: Instant::now(),
            _locks: held,
        })
    }

    pub(crate) fn get(&self, key: &str) -> String {
        self.lab.get(key)
    }

    /// `scripts/lab reset WHAT` at the end: `always`, or only if the scenario fails.
    pub(crate) fn reset_on_exit(&self, what: &'static str, always: bool) -> ResetOnExit {
        ResetOnExit {
            root: self.root.clone(),
            what,
            always,
        }
    }

    // ---- the lab's commands -----------------------------------------------------

    /// `scripts/lab ARGS…` from the repository root.
    pub(crate) fn lab_try(&self, args: &[&str]) -> Output {
        Command::new(self.root.join("scripts/lab"))
            .args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .output()
            .expect("scripts/lab runs")
    }

    /// `scripts/lab ARGS…`, which must succeed; its stdout.
    pub(crate) fn lab(&self, args: &[&str]) -> String {
        let o = self.lab_try(args);
        assert!(
            o.status.success(),
            "`scripts/lab {}` failed ({}): {}{}",
            args.join(" "),
            o.status,
            text(&o.stdout),
            text(&o.stderr)
        );
        text(&o.stdout)
    }

    /// SQL as root on a lab MariaDB node, over its socket (`scripts/lab mysql`),
    /// batch output without column names; the statements come on stdin.
    pub(crate) fn sql(&self, node: &str, sql: &str) -> String {
        use std::io::Write;
        let mut child = Command::new(self.root.join("scripts/lab"))
            .args(["mysql", node, "-N", "-B"])
            .current_dir(&self.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("scripts/lab mysql runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(sql.as_bytes())
            .expect("write the SQL");
        let o = child.wait_with_output().expect("mysql client");
        assert!(
            o.status.success(),
            "SQL on {node} failed: {}\n{sql}",
            text(&o.stderr)
        );
        text(&o.stdout)
    }

    /// `SHOW SLAVE STATUS` of a node as field → value (empty: not a replica).
    pub(crate) fn slave_status(&self, node: &str) -> BTreeMap<String, String> {
        let o = Command::new(self.root.join("scripts/lab"))
            .args(["mysql", node, "-e", "SHOW SLAVE STATUS\\G"])
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .output()
            .expect("scripts/lab mysql runs");
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout)
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect()
    }

    pub(crate) fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("the docker CLI runs")
    }

    /// The container now, `None` when it does not exist.
    pub(crate) fn container(&self, name: &str) -> Option<Seen> {
        let o = self.docker(&[
            "inspect",
            "--type",
            "container",
            "-f",
            "{{.Id}}|{{.State.Status}}|{{.State.StartedAt}}|{{range .NetworkSettings.Networks}}{{with .IPAMConfig}}{{.IPv4Address}}{{end}}{{end}}",
            name,
        ]);
        if !o.status.success() {
            return None;
        }
        let out = text(&o.stdout);
        let f: Vec<&str> = out.trim().split('|').collect();
        assert_eq!(f.len(), 4, "docker inspect {name}: {out}");
        Some(Seen {
            id: f[0].to_owned(),
            status: f[1].to_owned(),
            started_at: f[2].to_owned(),
            ip: f[3].to_owned(),
        })
    }

    pub(crate) fn must(&self, name: &str) -> Seen {
        self.container(name)
            .unwrap_or_else(|| panic!("container `{name}` does not exist"))
    }

    /// §5.1 as the lab runs it (`scripts/lab probe`): exit 0 = healthy.
    pub(crate) fn probe(&self, name: &str) -> bool {
        self.lab_try(&["probe", name]).status.success()
    }

    /// `sha256sum` of every file under the broker store, as the container sees it.
    pub(crate) fn store_sums(&self, name: &str) -> String {
        let store = self.get("MEND_LAB_BROKER_STORE");
        let o = self.docker(&[
            "exec",
            name,
            "sh",
            "-c",
            &format!("cd {store} && find . -type f | sort | xargs sha256sum"),
        ]);
        assert!(o.status.success(), "store of {name}: {}", text(&o.stderr));
        let s = text(&o.stdout);
        assert!(
            s.lines().count() >= 5,
            "store of {name} is nearly empty: {s}"
        );
        s
    }

    /// The same list for a directory of this machine (the lab's seed stores).
    pub(crate) fn dir_sums(&self, dir: &str) -> String {
        let o = Command::new("sh")
            .args([
                "-c",
                "cd \"$1\" && find . -type f | sort | xargs sha256sum",
                "sh",
                dir,
            ])
            .output()
            .expect("sh");
        assert!(o.status.success(), "sums of {dir}: {}", text(&o.stderr));
        text(&o.stdout)
    }

    /// `mqadmin clusterList` in the name server.
    pub(crate) fn cluster_list(&self) -> String {
        text(&self.lab_try(&["clusterlist"]).stdout)
    }

    /// `scripts/lab containers`.
    pub(crate) fn lab_containers(&self) -> Vec<LabContainer> {
        self.lab(&["containers"])
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                assert!(f.len() >= 5, "scripts/lab containers: {l}");
                LabContainer {
                    name: f[0].to_owned(),
                    ip: f[1].to_owned(),
                    host: f[2].to_owned(),
                    role: f[3].to_owned(),
                    component: f[4].to_owned(),
                }
            })
            .collect()
    }

    /// Every lab container running with its probe passing and both brokers listed;
    /// else `scripts/lab reset containers` (a scenario that failed before may have left
    /// something broken) and the same again, which must hold.
    pub(crate) fn ensure_containers_pristine(&self) {
        let bad = |s: &Scenario| -> Vec<String> {
            let all = s.lab_containers();
            let mut bad: Vec<String> = std::thread::scope(|scope| {
                let checks: Vec<_> = all
                    .iter()
                    .map(|c| {
                        scope.spawn(move || {
                            let ok = s.container(&c.name).is_some_and(|b| b.running())
                                && s.probe(&c.name);
                            (!ok).then(|| c.name.clone())
                        })
                    })
                    .collect();
                checks
                    .into_iter()
                    .filter_map(|h| h.join().expect("a container check"))
                    .collect()
            });
            let list = s.cluster_list();
            for ip in [
                s.get("MEND_LAB_BROKER_MASTER_IP"),
                s.get("MEND_LAB_BROKER_SLAVE_IP"),
            ] {
                if !list.contains(&format!("{ip}:")) {
                    bad.push(format!("clusterList without {ip}"));
                }
            }
            bad
        };
        let found = bad(self);
        if found.is_empty() {
            return;
        }
        eprintln!(
            "lab: not pristine ({}): scripts/lab reset containers",
            found.join(", ")
        );
        self.lab(&["reset", "containers"]);
        let mut again = bad(self);
        let start = Instant::now();
        while !again.is_empty() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(300));
            again = bad(self);
        }
        assert!(
            again.is_empty(),
            "the lab is not healthy after a reset: {again:?}"
        );
    }

    /// Polls `f` until it holds; fails after `limit` with `what`.
    pub(crate) fn wait_until(&self, what: &str, limit: Duration, f: impl FnMut() -> bool) {
        self.wait_until_or(what, limit, f, String::new);
    }

    /// [`Self::wait_until`], and when the limit passes the failure adds what
    /// `explain` says of the state it was waiting on.
    pub(crate) fn wait_until_or(
        &self,
        what: &str,
        limit: Duration,
        mut f: impl FnMut() -> bool,
        explain: impl Fn() -> String,
    ) {
        let start = Instant::now();
        while !f() {
            assert!(
                start.elapsed() < limit,
                "{}: not within {limit:?}: {what} {}",
                self.name,
                explain()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    // ---- fixtures -----------------------------------------------------------------

    /// `tests/fixtures/lab/NAME` with the lab's values in place of `@KEY@`, written to
    /// the scenario's directory.
    pub(crate) fn render(&self, fixture: &str) -> PathBuf {
        let src = self.root.join("tests/fixtures/lab").join(fixture);
        let mut s =
            std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        let port = |key: &str| {
            self.get(key)
                .rsplit_once(':')
                .map(|(_, p)| p.to_owned())
                .unwrap_or_default()
        };
        let values = [
            ("@NETWORK@", self.get("MEND_LAB_NETWORK")),
            ("@ZK@", self.get("MEND_LAB_ZK")),
            ("@MYSQL_PRIMARY_PORT@", port("MEND_LAB_MYSQL_PRIMARY")),
            ("@MYSQL_REPLICA_PORT@", port("MEND_LAB_MYSQL_REPLICA")),
            ("@MYSQL_USER@", self.get("MEND_LAB_MYSQL_USER")),
            (
                "@MYSQL_PASSWORD_FILE@",
                self.get("MEND_LAB_MYSQL_PASSWORD_FILE"),
            ),
            ("@REPO@", self.root.display().to_string()),
            ("@SSH_PORT@", port("MEND_LAB_SSH")),
            ("@SSH_USER@", self.get("MEND_LAB_SSH_USER")),
            ("@SSH_KEY@", self.get("MEND_LAB_SSH_KEY")),
            ("@SSH_KNOWN_HOSTS@", self.get("MEND_LAB_SSH_KNOWN_HOSTS")),
        ];
        for (k, v) in values {
            s = s.replace(k, &v);
        }
        assert!(
            !s.contains("@MYSQL") && !s.contains("@REPO@") && !s.contains("@SSH"),
            "{fixture}: {s}"
        );
        let out = self.work.0.join(fixture.replace('/', "_"));
        std::fs::write(&out, s).expect("write the rendered fixture");
        out
    }

    pub(crate) fn answers(&self, name: &str) -> PathBuf {
        self.root
            .join("tests/fixtures/lab/answers")
            .join(format!("{name}.toml"))
    }

    // ---- mend -----------------------------------------------------------------------

    /// `mend ARGS…` from the repository root (relative playbook paths, like an
    /// operator in a checkout), stdin closed, stdout and stderr to files.
    pub(crate) fn spawn_mend(&self, args: &[String], tag: &str) -> (Spawned, PathBuf, PathBuf) {
        let out = self.work.0.join(format!("{tag}.stdout"));
        let err = self.work.0.join(format!("{tag}.stderr"));
        let child = Command::new(&self.bin)
            .args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&err).expect("stderr file"))
            .spawn()
            .expect("the mend binary runs");
        let state = args
            .iter()
            .position(|a| a == "--state-dir")
            .and_then(|i| args.get(i + 1))
            .map(PathBuf::from);
        (Spawned(child, state), out, err)
    }

    /// Waits for a spawned `mend` (at most [`RUN_LIMIT`]) and reads what it printed.
    pub(crate) fn finish(
        &self,
        mut child: Spawned,
        out: &Path,
        err: &Path,
        what: &str,
        started: Instant,
    ) -> MendRun {
        let mut waiting_since: Option<Instant> = None;
        let mut looked = Instant::now();
        let code = loop {
            if let Some(s) = child.0.try_wait().expect("wait") {
                break s.code().unwrap_or(-1);
            }
            // A question nobody answers (not in the answers file): say which, now.
            if looked.elapsed() > Duration::from_millis(500) {
                looked = Instant::now();
                let asked = child
                    .1
                    .as_deref()
                    .map(pending_questions)
                    .unwrap_or_default();
                match (asked.is_empty(), waiting_since) {
                    (true, _) => waiting_since = None,
                    (false, None) => waiting_since = Some(Instant::now()),
                    (false, Some(t)) if t.elapsed() > UNANSWERED => {
                        drop(child);
                        panic!(
                            "{}: `{what}` waits for an answer nobody gives: {}",
                            self.name,
                            asked.join("; ")
                        );
                    }
                    _ => {}
                }
            }
            if started.elapsed() > RUN_LIMIT {
                drop(child);
                panic!(
                    "{}: `{what}` did not end within {RUN_LIMIT:?}; its log:\n{}",
                    self.name,
                    tail(&std::fs::read_to_string(err).unwrap_or_default(), 40)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let wall = started.elapsed();
        let stdout = std::fs::read_to_string(out).unwrap_or_default();
        let stderr = std::fs::read_to_string(err).unwrap_or_default();
        let summary = stdout
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str::<Value>(l).ok())
            .unwrap_or(Value::Null);
        MendRun {
            what: what.to_owned(),
            code,
            summary,
            stdout,
            stderr,
            wall,
        }
    }

    /// `mend run FILE --on FAULT --target T` with an inventory, answers and the
    /// scenario's state directory, JSON logs.
    pub(crate) fn run_args(
        &self,
        file: &str,
        on: &str,
        target: &str,
        inventory: &Path,
        answers: Option<&Path>,
        state: &Path,
    ) -> Vec<String> {
        let mut a: Vec<String> = [
            "run",
            file,
            "--on",
            on,
            "--target",
            target,
            "--inventory",
            &inventory.display().to_string(),
            "--state-dir",
            &state.display().to_string(),
            "--log-format",
            "json",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if let Some(f) = answers {
            a.push("--answers".into());
            a.push(f.display().to_string());
        }
        a
    }

    pub(crate) fn mend_run(
        &self,
        file: &str,
        on: &str,
        target: &str,
        inventory: &Path,
        answers: &str,
    ) -> MendRun {
        let state = self.state_dir();
        let args = self.run_args(
            file,
            on,
            target,
            inventory,
            Some(&self.answers(answers)),
            &state,
        );
        let tag = format!(
            "run-{}",
            std::fs::read_dir(&self.work.0).map_or(0, Iterator::count)
        );
        let started = Instant::now();
        let (child, out, err) = self.spawn_mend(&args, &tag);
        let r = self.finish(
            child,
            &out,
            &err,
            &format!("mend run {file} --on {on} --target {target}"),
            started,
        );
        eprintln!(
            "{}: {} -> exit {} in {:.2}s",
            self.name,
            r.what,
            r.code,
            r.wall.as_secs_f64()
        );
        r
    }

    /// The scenario's state directory for `mend` (runs, journals, locks, backups).
    pub(crate) fn state_dir(&self) -> PathBuf {
        self.work.0.join("state")
    }

    /// `mend ARGS…`, which must exit 0; its stdout.
    pub(crate) fn mend_ok(&self, args: &[&str]) -> String {
        let o = Command::new(&self.bin)
            .args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .output()
            .expect("the mend binary runs");
        assert!(
            o.status.success(),
            "`mend {}` exited {}: {}{}",
            args.join(" "),
            o.status,
            text(&o.stdout),
            text(&o.stderr)
        );
        text(&o.stdout)
    }
}

/// How long a run may wait on a question before the scenario fails with it.
const UNANSWERED: Duration = Duration::from_secs(15);

/// The questions the runs of a state directory wait on
/// (`<state>/runs/<RUN>/pending/<STEP>`).
pub(crate) fn pending_questions(state: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for run in std::fs::read_dir(state.join("runs"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for q in std::fs::read_dir(run.path().join("pending"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let v: Value = std::fs::read(q.path())
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(Value::Null);
            out.push(format!(
                "step {}: {}",
                v["step"].as_str().unwrap_or("?"),
                v["text"].as_str().unwrap_or("?")
            ));
        }
    }
    out
}

/// The last `n` lines of a text.
pub(crate) fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A finished `mend run` or `mend resume`.
pub(crate) struct MendRun {
    pub(crate) what: String,
    pub(crate) code: i32,
    /// The summary `--log-format json` prints on stdout.
    pub(crate) summary: Value,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) wall: Duration,
}

impl MendRun {
    fn explain(&self) -> String {
        format!(
            "`{}` exited {}\n--- stdout\n{}\n--- stderr (end)\n{}",
            self.what,
            self.code,
            self.stdout.trim(),
            tail(&self.stderr, 30)
        )
    }

    /// Exit 0 and `succeeded`.
    pub(crate) fn succeeded(&self) -> &Self {
        assert!(
            self.code == 0 && self.summary["outcome"] == "succeeded",
            "{}",
            self.explain()
        );
        self
    }

    pub(crate) fn steps(&self) -> Vec<&Value> {
        self.summary["steps"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    }

    /// The one step whose text is `text` (or starts with it), which must be `ok`.
    pub(crate) fn ok_step(&self, text: &str) -> String {
        let hits: Vec<&Value> = self
            .steps()
            .into_iter()
            .filter(|s| {
                let t = s["text"].as_str().unwrap_or_default();
                t == text || t.starts_with(text)
            })
            .collect();
        assert_eq!(
            hits.len(),
            1,
            "step `{text}` ran {} times\n{}",
            hits.len(),
            self.explain()
        );
        assert!(
            matches!(hits[0]["status"].as_str(), Some("ok" | "reconciled")),
            "step `{text}`: {}\n{}",
            hits[0],
            self.explain()
        );
        hits[0]["message"].as_str().unwrap_or_default().to_owned()
    }

    /// The journal of the run.
    pub(crate) fn journal(&self) -> Vec<Record> {
        let path = self.summary["journal"]
            .as_str()
            .unwrap_or_else(|| panic!("no journal in the summary\n{}", self.explain()));
        read_journal(Path::new(path))
    }
}

/// The records of a journal (a torn last line, from a killed runner, is left out).
pub(crate) fn read_journal(path: &Path) -> Vec<Record> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        match serde_json::from_str::<Record>(l) {
            Ok(r) => out.push(r),
            Err(e) if i + 1 == lines.len() => {
                let _ = e;
            }
            Err(e) => panic!("{} line {}: {e}: {l}", path.display(), i + 1),
        }
    }
    out
}

/// Milliseconds since the epoch of a journal timestamp (`2026-05-07T21:09:36.123Z`).
pub(crate) fn ts_ms(ts: &str) -> i64 {
    let num = |r: std::ops::Range<usize>| -> i64 {
        ts.get(r)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad timestamp {ts}"))
    };
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    // Days from civil (Howard Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let ms = ts
        .get(20..23)
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(0);
    ((days * 24 + num(11..13)) * 60 + num(14..16)) * 60_000 + num(17..19) * 1000 + ms
}

#[test]
fn journal_timestamps_parse() {
    assert_eq!(ts_ms("1970-01-01T00:00:00.000Z"), 0);
    assert_eq!(ts_ms("2024-02-29T23:59:59.250Z"), 1_709_251_199_250);
}

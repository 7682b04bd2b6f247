//! Shared by `runtime_faults`, `runtime_injection` and `runtime_secrets`: the real
//! `mend` binary run on a playbook, an inventory and a state directory of the test's
//! own, its exit code, output and journal read back.

use crate::lab_support::read_journal;
use crate::runtime_lab::{Lab, Scratch};
use crate::support::mend_binary;
use mend_runtime::journal::Record;
use mend_runtime::lock::TargetLock;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One MariaDB node of the lab (`MEND_LAB_MYSQL_PRIMARY` or `…_REPLICA`), reachable,
/// with the lab's login, held for this test alone (the `mysql` lab lock): the lab,
/// the node's loopback address and port, and the lock. `None`: skipped (or failed,
/// with `MEND_LAB_REQUIRED`).
pub(crate) fn lab_mysql(test: &str, node: &str) -> Option<(Lab, String, u16, TargetLock)> {
    let lab = Lab::load();
    if !lab.has(
        test,
        &[node, "MEND_LAB_MYSQL_USER", "MEND_LAB_MYSQL_PASSWORD_FILE"],
    ) {
        return None;
    }
    let (host, port) = lab.loopback(test, node)?;
    let lock = crate::lab_support::block_on(lab.exclusive(crate::lab_support::MYSQL));
    Some((lab, host, port, lock))
}

/// The longest one `mend` command of these tests may take.
const LIMIT: Duration = Duration::from_secs(90);

/// A finished `mend` command.
#[derive(Debug)]
pub(crate) struct Ran {
    pub(crate) what: String,
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// The last JSON line of stdout (`--log-format json` prints the summary there).
    pub(crate) summary: Value,
}

impl Ran {
    pub(crate) fn explain(&self) -> String {
        format!(
            "`{}` exited {}\n--- stdout\n{}\n--- stderr\n{}",
            self.what,
            self.code,
            self.stdout.trim(),
            self.stderr.trim()
        )
    }

    /// The summary's step `id`.
    pub(crate) fn step(&self, id: &str) -> &Value {
        self.summary["steps"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["id"] == id))
            .unwrap_or_else(|| panic!("no step {id} in the summary\n{}", self.explain()))
    }
}

/// A `mend` process, killed if still running when dropped.
pub(crate) struct Running {
    child: Child,
    out: PathBuf,
    err: PathBuf,
    what: String,
    started: Instant,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Running {
    pub(crate) fn finish(mut self) -> Ran {
        let code = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s.code().unwrap_or(-1);
            }
            assert!(
                self.started.elapsed() < LIMIT,
                "`{}` did not end within {LIMIT:?}: {}",
                self.what,
                std::fs::read_to_string(&self.err).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = std::fs::read_to_string(&self.out).unwrap_or_default();
        let stderr = std::fs::read_to_string(&self.err).unwrap_or_default();
        let summary = stdout
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str::<Value>(l).ok())
            .unwrap_or(Value::Null);
        eprintln!(
            "{} -> exit {} in {:.2}s",
            self.what,
            code,
            self.started.elapsed().as_secs_f64()
        );
        Ran {
            what: self.what.clone(),
            code,
            stdout,
            stderr,
            summary,
        }
    }

    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// A playbook, an inventory, answers and a state directory in a scratch directory.
pub(crate) struct Bench {
    pub(crate) work: Scratch,
    pub(crate) playbook: PathBuf,
    pub(crate) inventory: PathBuf,
    pub(crate) answers: PathBuf,
    pub(crate) state: PathBuf,
    /// Extra environment of every `mend` started.
    pub(crate) env: Vec<(String, String)>,
    n: std::cell::Cell<u32>,
}

impl Bench {
    pub(crate) fn new(name: &str, playbook: &str, inventory: &str) -> Bench {
        let work = Scratch::new(name);
        let file = |n: &str, text: &str| {
            let p = work.0.join(n);
            std::fs::write(&p, text).expect("write a test file");
            p
        };
        Bench {
            playbook: file("playbook.mend", playbook),
            inventory: file("mend.toml", inventory),
            answers: file("answers.toml", "\"confirm alert\" = \"yes\"\n"),
            state: work.0.join("state"),
            env: Vec::new(),
            work,
            n: std::cell::Cell::new(0),
        }
    }

    /// The same files with another state directory.
    pub(crate) fn with_state(mut self, state: PathBuf) -> Bench {
        self.state = state;
        self
    }

    /// `mend ARGS…` with `--inventory` and `--state-dir` added, started.
    pub(crate) fn spawn(&self, args: &[&str]) -> Running {
        let n = self.n.get();
        self.n.set(n + 1);
        let out = self.work.0.join(format!("mend-{n}.stdout"));
        let err = self.work.0.join(format!("mend-{n}.stderr"));
        let mut full: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        full.extend([
            "--inventory".into(),
            self.inventory.display().to_string(),
            "--state-dir".into(),
            self.state.display().to_string(),
        ]);
        let child = Command::new(mend_binary())
            .args(&full)
            // Its own directory: whatever a regression would drop in the working
            // directory lands in the scratch, not in the checkout.
            .current_dir(&self.work.0)
            .envs(self.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&err).expect("stderr file"))
            .spawn()
            .expect("the mend binary runs");
        Running {
            child,
            out,
            err,
            what: format!("mend {}", args.join(" ")),
            started: Instant::now(),
        }
    }

    /// `mend run PLAYBOOK --on ON --target TARGET` with answers and JSON logs, started.
    pub(crate) fn run(&self, on: &str, target: &str) -> Running {
        self.run_logging(on, target, "json")
    }

    /// [`Bench::run`] with logs as `format` (`json` or `text`).
    pub(crate) fn run_logging(&self, on: &str, target: &str, format: &str) -> Running {
        let pb = self.playbook.display().to_string();
        let answers = self.answers.display().to_string();
        self.spawn(&[
            "run",
            &pb,
            "--on",
            on,
            "--target",
            target,
            "--answers",
            &answers,
            "--log-format",
            format,
        ])
    }

    /// `mend resume RUN`, JSON logs, to its end.
    pub(crate) fn resume(&self, run_id: &str) -> Ran {
        let answers = self.answers.display().to_string();
        self.spawn(&[
            "resume",
            run_id,
            "--answers",
            &answers,
            "--log-format",
            "json",
        ])
        .finish()
    }

    /// The journal of the state directory's one run.
    pub(crate) fn journal_path(&self) -> Option<PathBuf> {
        let runs: Vec<PathBuf> = std::fs::read_dir(self.state.join("runs"))
            .ok()?
            .flatten()
            .map(|e| e.path().join("journal.jsonl"))
            .filter(|p| p.is_file())
            .collect();
        assert!(runs.len() <= 1, "more than one run: {runs:?}");
        runs.into_iter().next()
    }

    pub(crate) fn journal(&self) -> Vec<Record> {
        read_journal(&self.journal_path().expect("a journal"))
    }

    /// Waits until the run asks a person at step `id` (`ask "hold"`), so that a
    /// fault can be injected while it waits: no timing involved, the run goes on only
    /// when [`Bench::answer`] is called. The run's ID.
    pub(crate) fn wait_asked(&self, running: &mut Running, id: &str) -> String {
        let start = Instant::now();
        loop {
            let asked = crate::lab_support::pending_questions(&self.state)
                .iter()
                .any(|q| q.starts_with(&format!("step {id}:")));
            if asked {
                let journal = self.journal_path().expect("a journal");
                let run = journal
                    .parent()
                    .and_then(Path::file_name)
                    .expect("runs/RUN");
                return run.to_string_lossy().into_owned();
            }
            assert!(
                running.is_running(),
                "mend ended before step {id} asked: {}",
                running.what
            );
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "step {id} never asked"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `mend answer RUN STEP yes`, which must succeed.
    pub(crate) fn answer(&self, run_id: &str, id: &str) {
        let r = self.spawn(&["answer", run_id, id, "yes"]).finish();
        assert_eq!(r.code, 0, "{}", r.explain());
    }
}

/// The steps of a journal as `(kind, step, status-or-action, message)`.
pub(crate) fn records(journal: &[Record]) -> Vec<(String, String, String, String)> {
    journal
        .iter()
        .filter_map(|r| match r {
            Record::Intent { step, action, .. } => {
                Some(("intent".into(), step.clone(), action.clone(), String::new()))
            }
            Record::Outcome {
                step,
                status,
                message,
                ..
            } => Some((
                "outcome".into(),
                step.clone(),
                status.to_string(),
                message.clone(),
            )),
            Record::End {
                outcome, message, ..
            } => Some((
                "end".into(),
                String::new(),
                outcome.to_string(),
                message.clone(),
            )),
            _ => None,
        })
        .collect()
}

/// The journal's statuses of step `id`, in order.
pub(crate) fn statuses(journal: &[Record], id: &str) -> Vec<String> {
    records(journal)
        .into_iter()
        .filter(|(k, s, _, _)| k == "outcome" && s == id)
        .map(|(_, _, st, _)| st)
        .collect()
}

/// Whether the journal has an end record.
pub(crate) fn ended(journal: &[Record]) -> bool {
    journal.iter().any(|r| matches!(r, Record::End { .. }))
}

/// The run ID of the summary (also for a suspended run).
pub(crate) fn run_id(r: &Ran) -> String {
    r.summary["run_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no run_id\n{}", r.explain()))
        .to_owned()
}

/// The container's `StartedAt`, to tell whether it was restarted.
pub(crate) fn started_at(name: &str) -> String {
    let o = Command::new("docker")
        .args(["inspect", "-f", "{{.State.StartedAt}}", name])
        .output()
        .expect("docker inspect");
    assert!(o.status.success(), "docker inspect {name}");
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// `docker exec NAME ARGS…`, which must succeed.
pub(crate) fn docker_exec(name: &str, args: &[&str]) {
    let o = Command::new("docker")
        .arg("exec")
        .arg(name)
        .args(args)
        .output()
        .expect("docker exec");
    assert!(
        o.status.success(),
        "docker exec {name} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("a tokio runtime")
}

/// One container of the lab's image on a sandbox network of the test's own, its probe
/// passing, and a [`Bench`] whose playbook is `on software_fault(COMPONENT) < BODY >`
/// over the containers of that network and whose inventory names the network.
/// Fields drop in order: the bench's scratch directory, then the sandbox (which
/// removes the container and the network: keep it bound to the end of the test).
pub(crate) struct OneContainer {
    pub(crate) b: Bench,
    pub(crate) c: String,
    pub(crate) sb: crate::runtime_lab::Sandbox,
}

/// [`OneContainer`] named `rt-TAG` (store of `store_bytes`): component `rt_store`
/// (stateful) or `rt_app`. `None`: the lab is missing and the test is skipped.
pub(crate) fn one_container(
    test: &str,
    tag: &str,
    store_bytes: usize,
    stateful: bool,
    body: &str,
) -> Option<OneContainer> {
    let rt = runtime();
    let mut sb = rt.block_on(crate::runtime_lab::Sandbox::new(test, tag))?;
    let c = rt.block_on(sb.broker(&format!("rt-{tag}"), &sb.ip(11), "host1", store_bytes));
    rt.block_on(sb.wait_healthy(&c));
    let name = if stateful { "rt_store" } else { "rt_app" };
    let pb = format!(
        "{}on software_fault({name}) <\n{body}\n>\n",
        component(name, &sb.net, stateful)
    );
    let inv = format!("[docker]\nnetwork = \"{}\"\n", sb.net);
    let b = Bench::new(&format!("one-{tag}"), &pb, &inv);
    Some(OneContainer { b, c, sb })
}

/// A component over the containers of a sandbox network, with their probe label.
pub(crate) fn component(name: &str, net: &str, stateful: bool) -> String {
    let store = if stateful {
        "  kind stateful\n  store \"/home/admin/store\"\n"
    } else {
        "  kind stateless\n"
    };
    format!(
        "component {name} {{\n{store}  select label \"mend.test.net\" = \"{net}\"\n  probe label \"aliyun.probe.cmd\"\n}}\n"
    )
}

/// Every file under `dir`, recursively.
pub(crate) fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

//! Faults during a run (issue "Hardening", part 3), each against the real service:
//! the Docker engine refusing connections, a MySQL connection killed mid-query, the
//! ZooKeeper server gone mid-lookup, a step past its timeout, a journal that can no
//! longer be written, a state directory that is full. Each run must end *suspended*
//! (exit 6) with a message that names the fault, leave a journal whose faulted step
//! is still in flight (no end record), act on nothing whose intent is not on disk,
//! and be finished by `mend resume RUN` once the fault is gone.
//!
//! The shared services are never stopped: the link to them is cut by a proxy of the
//! test's own (`fault_proxy`), and the fault inside a container (a hung probe) or on
//! the disk (an immutable journal, a full tmpfs) is the test's own too. How each fault
//! is made is listed in docs/reliability.md, "Faults during a run".

use crate::fault_proxy::{Addr, Proxy, Trigger, is_mysql_query, is_zk_read, mysql_connection_id};
use crate::fault_support::runtime;
use crate::fault_support::{Bench, Ran, docker_exec, ended, run_id, started_at, statuses};
use crate::runtime_lab::{Lab, Sandbox, remove_zk_tree, seed_zk, unavailable};
use crate::support::repo_root;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Exit code of a suspended run (runtime/src/summary.rs).
const SUSPENDED: i32 = 6;

/// The run ended suspended, with a message holding every one of `says`, a journal
/// whose `step` is suspended and that has no end record; its run ID.
fn assert_suspended(b: &Bench, r: &Ran, step: &str, says: &[&str]) -> String {
    let id = assert_stopped(b, r, step, says);
    assert_eq!(
        statuses(&b.journal(), step).last().map(String::as_str),
        Some("suspended")
    );
    id
}

/// As [`assert_suspended`], for a journal that could not be written: `step` has no
/// outcome in it.
fn assert_stopped(b: &Bench, r: &Ran, step: &str, says: &[&str]) -> String {
    assert_eq!(r.code, SUSPENDED, "{}", r.explain());
    assert_eq!(r.summary["outcome"], "suspended", "{}", r.explain());
    let id = run_id(r);
    let message = r.summary["message"].as_str().unwrap_or_default();
    eprintln!("{}: {message}", r.what);
    for s in says
        .iter()
        .copied()
        .chain(["suspended", &format!("mend resume {id}")])
    {
        assert!(message.contains(s), "`{s}` not in `{message}`");
    }
    assert_eq!(r.step(step)["status"], "suspended", "{}", r.explain());
    assert!(!ended(&b.journal()), "a suspended run has no end record");
    id
}

/// `mend resume` finished the run: exit 0, `step` run again (not replayed) and ok,
/// the journal ended `succeeded`.
fn assert_resumed(b: &Bench, r: &Ran, step: &str) {
    assert_eq!(r.code, 0, "{}", r.explain());
    assert_eq!(r.summary["outcome"], "succeeded", "{}", r.explain());
    assert_eq!(r.step(step)["status"], "ok", "{}", r.explain());
    assert_eq!(r.step(step)["replayed"], false, "{}", r.explain());
    let journal = b.journal();
    assert!(ended(&journal), "the resumed run ends");
    assert_eq!(
        statuses(&journal, step).last().map(String::as_str),
        Some("ok")
    );
}

/// Docker: the engine's socket, seen through a proxy, refuses connections while the
/// run waits; `restart` must not happen, and does once the engine is back.
#[test]
fn faults_docker_engine_refuses_mid_run() {
    let test = "runtime_faults::faults_docker_engine_refuses_mid_run";
    let Some(crate::fault_support::OneContainer { b, c, sb }) = crate::fault_support::one_container(
        test,
        "fdock",
        10_000,
        false,
        "  confirm alert;\n  ask \"hold\";\n  restart;\n  probe;\n  verify within 1m",
    ) else {
        return;
    };
    let sock = b.work.0.join("docker.sock");
    let proxy = Proxy::start(
        Addr::Unix(sock.clone()),
        Addr::Unix("/var/run/docker.sock".into()),
    );
    std::fs::write(
        &b.inventory,
        format!(
            "[docker]\nhost = \"unix://{}\"\nnetwork = \"{}\"\n",
            sock.display(),
            sb.net
        ),
    )
    .unwrap();
    let before = started_at(&c);

    let mut run = b.run("software_fault(rt_app)", &c);
    let rid = b.wait_asked(&mut run, "2");
    proxy.down();
    b.answer(&rid, "2");
    let r = run.finish();
    let id = assert_suspended(
        &b,
        &r,
        "3",
        &[
            "docker engine",
            &sock.display().to_string(),
            "Connection refused",
        ],
    );
    assert_eq!(started_at(&c), before, "restarted while the engine refused");
    assert_eq!(statuses(&b.journal(), "2"), ["ok"]);

    proxy.up();
    let again = b.resume(&id);
    assert_resumed(&b, &again, "3");
    assert_eq!(again.step("2")["replayed"], true, "{}", again.explain());
    assert_ne!(started_at(&c), before, "restarted once the engine answered");
}

/// MySQL: the connection that carries `SET GLOBAL read_only` is killed by a root
/// session (`KILL CONNECTION`) while the answer is held back, and reconnects are
/// refused; the statement is run again on resume. The replica is read-only before,
/// so the statement changes nothing on the shared pair.
#[test]
fn faults_mysql_connection_killed_mid_query() {
    let test = "runtime_faults::faults_mysql_connection_killed_mid_query";
    let Some((lab, host, port, _lock)) =
        crate::fault_support::lab_mysql(test, "MEND_LAB_MYSQL_REPLICA")
    else {
        return;
    };
    let upstream = format!("{host}:{port}").parse().expect("an address");
    let proxy = Proxy::start(
        Addr::Tcp("127.0.0.1:0".parse().unwrap()),
        Addr::Tcp(upstream),
    );
    let inv = format!(
        "[mysql.replica]\ncomponent = \"rt_db\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\npassword_file = \"{}\"\n",
        proxy.tcp().port(),
        lab.get("MEND_LAB_MYSQL_USER"),
        lab.get("MEND_LAB_MYSQL_PASSWORD_FILE")
    );
    let pb = "component rt_db {\n  kind stateful\n  store \"/u01\"\n  engine mysql\n  role read_only\n  database business\n}\n\
              on software_fault(rt_db) <\n  confirm alert;\n  ask \"hold\";\n  set read_only on;\n  verify within 1m\n>\n";
    let b = Bench::new("fault-mysql", pb, &inv);
    let mut run = b.run("software_fault(rt_db)", "replica");
    let rid = b.wait_asked(&mut run, "2");
    let root = repo_root();
    proxy.arm(Trigger {
        matches: Box::new(|chunk| is_mysql_query(chunk, "read_only")),
        forward: true,
        action: Box::new(move |greeting| {
            let Some(id) = mysql_connection_id(greeting) else {
                return "no connection id in the greeting".into();
            };
            let o = Command::new(root.join("scripts/lab"))
                .args(["mysql", "replica", "-N", "-B", "-e"])
                .arg(format!("KILL CONNECTION {id}"))
                .output()
                .expect("scripts/lab mysql");
            if o.status.success() {
                format!("killed {id}")
            } else {
                String::from_utf8_lossy(&o.stderr).into_owned()
            }
        }),
    });
    b.answer(&rid, "2");
    let r = run.finish();
    let fired = proxy.fired().unwrap_or_default();
    assert!(fired.starts_with("killed "), "KILL CONNECTION: {fired}");
    assert_suspended(&b, &r, "3", &["mysql replica", "SET GLOBAL read_only"]);

    proxy.up();
    let again = b.resume(&run_id(&r));
    assert_resumed(&b, &again, "3");
    let ro = Command::new(repo_root().join("scripts/lab"))
        .args(["mysql", "replica", "-N", "-B", "-e", "SELECT @@read_only"])
        .output()
        .expect("scripts/lab mysql");
    assert_eq!(String::from_utf8_lossy(&ro.stdout).trim(), "1");
}

/// ZooKeeper: the link drops at the first read of `lookup role` (the request sent,
/// no answer) and reconnects are refused, as when the server stops; the role is read
/// on resume.
#[test]
fn faults_zookeeper_stopped_mid_lookup() {
    let test = "runtime_faults::faults_zookeeper_stopped_mid_lookup";
    let lab = Lab::load();
    if !lab.has(test, &["MEND_LAB_ZK"]) {
        return;
    }
    let Some((host, port)) = lab.loopback(test, "MEND_LAB_ZK") else {
        return;
    };
    let rt = runtime();
    let Some(mut sb) = rt.block_on(Sandbox::new(test, "fzk")) else {
        return;
    };
    let (ip_m, ip_s) = (sb.ip(11), sb.ip(12));
    let master = rt.block_on(sb.broker("rt-fzk-m", &ip_m, "host1", 10_000));
    rt.block_on(sb.broker("rt-fzk-s", &ip_s, "host2", 10_000));
    rt.block_on(sb.wait_healthy(&master));
    let root = format!("/mend-rt-fzk-{}", std::process::id());
    let zk = rt.block_on(seed_zk(&lab.get("MEND_LAB_ZK"), &root, &ip_m, &ip_s));
    let proxy = Proxy::start(
        Addr::Tcp("127.0.0.1:0".parse().unwrap()),
        Addr::Tcp(format!("{host}:{port}").parse().unwrap()),
    );
    let pb = format!(
        "component rt_mq {{\n  kind stateful\n  store \"/home/admin/store\"\n  ip fixed\n  \
         select label \"mend.test.net\" = \"{net}\"\n  \
         role zk \"{root}/MQFailover/StateMachine/{{cluster}}/{{broker}}\" brokerId {{ 0 => master, 1 => slave }}\n  \
         probe label \"aliyun.probe.cmd\"\n}}\n\
         on software_fault(rt_mq) <\n  confirm alert;\n  ask \"hold\";\n  lookup role;\n  \
         match role {{ master => probe, slave => probe }};\n  verify within 1m\n>\n",
        net = sb.net
    );
    let inv = format!(
        "[docker]\nnetwork = \"{}\"\n[zookeeper]\nconnect = \"{}\"\nbroker_names = \"{root}/mq/brokerNames/cluster\"\n",
        sb.net,
        proxy.tcp()
    );
    let b = Bench::new("fault-zk", &pb, &inv);
    let mut run = b.run("software_fault(rt_mq)", &master);
    let rid = b.wait_asked(&mut run, "2");
    proxy.arm(Trigger {
        matches: Box::new(is_zk_read),
        forward: false,
        action: Box::new(|_| "cut".into()),
    });
    b.answer(&rid, "2");
    let r = run.finish();
    assert_eq!(proxy.fired().as_deref(), Some("cut"), "{}", r.explain());
    assert_suspended(&b, &r, "3", &[&format!("zookeeper `{}`", proxy.tcp())]);

    proxy.up();
    let again = b.resume(&run_id(&r));
    assert_resumed(&b, &again, "3");
    let role = again.step("3")["message"].as_str().unwrap_or_default();
    assert!(role.contains("is the master"), "{role}");
    rt.block_on(remove_zk_tree(&zk, &root));
}

/// A probe that hangs (`lab-break hang`, what `scripts/lab hang` runs in a lab
/// container) runs past its step's timeout; once the hang is cleared, resume probes
/// again and passes.
#[test]
fn faults_step_past_its_timeout() {
    let test = "runtime_faults::faults_step_past_its_timeout";
    let Some(crate::fault_support::OneContainer { b, c, sb: _sb }) =
        crate::fault_support::one_container(
            test,
            "ftime",
            10_000,
            false,
            "  confirm alert;\n  probe timeout 2s;\n  verify within 1m",
        )
    else {
        return;
    };
    docker_exec(&c, &["lab-break", "hang"]);
    let started = std::time::Instant::now();
    let r = b.run("software_fault(rt_app)", &c).finish();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "the timeout cut the hung probe short"
    );
    let id = assert_suspended(&b, &r, "2", &["timed out after 2s"]);
    let journal = b.journal();
    let said = crate::fault_support::records(&journal)
        .into_iter()
        .any(|(k, s, st, m)| {
            k == "outcome" && s == "2" && st == "suspended" && m == "timed out after 2s"
        });
    assert!(said, "the journal says the step timed out: {journal:?}");

    docker_exec(&c, &["rm", "-f", "/run/lab/hang"]);
    let again = b.resume(&id);
    assert_resumed(&b, &again, "2");
}

/// Makes a file immutable (`chattr +i`) and undoes it when dropped: even root cannot
/// write it then, and the scratch directory can be removed after.
struct Immutable(PathBuf);

impl Immutable {
    fn set(path: &Path) -> Option<Immutable> {
        let ok = Command::new("chattr")
            .arg("+i")
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Immutable(path.to_owned()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

/// The state directory cannot be written: first a path through a regular file (the
/// run cannot start: exit 2, the path named, nothing created), then the journal made
/// immutable while a step runs: its outcome cannot be written, so the run stops
/// before the next step acts; resume redoes the step and goes on.
#[test]
fn faults_state_dir_not_writable() {
    let test = "runtime_faults::faults_state_dir_not_writable";
    let Some(crate::fault_support::OneContainer { b, c, sb: _sb }) =
        crate::fault_support::one_container(
            test,
            "fro",
            10_000,
            false,
            "  confirm alert;\n  ask \"hold\";\n  restart;\n  probe;\n  verify within 1m",
        )
    else {
        return;
    };

    // A state directory under a regular file: refused before anything runs.
    let file = b.work.0.join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let text = |p: &Path| std::fs::read_to_string(p).expect("the bench's files");
    let bad = Bench::new(
        "fault-readonly-start",
        &text(&b.playbook),
        &text(&b.inventory),
    )
    .with_state(file.join("state"));
    let r = bad.run("software_fault(rt_app)", &c).finish();
    assert_eq!(r.code, 2, "{}", r.explain());
    assert!(
        r.stderr.contains(&file.display().to_string()),
        "{}",
        r.explain()
    );
    assert!(r.stderr.contains("Not a directory"), "{}", r.explain());

    let before = started_at(&c);
    let mut run = b.run("software_fault(rt_app)", &c);
    let rid = b.wait_asked(&mut run, "2");
    let journal = b.journal_path().expect("a journal");
    let Some(guard) = Immutable::set(&journal) else {
        unavailable(test, "`chattr +i` does not work here");
        return;
    };
    b.answer(&rid, "2");
    let r = run.finish();
    let path = journal.display().to_string();
    let id = assert_stopped(&b, &r, "2", &[&path, "Operation not permitted"]);
    assert!(
        statuses(&b.journal(), "2").is_empty(),
        "nothing written after the fault"
    );
    assert!(
        !crate::fault_support::records(&b.journal())
            .iter()
            .any(|(k, s, _, _)| k == "intent" && s == "3"),
        "no step after the fault"
    );
    assert_eq!(
        started_at(&c),
        before,
        "restarted with its intent not on disk"
    );

    drop(guard);
    // The question was in flight: it is asked again; the answers file answers it.
    std::fs::write(&b.answers, "\"confirm alert\" = \"yes\"\n\"2\" = \"yes\"\n").unwrap();
    let again = b.resume(&id);
    assert_resumed(&b, &again, "2");
    assert_eq!(again.step("3")["status"], "ok", "{}", again.explain());
    assert_ne!(started_at(&c), before);
}

/// A tmpfs mounted on the state directory, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Free bytes of the file system holding `path` (`stat -f`).
fn free_bytes(path: &Path) -> u64 {
    let o = Command::new("stat")
        .args(["-f", "-c", "%a %S"])
        .arg(path)
        .output()
        .expect("stat -f");
    let text = String::from_utf8_lossy(&o.stdout);
    let v: Vec<u64> = text
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(v.len(), 2, "stat -f: {text}");
    v[0] * v[1]
}

/// The state directory fills up while the run waits (a 1 MiB tmpfs): the backup of
/// the store cannot be written. mend must stop there, not fall back to `from none`
/// and go on to restart; resume, with room again, takes the backup and finishes.
#[test]
fn faults_state_dir_full() {
    let test = "runtime_faults::faults_state_dir_full";
    let Some(crate::fault_support::OneContainer { b, c, sb: _sb }) =
        crate::fault_support::one_container(
            test,
            "ffull",
            300_000,
            true,
            "  confirm alert;\n  ask \"hold\";\n  backup store from self or none;\n  restart;\n  probe;\n  verify within 1m",
        )
    else {
        return;
    };
    std::fs::create_dir_all(&b.state).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&b.state)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        unavailable(test, "cannot mount a tmpfs (needs root)");
        return;
    }
    let _tmpfs = Tmpfs(b.state.clone());
    let before = started_at(&c);

    let mut run = b.run("software_fault(rt_store)", &c);
    let rid = b.wait_asked(&mut run, "2");
    // Leave room for journal lines, not for a 300 kB store.
    let filler = b.state.join("filler");
    let room = free_bytes(&b.state).saturating_sub(64 * 1024);
    std::fs::write(&filler, vec![0u8; usize::try_from(room).unwrap()]).expect("fill the tmpfs");
    b.answer(&rid, "2");
    let r = run.finish();
    let id = assert_suspended(
        &b,
        &r,
        "3",
        &["No space left on device", "writing the backup"],
    );
    assert_eq!(started_at(&c), before, "restarted without a backup");

    std::fs::remove_file(&filler).unwrap();
    let again = b.resume(&id);
    assert_resumed(&b, &again, "3");
    let msg = again.step("3")["message"].as_str().unwrap_or_default();
    assert!(msg.contains("(self) copied"), "{msg}");
    assert_ne!(started_at(&c), before);
}

//! The SSH host driver against a real sshd: the lab's own, on loopback
//! (`scripts/lab up ssh`: `MEND_LAB_SSH`, its key and known-hosts file). What the
//! guide's host steps need of it (§4.1.3 `myadm … startup`, §2.13 the daemon): a
//! command runs, its exit code and output come back, every argument arrives as data,
//! and each way a login can fail is a clear error that names the endpoint.

use crate::runtime_lab::{Lab, Scratch};
use mend_runtime::driver::{DriverErrorKind, HostDriver, host::Hosts};
use mend_runtime::inventory::Inventory;

const NEEDS: &[&str] = &[
    "MEND_LAB_SSH",
    "MEND_LAB_SSH_USER",
    "MEND_LAB_SSH_KEY",
    "MEND_LAB_SSH_KNOWN_HOSTS",
];

/// The host driver for one `[ssh.lab]` entry: the lab's sshd at `port`, logging in
/// with `key` and checking its host key against `known_hosts`.
fn hosts(lab: &Lab, port: u16, key: &str, known_hosts: &str) -> Hosts {
    let toml = format!(
        "[ssh.lab]\naddress = \"127.0.0.1\"\nport = {port}\nuser = {:?}\nidentity_file = {key:?}\nknown_hosts = {known_hosts:?}\nconnect_timeout_secs = 5\n",
        lab.get("MEND_LAB_SSH_USER"),
    );
    Hosts::new(
        Inventory::parse(&toml, "mend.toml", None)
            .expect("inventory")
            .ssh,
    )
}

/// The host driver for the lab's sshd with the lab's own key and known-hosts file.
fn lab_hosts(lab: &Lab, port: u16) -> Hosts {
    hosts(
        lab,
        port,
        &lab.get("MEND_LAB_SSH_KEY"),
        &lab.get("MEND_LAB_SSH_KNOWN_HOSTS"),
    )
}

fn argv(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

/// The lab's sshd, or `None` when the test is skipped.
fn lab_sshd(test: &str) -> Option<(Lab, u16)> {
    let lab = Lab::load();
    if !lab.has(test, NEEDS) {
        return None;
    }
    let (_, port) = lab.loopback(test, "MEND_LAB_SSH")?;
    Some((lab, port))
}

#[tokio::test]
async fn ssh_runs_commands_with_every_argument_as_data() {
    let Some((lab, port)) = lab_sshd("runtime_ssh::ssh_runs_commands_with_every_argument_as_data")
    else {
        return;
    };
    let scratch = Scratch::new("ssh-data");
    let marker = scratch.0.join("pwned");
    let m = marker.display().to_string();
    let h = lab_hosts(&lab, port);
    assert!(h.can_run_on("lab"));
    assert!(
        h.route("lab").starts_with("over ssh "),
        "{}",
        h.route("lab")
    );

    // Each hostile value comes back byte for byte, one per line, and runs nothing.
    let hostile = [
        format!("a; touch {m}"),
        format!("$(touch {m})"),
        format!("`touch {m}`"),
        format!("x' ; touch {m} ; echo '"),
        format!("| touch {m}"),
        "two words  and\ttabs".to_owned(),
        "*".to_owned(),
        "\"quoted\" $HOME".to_owned(),
    ];
    let mut cmd = argv(&["printf", "%s\\n"]);
    cmd.extend(hostile.iter().cloned());
    let out = h.run("lab", &cmd).await.expect("printf over ssh");
    assert_eq!(out.exit_code, 0, "{}", out.output);
    let lines: Vec<&str> = out.output.lines().collect();
    assert_eq!(
        lines,
        hostile.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(!marker.exists(), "a value was run as code over ssh");

    // Exit codes and output come back; a second command reuses the connection.
    let out = h
        .run(
            "lab",
            &argv(&["sh", "-c", "echo out; echo err >&2; exit 7"]),
        )
        .await
        .expect("sh over ssh");
    assert_eq!(out.exit_code, 7);
    assert!(
        out.output.contains("out") && out.output.contains("err"),
        "{}",
        out.output
    );

    // The command runs on the host (here: this machine, as the lab's user).
    let out = h
        .run("lab", &argv(&["touch", &m]))
        .await
        .expect("touch over ssh");
    assert_eq!(out.exit_code, 0, "{}", out.output);
    assert!(marker.exists(), "the command really ran on the host");

    let out = h
        .run("lab", &argv(&["/no/such/command", "x"]))
        .await
        .expect("a missing command is an exit code, not a transport error");
    assert_eq!(out.exit_code, 127, "{}", out.output);
}

/// A step that times out takes its remote command with it (the driver ties the
/// command to the channel's stdin): nothing goes on running on the host unseen.
#[tokio::test]
async fn ssh_command_dies_with_its_step() {
    let Some((lab, port)) = lab_sshd("runtime_ssh::ssh_command_dies_with_its_step") else {
        return;
    };
    let scratch = Scratch::new("ssh-timeout");
    let late = scratch.0.join("late");
    let done = scratch.0.join("done");
    let h = lab_hosts(&lab, port);
    let slow = |marker: &std::path::Path| {
        argv(&[
            "sh",
            "-c",
            "sleep 3; touch \"$0\"",
            &marker.display().to_string(),
        ])
    };
    // The step's timeout (step_run.rs) is a tokio timeout around the driver's future.
    let cut = tokio::time::timeout(
        std::time::Duration::from_secs(1),
        h.run("lab", &slow(&late)),
    )
    .await;
    assert!(cut.is_err(), "the command should still run at 1 s: {cut:?}");
    // Left alone, the same command finishes (so the marker can appear at all)…
    let out = h.run("lab", &slow(&done)).await.expect("sleep over ssh");
    assert_eq!(out.exit_code, 0, "{}", out.output);
    assert!(done.exists());
    // …and by now, 4 s after the cut one started, it would have.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        !late.exists(),
        "the remote command went on running after its step timed out"
    );
}

/// Run by `ssh_command_dies_with_its_runner` as a child process: starts a slow
/// command over the lab's sshd and waits for it, until the parent kills it.
#[tokio::test]
#[ignore = "run by ssh_command_dies_with_its_runner as a child process"]
async fn ssh_child_runner() {
    let Ok(dir) = std::env::var("MEND_SSH_CHILD_DIR") else {
        return;
    };
    let lab = Lab::load();
    let (_, port) = lab
        .loopback("runtime_ssh::ssh_child_runner", "MEND_LAB_SSH")
        .expect("the lab's sshd");
    let h = lab_hosts(&lab, port);
    let r = h
        .run(
            "lab",
            &argv(&[
                "sh",
                "-c",
                "touch \"$0\"; sleep 3; touch \"$1\"",
                &format!("{dir}/started"),
                &format!("{dir}/late"),
            ]),
        )
        .await;
    panic!("the child should have been killed while it waited: {r:?}");
}

/// A runner killed with SIGKILL while a host command runs takes the command with it:
/// its end of the channel's stdin closes with the process (the driver's wrapper
/// watches for that), so nothing goes on running on the host after the runner.
#[test]
fn ssh_command_dies_with_its_runner() {
    if lab_sshd("runtime_ssh::ssh_command_dies_with_its_runner").is_none() {
        return;
    }
    let scratch = Scratch::new("ssh-kill");
    let (started, late) = (scratch.0.join("started"), scratch.0.join("late"));
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "runtime_ssh::ssh_child_runner",
            "--ignored",
            "--nocapture",
        ])
        .env("MEND_SSH_CHILD_DIR", &scratch.0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the child runner");
    let t0 = std::time::Instant::now();
    while !started.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child runner exited before its command started"
        );
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(30),
            "the command never started on the host"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    // The command would touch `late` 3 s after `started`.
    std::thread::sleep(std::time::Duration::from_secs(4));
    assert!(
        !late.exists(),
        "the remote command went on running after its runner was killed"
    );
}

fn assert_refused(e: &mend_runtime::driver::DriverError, port: u16, why: &[&str]) {
    assert_eq!(e.kind, DriverErrorKind::Unreachable, "{e}");
    assert!(
        e.message
            .contains(&format!("127.0.0.1:{port} (host `lab`)")),
        "the message names the endpoint: {e}"
    );
    assert!(
        why.iter().any(|w| e.message.contains(w)),
        "the message says why ({why:?}): {e}"
    );
}

#[tokio::test]
async fn ssh_login_failures_are_clear_errors() {
    let Some((lab, port)) = lab_sshd("runtime_ssh::ssh_login_failures_are_clear_errors") else {
        return;
    };
    let scratch = Scratch::new("ssh-refused");
    let key = lab.get("MEND_LAB_SSH_KEY");
    let known = lab.get("MEND_LAB_SSH_KNOWN_HOSTS");
    let touch = argv(&["true"]);

    // A host key nobody vouched for: refused, never accepted on first sight.
    let empty = scratch.0.join("known_hosts");
    std::fs::write(&empty, "").unwrap();
    let e = hosts(&lab, port, &key, &empty.display().to_string())
        .run("lab", &touch)
        .await
        .unwrap_err();
    assert_refused(&e, port, &["Host key verification failed", "host key"]);
    assert_eq!(std::fs::read_to_string(&empty).unwrap(), "", "not learned");

    // A key the host does not accept.
    let other = scratch.0.join("id_other");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .expect("ssh-keygen");
    assert!(made.success());
    let e = hosts(&lab, port, &other.display().to_string(), &known)
        .run("lab", &touch)
        .await
        .unwrap_err();
    assert_refused(&e, port, &["Permission denied"]);

    // Nothing listening.
    let free = crate::runtime_lab::free_port();
    let e = hosts(&lab, free, &key, &known)
        .run("lab", &touch)
        .await
        .unwrap_err();
    assert_refused(&e, free, &["Connection refused", "connect"]);

    // A host with no [ssh.*] entry is a step for a person, not an error of ssh.
    let h = hosts(&lab, port, &key, &known);
    assert!(!h.can_run_on("db9"));
    assert!(h.why_not("db9").contains("step for a person"));
}

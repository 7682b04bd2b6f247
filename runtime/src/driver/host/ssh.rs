//! Host commands over SSH, through the system's OpenSSH client (the `openssh` crate:
//! one ControlMaster connection per host, one `ssh` process per command over it).
//!
//! Why the system client: it is what operators already configure and trust (their
//! `~/.ssh/config`, agent and known hosts keep working), and host keys are checked by
//! OpenSSH itself, always strictly: an unknown or changed key refuses the connection.
//!
//! Values stay data: each argument is quoted for the remote shell
//! (`OwningCommand::arg`), so `a; rm -rf /` arrives as one argument, never as code.

use super::{exit_code, output_tail};
use crate::driver::{DriverError, DriverResult, ExecOutput};
use crate::inventory::SshEndpoint;
use openssh::{ControlPersist, KnownHosts, Session, SessionBuilder};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// How long an SSH master with no command running stays up.
const MASTER_IDLE: std::num::NonZeroUsize = std::num::NonZeroUsize::new(60).unwrap();

/// The remote side of every host command: runs the command (`"$@"`) and kills it
/// when the channel's stdin closes before it is done. mend holds that stdin open for
/// as long as it waits, so a step that times out, or a runner that dies, takes its
/// remote command with it, as `kill_on_drop` does for a local one; without this the
/// command would go on running on the host with nobody reading its outcome.
/// A POSIX `sh` reads a background job's stdin from /dev/null unless told otherwise,
/// hence fd 3; the watcher's output goes nowhere, so that it never holds the
/// session's output open once the command is done. One line: the login shell that
/// receives it may not be a POSIX one (csh refuses a newline inside quotes).
const TIED_TO_STDIN: &str = concat!(
    "exec 3<&0; ",
    "\"$@\" </dev/null 3<&- & c=$!; ",
    "{ cat <&3 >/dev/null 2>&1; kill -TERM \"$c\" 2>/dev/null; } >/dev/null 2>&1 & w=$!; ",
    "exec 3<&-; wait \"$c\"; r=$?; kill \"$w\" 2>/dev/null; exit \"$r\""
);

/// Live SSH connections, one per host, opened on first use and checked before each
/// command (a master that died is replaced; the command itself is never retried).
#[derive(Default)]
pub struct SshSessions {
    live: Mutex<HashMap<String, Arc<Session>>>,
}

impl std::fmt::Debug for SshSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshSessions").finish_non_exhaustive()
    }
}

/// `user@address:port`.
pub(super) fn destination(ep: &SshEndpoint) -> String {
    let user = ep
        .user
        .as_deref()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    format!("{user}{}:{}", ep.address, ep.port)
}

/// `ssh user@address:port (host NAME)`, for messages.
fn describe(ep: &SshEndpoint) -> String {
    format!("ssh {} (host `{}`)", destination(ep), ep.name)
}

/// What stands in the way of `ep`, known without connecting: its key files and the
/// `ssh` client itself.
pub(super) fn problems(ep: &SshEndpoint) -> Vec<String> {
    let mut out = Vec::new();
    let unreadable = |p: &std::path::Path| std::fs::File::open(p).err();
    if let Some(k) = &ep.identity_file
        && let Some(e) = unreadable(k)
    {
        out.push(format!(
            "{}: the identity file `{}` cannot be read: {e}",
            describe(ep),
            k.display()
        ));
    }
    if let Some(k) = &ep.known_hosts
        && let Some(e) = unreadable(k)
    {
        out.push(format!(
            "{}: the known-hosts file `{}` cannot be read: {e} (the host key cannot be checked: the login will be refused)",
            describe(ep),
            k.display()
        ));
    }
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("ssh").is_file()));
    if !on_path {
        out.push(format!(
            "{}: no `ssh` client on PATH (install openssh-client)",
            describe(ep)
        ));
    }
    out
}

impl SshSessions {
    async fn connect(ep: &SshEndpoint) -> DriverResult<Session> {
        let mut b = SessionBuilder::default();
        b.port(ep.port)
            .known_hosts_check(KnownHosts::Strict)
            .connect_timeout(Duration::from_secs(ep.connect_timeout_secs))
            .server_alive_interval(Duration::from_secs(15))
            // the ControlMaster socket: a short path (sun_path is 108 bytes)
            .control_directory(std::env::temp_dir())
            // A runner killed with SIGKILL cannot close its masters: an idle one exits
            // by itself after a minute (a live runner reopens it when it needs it).
            .control_persist(ControlPersist::IdleFor(MASTER_IDLE));
        if let Some(u) = &ep.user {
            b.user(u.clone());
        }
        if let Some(k) = &ep.identity_file {
            b.keyfile(k);
        }
        if let Some(k) = &ep.known_hosts {
            b.user_known_hosts_file(k);
        }
        b.connect(&ep.address).await.map_err(|e| {
            DriverError::unreachable(format!(
                "{}: cannot connect: {}",
                describe(ep),
                crate::driver::error_chain(&e)
            ))
        })
    }

    /// The live session to `ep`, opening (or reopening) it.
    async fn session(&self, ep: &SshEndpoint) -> DriverResult<Arc<Session>> {
        let mut live = self.live.lock().await;
        if let Some(s) = live.get(&ep.name) {
            if s.check().await.is_ok() {
                return Ok(s.clone());
            }
            tracing::info!(host = %ep.name, "ssh connection lost; reconnecting");
            live.remove(&ep.name);
        }
        let s = Arc::new(Self::connect(ep).await?);
        live.insert(ep.name.clone(), s.clone());
        Ok(s)
    }

    /// Runs `argv` on the host; a non-zero exit is an output, not an error.
    pub async fn run(&self, ep: &SshEndpoint, argv: &[String]) -> DriverResult<ExecOutput> {
        let (cmd, args) = argv
            .split_first()
            .ok_or_else(|| DriverError::other("an empty host command"))?;
        let session = self.session(ep).await?;
        let spawned = session
            .command("sh")
            .arg("-c")
            .arg(TIED_TO_STDIN)
            .arg("mend-host-step")
            .arg(cmd.as_str())
            .args(args.iter().map(String::as_str))
            .stdin(openssh::Stdio::piped())
            .stdout(openssh::Stdio::piped())
            .stderr(openssh::Stdio::piped())
            .spawn()
            .await;
        let result = match spawned {
            Ok(mut child) => {
                // Held, never written, until the command is done (see TIED_TO_STDIN).
                let tie = child.stdin().take();
                let out = child.wait_with_output().await;
                drop(tie);
                out
            }
            Err(e) => Err(e),
        };
        let out = match result {
            Ok(out) => out,
            // The crate turns the remote shell's 127 into an error; for a step it is
            // the command's own failure (a typo in the inventory's command), not SSH's.
            Err(openssh::Error::Remote(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ExecOutput {
                    exit_code: 127,
                    output: format!("`{cmd}`: command not found on the host"),
                });
            }
            Err(e) => {
                return Err(DriverError::unreachable(format!(
                    "{}: `{}` could not be run: {}",
                    describe(ep),
                    argv.join(" "),
                    crate::driver::error_chain(&e)
                )));
            }
        };
        // ssh itself exits 255 when the connection broke under the command.
        let code = exit_code(out.status);
        let output = output_tail(&out.stdout, &out.stderr);
        Ok(ExecOutput {
            exit_code: code,
            output,
        })
    }
}

//! Host-level steps (§4.1.3 `myadm -P <port> -d startup`, §2.13 restarting the Docker
//! daemon). A host the inventory marks `local` runs the command on this machine; a host
//! with an SSH `address` runs it over SSH ([`ssh::SshSessions`]); any other host gets a
//! step for a person: the executor asks them to run the exact command and answer when
//! it is done, and `mend plan` says so beforehand.

mod local;
mod ssh;

use super::{DriverError, DriverResult, ExecOutput, HostDriver};
use crate::inventory::SshEndpoint;
use async_trait::async_trait;
use std::collections::BTreeMap;

pub use ssh::SshSessions;

/// The most of a host command's output a step keeps (its tail: errors come last).
const OUTPUT_TAIL: usize = 4096;

/// The host driver when no host can be reached: every host step goes to a person.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSsh;

#[async_trait]
impl HostDriver for NoSsh {
    fn can_run_on(&self, _host: &str) -> bool {
        false
    }

    fn why_not(&self, host: &str) -> String {
        format!("no SSH endpoint for host `{host}`: this step becomes a step for a person")
    }

    async fn run(&self, host: &str, _argv: &[String]) -> DriverResult<ExecOutput> {
        Err(DriverError::unreachable(self.why_not(host)))
    }
}

/// Host steps by inventory: `local = true` runs here, an `address` runs over SSH,
/// anything else goes to a person.
#[derive(Debug, Default)]
pub struct Hosts {
    endpoints: BTreeMap<String, SshEndpoint>,
    ssh: SshSessions,
}

impl Hosts {
    pub fn new(endpoints: BTreeMap<String, SshEndpoint>) -> Self {
        Hosts {
            endpoints,
            ssh: SshSessions::default(),
        }
    }
}

#[async_trait]
impl HostDriver for Hosts {
    fn can_run_on(&self, host: &str) -> bool {
        self.endpoints.contains_key(host)
    }

    fn why_not(&self, host: &str) -> String {
        NoSsh.why_not(host)
    }

    fn route(&self, host: &str) -> String {
        match self.endpoints.get(host) {
            None => String::new(),
            Some(ep) if ep.local => "on this machine (`local = true`)".into(),
            Some(ep) => format!("over ssh {}", ssh::destination(ep)),
        }
    }

    fn problems(&self, host: &str) -> Vec<String> {
        match self.endpoints.get(host) {
            Some(ep) if !ep.local => ssh::problems(ep),
            _ => Vec::new(),
        }
    }

    async fn run(&self, host: &str, argv: &[String]) -> DriverResult<ExecOutput> {
        let Some(ep) = self.endpoints.get(host) else {
            return Err(DriverError::unreachable(self.why_not(host)));
        };
        if argv.is_empty() {
            return Err(DriverError::other(format!(
                "an empty command for host `{host}`"
            )));
        }
        if ep.local {
            local::run(host, argv).await
        } else {
            self.ssh.run(ep, argv).await
        }
    }
}

/// stdout then stderr, as one text, cut to its last [`OUTPUT_TAIL`] bytes.
fn output_tail(stdout: &[u8], stderr: &[u8]) -> String {
    let mut text = String::from_utf8_lossy(stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(stderr));
    let keep = text.len().saturating_sub(OUTPUT_TAIL);
    let start = (keep..=text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    text[start..].to_owned()
}

/// The exit code of a finished process; a signal is -1.
fn exit_code(status: std::process::ExitStatus) -> i64 {
    status.code().map_or(-1, i64::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Inventory;

    #[tokio::test]
    async fn local_hosts_run_argv_without_a_shell() {
        let inv = Inventory::parse(
            "[ssh.here]\nlocal = true\n[ssh.far]\naddress = \"10.0.0.5\"\n",
            "m",
            None,
        )
        .unwrap();
        let h = Hosts::new(inv.ssh);
        assert!(h.can_run_on("here") && h.can_run_on("far") && !h.can_run_on("nowhere"));
        let out = h
            .run("here", &["echo".into(), "a;b $HOME".into()])
            .await
            .unwrap();
        assert_eq!((out.exit_code, out.output.trim()), (0, "a;b $HOME"));
        assert_eq!(h.run("here", &["false".into()]).await.unwrap().exit_code, 1);
        assert!(h.why_not("nowhere").contains("step for a person"));
        assert_eq!(h.route("far"), "over ssh 10.0.0.5:22");
        assert!(h.route("here").contains("this machine"));
        assert!(h.problems("here").is_empty() && h.problems("far").is_empty());
        let e = h.run("nowhere", &["true".into()]).await.unwrap_err();
        assert!(e.message.contains("nowhere"), "{e}");
        let e = h.run("here", &[]).await.unwrap_err();
        assert!(e.message.contains("empty command"), "{e}");
    }

    #[test]
    fn missing_key_files_are_problems_before_the_run() {
        let inv = Inventory::parse(
            "[ssh.db]\naddress = \"10.0.0.5\"\nidentity_file = \"/nonexistent/id\"\nknown_hosts = \"/nonexistent/kh\"\n",
            "m",
            None,
        )
        .unwrap();
        let p = Hosts::new(inv.ssh).problems("db");
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].contains("/nonexistent/id") && p[1].contains("/nonexistent/kh"),
            "{p:?}"
        );
    }

    #[test]
    fn output_keeps_the_tail_on_a_char_boundary() {
        let long = "é".repeat(OUTPUT_TAIL);
        let t = output_tail(long.as_bytes(), b"END");
        assert!(t.ends_with("END") && t.len() <= OUTPUT_TAIL);
    }
}

//! Host-level steps (§4.1.3 `myadm -P <port> -d startup`, §2.13 restarting the Docker
//! daemon). Without an SSH driver every such step becomes a step for a person: the
//! executor asks them to run the exact command and answer when it is done.

use super::{DriverError, DriverResult, ExecOutput, HostDriver};
use async_trait::async_trait;

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

/// Host steps by inventory: a `local = true` host runs commands on this machine
/// (argv, no shell, output kept); any other host goes to a person.
#[derive(Debug, Default, Clone)]
pub struct Hosts {
    ssh: std::collections::BTreeMap<String, crate::inventory::SshEndpoint>,
}

impl Hosts {
    pub fn new(ssh: std::collections::BTreeMap<String, crate::inventory::SshEndpoint>) -> Self {
        Hosts { ssh }
    }
}

#[async_trait]
impl HostDriver for Hosts {
    fn can_run_on(&self, host: &str) -> bool {
        self.ssh.get(host).is_some_and(|s| s.local)
    }

    fn why_not(&self, host: &str) -> String {
        match self.ssh.get(host) {
            None => NoSsh.why_not(host),
            Some(_) => format!(
                "mend has no SSH transport yet (`[ssh.{host}]` is not `local`): this step becomes a step for a person"
            ),
        }
    }

    async fn run(&self, host: &str, argv: &[String]) -> DriverResult<ExecOutput> {
        if !self.can_run_on(host) {
            return Err(DriverError::unreachable(self.why_not(host)));
        }
        let (cmd, args) = argv
            .split_first()
            .ok_or_else(|| DriverError::other("an empty host command"))?;
        let out = tokio::process::Command::new(cmd)
            .args(args)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| DriverError::other(format!("`{}` on {host}: {e}", argv.join(" "))))?;
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        let keep = text.len().saturating_sub(4096);
        let start = (keep..=text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(text.len());
        Ok(ExecOutput {
            exit_code: out.status.code().map_or(-1, i64::from),
            output: text[start..].to_owned(),
        })
    }
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
        assert!(h.can_run_on("here") && !h.can_run_on("far") && !h.can_run_on("nowhere"));
        let out = h
            .run("here", &["echo".into(), "a;b $HOME".into()])
            .await
            .unwrap();
        assert_eq!((out.exit_code, out.output.trim()), (0, "a;b $HOME"));
        assert_eq!(h.run("here", &["false".into()]).await.unwrap().exit_code, 1);
        assert!(h.why_not("far").contains("no SSH transport"));
        assert!(h.why_not("nowhere").contains("step for a person"));
    }
}

//! Host commands on this machine (`[ssh.NAME] local = true`): argv, no shell, so a
//! value in a command is never interpreted.

use super::{exit_code, output_tail};
use crate::driver::{DriverError, DriverResult, ExecOutput};

pub(super) async fn run(host: &str, argv: &[String]) -> DriverResult<ExecOutput> {
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
    Ok(ExecOutput {
        exit_code: exit_code(out.status),
        output: output_tail(&out.stdout, &out.stderr),
    })
}

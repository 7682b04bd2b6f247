//! Steps a person performs or answers, and host-level commands.

use super::{ActResult, split_command};
use crate::answers::{Answer, Question, clear_pending, set_pending};
use crate::executor::{ActError, Done, Exec};
use crate::observer::Event;
use crate::resolve::Instance;
use mend_compiler::plan::{Action, Step};

/// Fills `{ip}`, `{name}`, `{id}`, `{host}`, `{port}`, `{component}`, `{peer}` in a
/// text a person reads.
pub(crate) fn interpolate(exec: &Exec, text: &str, inst: &Instance) -> String {
    fill(&exec.inventory, exec.peer.as_ref().ok(), text, inst)
}

/// [`interpolate`] for the executor and the planner alike: `mend plan` shows the
/// question as the person will read it.
pub(crate) fn fill(
    inventory: &crate::inventory::Inventory,
    peer: Option<&Instance>,
    text: &str,
    inst: &Instance,
) -> String {
    let port = inst
        .mysql
        .as_ref()
        .and_then(|m| inventory.mysql.get(m))
        .map(|m| m.port.to_string())
        .unwrap_or_else(|| "?".into());
    let peer = peer.map_or_else(|| "?".to_owned(), |p| p.name.clone());
    text.replace("{ip}", inst.ip().unwrap_or("?"))
        .replace("{name}", &inst.name)
        .replace("{container}", &inst.name)
        .replace(
            "{id}",
            inst.container.as_ref().map_or("?", |c| c.short_id()),
        )
        .replace("{host}", inst.host.as_deref().unwrap_or("?"))
        .replace("{port}", &port)
        .replace("{component}", &inst.component)
        .replace("{peer}", &peer)
}

/// Asks a person; `Ok(answer)`.
pub(crate) async fn ask_person(
    exec: &Exec,
    step: &Step,
    id: &str,
    question: String,
) -> Result<Answer, ActError> {
    let q = Question {
        run_id: exec.run_id.clone(),
        run_dir: exec.run_dir.clone(),
        step: id.to_owned(),
        plan_step: step.id.clone(),
        text: step.text.clone(),
        question: crate::secret::scrub(&question),
    };
    set_pending(&q);
    exec.emit(&Event::WaitingForAnswer {
        id: id.to_owned(),
        question: q.question.clone(),
    });
    let r = exec.answers.answer(&q).await;
    clear_pending(&q);
    match r {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(ActError::Failed(format!(
            "no answer: run on a terminal, pass `--answers FILE`, or answer with `mend answer {} {id} yes|no`",
            exec.run_id
        ))),
        Err(e) => Err(ActError::Failed(e.0)),
    }
}

/// A person does it; yes = done, no = the step fails.
pub(crate) async fn person_step(exec: &Exec, step: &Step, id: &str, question: String) -> ActResult {
    match ask_person(exec, step, id, question).await? {
        Answer::Yes => Ok(Done::msg("done by a person")),
        Answer::No => Err(ActError::Failed("a person answered no".into())),
    }
}

/// The command of a host step, as a person reads it: `(host, command)`.
pub(crate) fn host_command(
    inventory: &crate::inventory::Inventory,
    action: &Action,
    inst: &Instance,
) -> (String, String) {
    let (host, argv) = host_argv(inventory, action, inst);
    (host, shell_words(&argv))
}

/// argv as a person would type it in a shell: a word with anything but plain
/// characters is single-quoted, so that a copied command runs the same argv (a host
/// label with a space or `;` stays one argument there too).
pub(crate) fn shell_words(argv: &[String]) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,{}".contains(c);
    argv.iter()
        .map(|w| {
            if !w.is_empty() && w.chars().all(plain) {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The command of a host step as argv: the template is split into words first and
/// the values filled into each word, so that a value with spaces or shell
/// metacharacters (a host label, say) stays one argument and is never code.
pub(crate) fn host_argv(
    inventory: &crate::inventory::Inventory,
    action: &Action,
    inst: &Instance,
) -> (String, Vec<String>) {
    let host = inst.host.clone().unwrap_or_else(|| "?".into());
    let ssh = inventory.ssh.get(&host);
    let ep = inst.mysql.as_ref().and_then(|m| inventory.mysql.get(m));
    let port = ep.map_or_else(|| "?".to_owned(), |m| m.port.to_string());
    let name = ep.map_or(inst.name.as_str(), |m| m.name.as_str());
    let (template, values): (&str, Vec<(&str, &str)>) = match action {
        Action::StartupMysql => (
            ssh.map_or("myadm -P {port} -d startup", |s| s.startup_mysql.as_str()),
            vec![("{port}", port.as_str()), ("{name}", name)],
        ),
        Action::RestartDaemon { daemon } => (
            ssh.map_or("sudo service {daemon} restart", |s| {
                s.restart_daemon.as_str()
            }),
            vec![("{daemon}", daemon.as_str())],
        ),
        _ => ("", Vec::new()),
    };
    let argv = split_command(template)
        .into_iter()
        .map(|word| {
            values
                .iter()
                .chain(std::iter::once(&("{host}", host.as_str())))
                .fold(word, |w, (k, v)| w.replace(k, v))
        })
        .collect();
    (host, argv)
}

pub(crate) async fn host_step(exec: &Exec, step: &Step, id: &str, inst: &Instance) -> ActResult {
    let (host, argv) = host_argv(&exec.inventory, &step.action, inst);
    let cmd = shell_words(&argv);
    if exec.drivers.host.can_run_on(&host) {
        let out = exec.drivers.host.run(&host, &argv).await?;
        let route = exec.drivers.host.route(&host);
        let on = if route.is_empty() {
            format!("on {host}")
        } else {
            format!("on {host} {route}")
        };
        return if out.exit_code == 0 {
            Ok(Done::msg(format!("`{cmd}` {on} exited 0")))
        } else {
            Err(ActError::Failed(format!(
                "`{cmd}` {on} exited {}: {}",
                out.exit_code,
                out.output.trim()
            )))
        };
    }
    let q = match &step.action {
        Action::StartupMysql => format!(
            "On host `{host}` run `{cmd}` (§4.1.3) and follow its alert.log until MySQL is up; answer yes when it is ({})",
            exec.drivers.host.why_not(&host)
        ),
        _ => format!(
            "On host `{host}` check the daemon (`sudo service docker status`) and, if it is not running, run `{cmd}` (§2.13); answer yes when it runs ({})",
            exec.drivers.host.why_not(&host)
        ),
    };
    person_step(exec, step, id, q).await
}

#[cfg(test)]
mod tests {
    use super::shell_words;

    #[test]
    fn commands_shown_to_a_person_quote_what_a_shell_would_split() {
        let argv = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            shell_words(&argv(&["myadm", "-P", "3306", "-d", "startup"])),
            "myadm -P 3306 -d startup"
        );
        assert_eq!(
            shell_words(&argv(&["restart", "h1;touch x $(id)", "it's", ""])),
            "restart 'h1;touch x $(id)' 'it'\\''s' ''"
        );
    }
}

//! The actions mend knows: how their arguments are read, and their default timeouts.
//! Their contracts (what they require, ensure, destroy) live in `contracts.rs`.

use crate::plan::{Action, BackupSource};
use mend_grammar::ast::{Arg, Ident, Span};
use std::time::Duration;

/// Why an action's arguments were refused.
pub struct ArgError {
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
}

fn err(span: Span, message: impl Into<String>) -> ArgError {
    ArgError {
        span,
        message: message.into(),
        help: None,
    }
}

/// Every action word, for suggestions and the editor.
pub const ACTION_NAMES: &[&str] = mend_grammar::keywords::ACTIONS;

/// Reads `name args…` into an [`Action`]. `within` comes from the step's modifier.
pub fn lower(name: &Ident, args: &[Arg], within: Option<Duration>) -> Result<Action, ArgError> {
    let words: Vec<Option<&str>> = args
        .iter()
        .filter(|a| !matches!(a, Arg::Equals(_)))
        .map(|a| match a {
            Arg::Word(w) => Some(w.name.as_str()),
            _ => None,
        })
        .collect();
    let plain: Vec<&Arg> = args
        .iter()
        .filter(|a| !matches!(a, Arg::Equals(_)))
        .collect();
    let all_span = args
        .iter()
        .map(Arg::span)
        .reduce(Span::join)
        .unwrap_or(name.span);
    let expect_none = |action: Action| {
        if let Some(a) = plain.first() {
            Err(extra_argument(name, a))
        } else {
            Ok(action)
        }
    };
    let expect_words = |expected: &[&str], action: Action| {
        let prefix_ok = plain.len() >= expected.len()
            && words.iter().zip(expected).all(|(w, e)| *w == Some(*e));
        if prefix_ok && plain.len() == expected.len() {
            Ok(action)
        } else if prefix_ok {
            // `confirm alert restart`: a forgotten `;` makes the next step an argument.
            Err(extra_argument(name, plain[expected.len()]))
        } else {
            let usage = std::iter::once(name.name.as_str())
                .chain(expected.iter().copied())
                .collect::<Vec<_>>()
                .join(" ");
            Err(ArgError {
                span: all_span,
                message: format!("`{}` takes `{usage}`", name.name),
                help: Some(format!("write `{usage}`")),
            })
        }
    };
    let n = name.name.as_str();
    match n {
        "confirm" => expect_words(&["alert"], Action::ConfirmAlert),
        "lookup" => match words.as_slice() {
            [Some("role")] => Ok(Action::LookupRole),
            [Some("name")] => Ok(Action::LookupName),
            _ => Err(usage(
                name,
                all_span,
                "lookup role",
                "`lookup role` or `lookup name`",
            )),
        },
        "backup" => backup(name, &plain, &words, all_span),
        "restore" => expect_words(&["store"], Action::Restore),
        "decommission" => expect_none(Action::Decommission),
        "recreate" => {
            let (mut same_ip, mut paused) = (false, false);
            for a in &plain {
                match a {
                    Arg::Word(w) if w.name == "same_ip" => same_ip = true,
                    Arg::Word(w) if w.name == "paused" => paused = true,
                    other => {
                        return Err(ArgError {
                            span: other.span(),
                            message: "`recreate` takes only `same_ip` and `paused`".into(),
                            help: Some("write `recreate same_ip paused`".into()),
                        });
                    }
                }
            }
            Ok(Action::Recreate { same_ip, paused })
        }
        "remove" => expect_none(Action::Remove),
        "start" | "stop" => match words.as_slice() {
            [] => Ok(if n == "start" {
                Action::Start
            } else {
                Action::Stop
            }),
            [Some("replica")] => Ok(if n == "start" {
                Action::StartReplica
            } else {
                Action::StopReplica
            }),
            _ => Err(extra_argument(name, plain[0])),
        },
        "restart" => expect_none(Action::Restart),
        "probe" => expect_none(Action::Probe),
        "verify" => expect_none(Action::Verify {
            within: within.unwrap_or(DEFAULT_VERIFY),
        }),
        "wait" => match plain.as_slice() {
            [Arg::Duration(d)] => Ok(Action::Wait {
                duration: Duration::from_millis(d.millis),
            }),
            [Arg::Word(w)] if w.name == "replica_healthy" => Ok(Action::WaitReplicaHealthy {
                // An absent bound is reported by the checker (unbounded wait); the
                // runtime still never waits forever.
                within: within.unwrap_or(Duration::ZERO),
            }),
            _ => Err(usage(
                name,
                all_span,
                "wait replica_healthy within 5m",
                "`wait DURATION` or `wait replica_healthy within DURATION`",
            )),
        },
        "set" => set(name, &plain, all_span),
        "startup" => expect_words(&["mysql"], Action::StartupMysql),
        "forced_switch" => expect_none(Action::ForcedSwitch),
        "restart_daemon" => match words.as_slice() {
            [Some(d)] => Ok(Action::RestartDaemon {
                daemon: (*d).to_string(),
            }),
            _ => Err(usage(
                name,
                all_span,
                "restart_daemon docker",
                "the daemon's name",
            )),
        },
        "exec" => match plain.as_slice() {
            [Arg::Str(s)] => {
                let argv: Vec<String> = s.value.split_whitespace().map(str::to_string).collect();
                if argv.is_empty() {
                    Err(err(s.span, "`exec` needs a command"))
                } else {
                    Ok(Action::Exec { argv })
                }
            }
            _ => Err(usage(
                name,
                all_span,
                "exec \"sh /alidata/bin/check_zk.sh\"",
                "one string: the command",
            )),
        },
        _ => unreachable!("caller checks the action name"),
    }
}

/// Default bound of `verify` when no `within` is written.
pub const DEFAULT_VERIFY: Duration = Duration::from_secs(600);

/// The timeout of a step when none is written.
pub fn default_timeout(action: &Action) -> Duration {
    match action {
        Action::ConfirmAlert | Action::Ask { .. } | Action::ForcedSwitch | Action::Decommission => {
            Duration::from_secs(3600)
        }
        Action::Verify { within } | Action::WaitReplicaHealthy { within } if !within.is_zero() => {
            *within + Duration::from_secs(30)
        }
        Action::Wait { duration } => *duration + Duration::from_secs(30),
        Action::Backup { .. } | Action::Restore | Action::StartupMysql => Duration::from_secs(1800),
        _ => Duration::from_secs(300),
    }
}

fn usage(name: &Ident, span: Span, example: &str, what: &str) -> ArgError {
    ArgError {
        span,
        message: format!("`{}` takes {what}", name.name),
        help: Some(format!("for example `{example}`")),
    }
}

fn extra_argument(name: &Ident, arg: &Arg) -> ArgError {
    let mut e = err(
        arg.span(),
        format!("`{}` takes no argument here", name.name),
    );
    if let Arg::Word(w) = arg
        && ACTION_NAMES.contains(&w.name.as_str())
    {
        e.message = format!("`{}` takes no argument `{}`", name.name, w.name);
        e.help = Some(format!(
            "steps are separated by `;`: did you forget one before `{}`?",
            w.name
        ));
    }
    e
}

fn backup(
    name: &Ident,
    plain: &[&Arg],
    words: &[Option<&str>],
    span: Span,
) -> Result<Action, ArgError> {
    let bad = || {
        usage(
            name,
            span,
            "backup store from self or peer",
            "`store from SOURCE (or SOURCE)*`",
        )
    };
    match words {
        [Some("store")] => Ok(Action::Backup {
            sources: vec![BackupSource::SelfNode],
        }),
        [Some("store"), Some("from"), rest @ ..] if !rest.is_empty() => {
            let mut sources = Vec::new();
            for (i, w) in rest.iter().enumerate() {
                let arg = plain[i + 2];
                if i % 2 == 1 {
                    if *w != Some("or") {
                        return Err(err(arg.span(), "sources are joined with `or`"));
                    }
                    continue;
                }
                sources.push(match w {
                    Some("self") => BackupSource::SelfNode,
                    Some("peer") => BackupSource::Peer,
                    Some("none") => BackupSource::None,
                    _ => {
                        return Err(ArgError {
                            span: arg.span(),
                            message: "a backup source is `self`, `peer` or `none`".into(),
                            help: Some("write `backup store from self or peer`".into()),
                        });
                    }
                });
            }
            if rest.len() % 2 == 0 {
                return Err(bad());
            }
            Ok(Action::Backup { sources })
        }
        _ => Err(bad()),
    }
}

fn set(name: &Ident, plain: &[&Arg], span: Span) -> Result<Action, ArgError> {
    let Some(Arg::Word(var)) = plain.first() else {
        return Err(usage(
            name,
            span,
            "set exec_mode strict",
            "`exec_mode`, `parallel_workers` or `read_only` and a value",
        ));
    };
    let value = plain.get(1);
    match (var.name.as_str(), value) {
        ("exec_mode", Some(Arg::Word(v))) => match v.name.as_str() {
            "strict" => Ok(Action::SetExecMode { lenient: false }),
            "lenient" => Ok(Action::SetExecMode { lenient: true }),
            other => Err(ArgError {
                span: v.span,
                message: format!("`exec_mode` is `strict` or `lenient`, not `{other}`"),
                help: Some(
                    if other.eq_ignore_ascii_case("smart")
                        || other.eq_ignore_ascii_case("idempotent")
                    {
                        "AliSQL's `SMART` and MySQL's `IDEMPOTENT` are both `lenient`: the runtime picks the server's word".into()
                    } else {
                        "write `set exec_mode strict` or `set exec_mode lenient`".into()
                    },
                ),
            }),
        },
        ("parallel_workers", Some(Arg::Number(n))) => Ok(Action::SetParallelWorkers {
            workers: n.value.min(u64::from(u32::MAX)) as u32,
        }),
        ("read_only", Some(Arg::Word(v))) => match v.name.as_str() {
            "on" => Ok(Action::SetReadOnly { on: true }),
            "off" => Ok(Action::SetReadOnly { on: false }),
            other => Err(err(
                v.span,
                format!("`read_only` is `on` or `off`, not `{other}`"),
            )),
        },
        ("read_only", Some(Arg::Number(n))) if n.value <= 1 => {
            Ok(Action::SetReadOnly { on: n.value == 1 })
        }
        ("exec_mode" | "parallel_workers" | "read_only", _) => Err(usage(
            name,
            span,
            "set read_only on",
            "a value after the variable",
        )),
        (other, _) => Err(ArgError {
            span: var.span,
            message: format!("`set` knows no variable `{other}`"),
            help: crate::suggest::did_you_mean(
                other,
                ["exec_mode", "parallel_workers", "read_only"],
            )
            .or_else(|| {
                Some("the variables are `exec_mode`, `parallel_workers` and `read_only`".into())
            }),
        }),
    }
}

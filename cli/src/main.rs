//! The `mend` command line.
//!
//! Exit codes (as ruff and actionlint): 0 clean or success, 1 findings (or a run
//! that failed), 2 usage, configuration or IO error; `mend run` adds its own
//! (see `mend run --help`).

// A binary has no outside: `pub` inside it only says "used by other modules".
#![allow(unreachable_pub)]

mod commands;
mod config;
mod files;
mod output;
mod progress;

use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "mend",
    version,
    about = "Recovery playbooks, checked before they run",
    long_about = "mend checks recovery playbooks for the hazards of the recovery guide \
(data destroyed without a backup, two masters, a lenient replication mode left on, \
a missing verification) and runs them against Docker, MySQL and ZooKeeper.",
    after_help = "Exit codes: 0 clean, 1 findings, 2 usage or IO error (`mend run` adds 3 escalated,\n\
4 aborted, 5 target locked, 6 suspended on a fault: `mend resume` continues).\n\
Start with `mend check stdlib-playbooks`; `mend explain CODE` explains a finding."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check playbooks: syntax, names, and every safety rule on every path
    Check {
        /// Files, or directories searched for `*.mend`
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value = "human")]
        format: output::Format,
        /// Exit 0 even when there are findings
        #[arg(long)]
        exit_zero: bool,
        /// Treat warnings as errors for the exit code (`--deny warnings`)
        #[arg(long, value_name = "warnings")]
        deny: Option<String>,
        /// The configuration file (default: `mend.toml`, looked for from the current
        /// directory up to the repository root)
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
    },
    /// Rewrite playbooks in the one canonical layout (comments and citations kept)
    Fmt {
        /// Files, or directories searched for `*.mend`
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Do not write; exit 1 and show a diff when a file is not formatted
        #[arg(long)]
        check: bool,
    },
    /// Draw the step graph of a file's playbooks (Graphviz DOT or Mermaid)
    Graph {
        /// A `.mend` file
        file: PathBuf,
        /// Only the playbook that fires on this, e.g. `hardware_fault(mq_broker)`
        #[arg(long, value_name = "FAULT(COMPONENT)")]
        on: Option<String>,
        /// Output format
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormatArg,
    },
    /// Resolve a playbook against the live inventory, read-only, and print what it will touch
    Plan {
        /// A `.mend` file
        file: PathBuf,
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        run: RunFlags,
    },
    /// Run a playbook against the inventory (exit: 0 succeeded, 1 failed, 2 error,
    /// 3 escalated, 4 aborted, 5 target locked by another run, 6 suspended on a fault:
    /// a service unreachable, a step timed out, the state directory; `mend resume` continues)
    Run {
        /// A `.mend` file
        file: PathBuf,
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        run: RunFlags,
    },
    /// Continue a run whose runner died, without repeating a finished step
    Resume {
        /// The run's ID (printed when it started; `mend runs` lists them)
        run_id: String,
        #[command(flatten)]
        run: RunFlags,
    },
    /// Answer a step that waits for a person, from another shell
    Answer {
        /// The run's ID
        run_id: String,
        /// The step's ID (shown when it started waiting; `mend runs` lists them)
        step: String,
        /// `yes` (done / confirmed) or `no` (the step fails)
        answer: String,
        /// The inventory whose `state_dir` holds the run (default: ./mend.toml)
        #[arg(long, value_name = "FILE")]
        inventory: Option<PathBuf>,
        /// The state directory that holds the run (overrides the inventory's)
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// List the runs in the state directory and the questions they wait on
    Runs {
        /// The inventory whose `state_dir` to read (default: ./mend.toml)
        #[arg(long, value_name = "FILE")]
        inventory: Option<PathBuf>,
        /// The state directory to read (overrides the inventory's)
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// `human`: a table; `json`: one object per run and line, for scripts
        #[arg(long, value_enum, default_value = "human")]
        format: RunsFormat,
    },
    /// Print the page of a diagnostic code (`mend explain E0202`), or list them all
    Explain {
        /// A code such as `E0202`, or its name such as `no-backup`
        code: Option<String>,
    },
}

/// Which playbook, on what.
#[derive(clap::Args)]
struct Which {
    /// The playbook that fires on this, e.g. `hardware_fault(mq_broker)` (needed when
    /// the file has several)
    #[arg(long, value_name = "FAULT(COMPONENT)")]
    on: Option<String>,
    /// The failed instance: a container name, ID or IP, or a MySQL endpoint's name
    #[arg(long)]
    target: String,
}

#[derive(clap::Args)]
struct RunFlags {
    /// The inventory (default: ./mend.toml)
    #[arg(long, value_name = "FILE")]
    inventory: Option<PathBuf>,
    /// Where runs, journals, locks and backups live (default: the inventory's)
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Steps acting at once
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Answers for steps a person performs, for tests and rehearsals: lines of
    /// `STEP-OR-TEXT = yes|no`
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,
    /// Logs as text or JSON lines (JSON also prints the plan or summary as JSON)
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

impl RunFlags {
    fn args(self, color: bool) -> commands::runtime::RunArgs {
        init_logs(self.log_format, color);
        commands::runtime::RunArgs {
            inventory: self.inventory,
            state_dir: self.state_dir,
            concurrency: self.concurrency,
            answers: self.answers,
            json: self.log_format == LogFormat::Json,
            color,
        }
    }
}

/// Structured logs on stderr; `RUST_LOG` filters them (default `info`).
fn init_logs(format: LogFormat, color: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.with_ansi(color).with_target(false).try_init(),
    };
}

/// How `mend runs` prints.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RunsFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum GraphFormatArg {
    /// Graphviz: `mend graph f.mend | dot -Tsvg > f.svg`
    Dot,
    /// Mermaid, for Markdown
    Mermaid,
}

fn main() {
    let cli = Cli::parse();
    let color = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let result = match cli.command {
        Command::Check {
            paths,
            format,
            exit_zero,
            deny,
            config,
        } => {
            if let Some(d) = &deny
                && d != "warnings"
            {
                fail(&format!("`--deny` takes `warnings`, not `{d}`"));
            }
            commands::check::run(&commands::check::Options {
                paths,
                format,
                color,
                exit_zero,
                deny_warnings: deny.is_some(),
                config,
            })
        }
        Command::Fmt { paths, check } => commands::fmt::run(&paths, check, color),
        Command::Graph { file, on, format } => {
            let format = match format {
                GraphFormatArg::Dot => mend_compiler::graph_render::GraphFormat::Dot,
                GraphFormatArg::Mermaid => mend_compiler::graph_render::GraphFormat::Mermaid,
            };
            commands::graph::run(&file, on.as_deref(), format)
        }
        Command::Plan { file, which, run } => {
            commands::runtime::plan(&file, which.on.as_deref(), &which.target, &run.args(color))
        }
        Command::Run { file, which, run } => {
            commands::runtime::run(&file, which.on.as_deref(), &which.target, &run.args(color))
        }
        Command::Resume { run_id, run } => commands::runtime::resume(&run_id, &run.args(color)),
        Command::Answer {
            run_id,
            step,
            answer,
            inventory,
            state_dir,
        } => commands::runtime::answer(
            &run_id,
            &step,
            &answer,
            inventory.as_deref(),
            state_dir.as_deref(),
        ),
        Command::Runs {
            inventory,
            state_dir,
            format,
        } => commands::runtime::runs(
            inventory.as_deref(),
            state_dir.as_deref(),
            format == RunsFormat::Json,
        ),
        Command::Explain { code } => commands::explain::run(code.as_deref()),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => fail(&e.0),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2);
}

//! The `mend` command line.
//!
//! Exit codes (as ruff and actionlint): 0 clean or success, 1 findings (or a run
//! that failed), 2 usage, configuration or IO error; `mend run` adds its own
//! (see `mend run --help`).

// A binary has no outside: `pub` inside it only says "used by other modules".
#![allow(unreachable_pub)]

mod commands;
mod files;
mod output;

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
    after_help = "Exit codes: 0 clean, 1 findings, 2 usage or IO error.\n\
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
    /// Print the page of a diagnostic code (`mend explain E0202`), or list them all
    Explain {
        /// A code such as `E0202`, or its name such as `no-backup`
        code: Option<String>,
    },
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

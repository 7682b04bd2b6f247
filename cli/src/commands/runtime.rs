//! `mend plan`, `mend run`, `mend resume`, `mend answer`, `mend runs`: the CLI's side
//! of the runtime. A playbook is checked before it is planned or run; one with
//! findings is refused (exit 1).

use crate::files::{self, FsProvider, UsageError};
use crate::progress::Progress;
use mend_compiler::plan::CheckedPlaybook;
use mend_compiler::render::{self, Style};
use mend_compiler::{CheckOptions, check_with};
use mend_runtime::answers::{FirstOf, Race};
use mend_runtime::{
    Answer, Answers, AnswersFile, Inventory, RunOptions, Runtime, StateDirAnswers, TerminalAnswers,
};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What `plan`, `run` and `resume` share.
pub struct RunArgs {
    pub inventory: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub concurrency: usize,
    pub answers: Option<PathBuf>,
    pub json: bool,
    pub color: bool,
}

fn load_inventory(path: Option<&Path>) -> Result<Inventory, UsageError> {
    let path = path.map_or_else(|| PathBuf::from("mend.toml"), Path::to_path_buf);
    if !path.exists() {
        return Err(UsageError(format!(
            "no inventory at `{}`: give one with `--inventory FILE` (see runtime/examples/lab.mend.toml)",
            path.display()
        )));
    }
    // The error names the file itself (`FILE: line:col: …`).
    Inventory::load(&path).map_err(|e| UsageError(format!("inventory {e}")))
}

/// Checks the file and picks the playbook `on` names (or the only one).
fn checked_playbook(
    file: &Path,
    on: Option<&str>,
    color: bool,
) -> Result<Result<CheckedPlaybook, i32>, UsageError> {
    let root = files::read(file)?;
    let shown = root.path.clone();
    let c = check_with(
        vec![root],
        &FsProvider,
        CheckOptions {
            threads: 1,
            keep_plans: true,
        },
    );
    if c.has_errors() {
        for d in &c.diagnostics {
            eprintln!(
                "{}",
                render::render(d, &c.sources, Style { color, width: 100 })
            );
        }
        eprintln!("error: `{shown}` has findings: mend runs only playbooks that check clean");
        return Ok(Err(1));
    }
    let mine: Vec<_> = c
        .playbooks
        .into_iter()
        .filter(|p| p.plan.file == shown)
        .collect();
    let names: Vec<String> = mine
        .iter()
        .map(|p| format!("`{}({})`", p.plan.fault, p.plan.component))
        .collect();
    let wanted = on.map(|o| o.replace(' ', ""));
    let mut chosen: Vec<_> = mine
        .into_iter()
        .filter(|p| {
            wanted
                .as_ref()
                .is_none_or(|w| *w == format!("{}({})", p.plan.fault, p.plan.component))
        })
        .collect();
    match (chosen.len(), on) {
        (1, _) => Ok(Ok(chosen.remove(0).plan)),
        (0, Some(o)) => Err(UsageError(format!(
            "`{shown}` has no playbook `on {o}`; it has {}",
            names.join(", ")
        ))),
        (0, None) => Err(UsageError(format!("`{shown}` has no playbook"))),
        _ => Err(UsageError(format!(
            "`{shown}` has {} playbooks: choose one with `--on`: {}",
            names.len(),
            names.join(", ")
        ))),
    }
}

fn tokio() -> Result<tokio::runtime::Runtime, UsageError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| UsageError(format!("cannot start the async runtime: {e}")))
}

fn answers(args: &RunArgs) -> Result<Arc<dyn Answers>, UsageError> {
    let mut live: Vec<Arc<dyn Answers>> = vec![Arc::new(StateDirAnswers::default())];
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        live.push(Arc::new(TerminalAnswers::new()));
    }
    let live: Arc<dyn Answers> = Arc::new(Race(live));
    match &args.answers {
        Some(f) => {
            let file = AnswersFile::load(f)
                .map_err(|e| UsageError(format!("answers `{}`: {e}", f.display())))?;
            Ok(Arc::new(FirstOf(vec![Arc::new(file), live])))
        }
        None => Ok(live),
    }
}

async fn runtime(args: &RunArgs, progress: Option<Arc<Progress>>) -> Result<Runtime, UsageError> {
    let inventory = load_inventory(args.inventory.as_deref())?;
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| mend_runtime::default_state_dir(&inventory));
    let drivers = mend_runtime::connect(&inventory).await;
    let mut options = RunOptions::new(state_dir);
    options.concurrency = args.concurrency.max(1);
    let mut rt = Runtime::new(inventory, drivers, options).with_answers(answers(args)?);
    if let Some(p) = progress {
        rt = rt.with_observer(p);
    }
    Ok(rt)
}

pub fn plan(
    file: &Path,
    on: Option<&str>,
    target: &str,
    args: &RunArgs,
) -> Result<i32, UsageError> {
    let pb = match checked_playbook(file, on, args.color)? {
        Ok(pb) => pb,
        Err(code) => return Ok(code),
    };
    tokio()?.block_on(async {
        let rt = runtime(args, None).await?;
        match rt.plan(&pb, target).await {
            Ok(plan) => {
                if args.json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&plan).unwrap_or_default()
                    );
                } else {
                    print!("{plan}");
                }
                Ok(0)
            }
            Err(e) => {
                eprintln!("error: {e}");
                Ok(e.exit_code())
            }
        }
    })
}

pub fn run(file: &Path, on: Option<&str>, target: &str, args: &RunArgs) -> Result<i32, UsageError> {
    let pb = match checked_playbook(file, on, args.color)? {
        Ok(pb) => pb,
        Err(code) => return Ok(code),
    };
    tokio()?.block_on(async {
        let progress = Arc::new(Progress::new(args.json));
        let rt = runtime(args, Some(progress.clone())).await?;
        interrupt_aborts(&rt);
        let result = rt.run(&pb, target).await;
        progress.finish();
        Ok(report(result, args.json))
    })
}

pub fn resume(run_id: &str, args: &RunArgs) -> Result<i32, UsageError> {
    tokio()?.block_on(async {
        let progress = Arc::new(Progress::new(args.json));
        let rt = runtime(args, Some(progress.clone())).await?;
        interrupt_aborts(&rt);
        let result = rt.resume(run_id).await;
        progress.finish();
        Ok(report(result, args.json))
    })
}

/// Ctrl-C stops the run between steps; it stays resumable.
fn interrupt_aborts(rt: &Runtime) {
    let abort = rt.abort_signal();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "\ninterrupted: stopping after the steps in flight (`mend resume` continues)"
            );
            abort.abort();
        }
    });
}

fn report(result: Result<mend_runtime::RunSummary, mend_runtime::RuntimeError>, json: bool) -> i32 {
    match result {
        Ok(summary) => {
            if json {
                println!("{}", serde_json::to_string(&summary).unwrap_or_default());
            } else {
                eprint!("{summary}");
            }
            summary.exit_code()
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

pub fn answer(
    run_id: &str,
    step: &str,
    value: &str,
    inventory: Option<&Path>,
    state_dir: Option<&Path>,
) -> Result<i32, UsageError> {
    let Some(a) = Answer::parse(value) else {
        return Err(UsageError(format!(
            "an answer is `yes` or `no`, not `{value}`"
        )));
    };
    let dir = state_dir_of(inventory, state_dir)?;
    match mend_runtime::answer(&dir, run_id, step, a) {
        Ok(msg) => {
            eprintln!("{msg}");
            Ok(0)
        }
        Err(e) => Err(UsageError(e.0)),
    }
}

/// `mend runs`: each run, oldest first, with the questions it waits on. Human output
/// is a table; `--format json` is one object per line (`waiting` is a list), so that
/// a script never has to tell data lines from text lines.
pub fn runs(
    inventory: Option<&Path>,
    state_dir: Option<&Path>,
    json: bool,
) -> Result<i32, UsageError> {
    let dir = state_dir_of(inventory, state_dir)?;
    let runs = mend_runtime::list_runs(&dir);
    if json {
        for r in &runs {
            let waiting: Vec<serde_json::Value> = mend_runtime::pending(&dir, &r.run_id)
                .into_iter()
                .map(|q| serde_json::json!({ "step": q.step, "question": q.question }))
                .collect();
            let mut v = serde_json::to_value(r).unwrap_or_default();
            v["waiting"] = serde_json::Value::Array(waiting);
            println!("{v}");
        }
        return Ok(0);
    }
    if runs.is_empty() {
        let why = if dir.is_dir() {
            ""
        } else {
            " (it does not exist)"
        };
        println!("no runs in {}{why}", dir.display());
        return Ok(0);
    }
    println!(
        "{:<28} {:<21} {:<11} {:<24} PLAYBOOK",
        "RUN", "STARTED", "OUTCOME", "TARGET"
    );
    for r in &runs {
        let outcome = match (r.outcome, r.running) {
            (Some(o), _) => o.to_string(),
            (None, true) => "running".to_owned(),
            (None, false) => "stopped".to_owned(),
        };
        println!(
            "{:<28} {:<21} {:<11} {:<24} {}",
            r.run_id, r.started, outcome, r.target, r.playbook
        );
        for q in mend_runtime::pending(&dir, &r.run_id) {
            println!(
                "  waiting: step {}: {}  (mend answer {} {} yes|no)",
                q.step, q.question, q.run_id, q.step
            );
        }
    }
    if runs.iter().any(|r| r.outcome.is_none() && !r.running) {
        println!(
            "(stopped: suspended on a fault, or its runner died; `mend resume RUN` continues it)"
        );
    }
    Ok(0)
}

fn state_dir_of(inventory: Option<&Path>, state_dir: Option<&Path>) -> Result<PathBuf, UsageError> {
    match state_dir {
        Some(d) => Ok(d.to_path_buf()),
        None => Ok(mend_runtime::default_state_dir(&load_inventory(inventory)?)),
    }
}

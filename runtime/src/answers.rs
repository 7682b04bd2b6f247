//! Steps a person performs or confirms: how the executor gets their answer.
//!
//! - [`AnswersFile`], `--answers FILE`: a TOML table from step ID (`"4"`,
//!   `"5[task_x].0"`) or step text (`"confirm alert"`) to `yes`/`no` (or `true`/`false`).
//! - [`StateDirAnswers`]: polls `<state>/runs/<RUN>/answers/<STEP>`, which
//!   [`answer`] (`mend answer RUN STEP yes|no`) writes from another shell. While a step
//!   waits, `<state>/runs/<RUN>/pending/<STEP>` holds its question.
//! - [`TerminalAnswers`]: a `[y/n]` prompt on the terminal.
//! - [`FirstOf`] tries sources in order (a file, then the others); [`Race`] waits on
//!   several and takes the first answer (a terminal prompt *and* `mend answer`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A person's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Answer {
    Yes,
    No,
}

impl Answer {
    pub fn parse(s: &str) -> Option<Answer> {
        match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "y" | "true" | "ok" | "done" => Some(Answer::Yes),
            "no" | "n" | "false" => Some(Answer::No),
            _ => None,
        }
    }
}

/// What a person is asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub run_id: String,
    /// The run's directory (`<state>/runs/<RUN>`).
    pub run_dir: PathBuf,
    /// The step ID with the fan-out instance.
    pub step: String,
    /// The step ID in the plan.
    pub plan_step: String,
    /// The step as written.
    pub text: String,
    /// The question, with the concrete container, IP, command.
    pub question: String,
}

/// Why no answer came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AnswerError(pub String);

/// A source of answers.
#[async_trait]
pub trait Answers: Send + Sync {
    /// `Ok(None)`: this source has no answer for the question (the next is tried).
    async fn answer(&self, q: &Question) -> Result<Option<Answer>, AnswerError>;
}

/// `--answers FILE`.
#[derive(Debug, Clone, Default)]
pub struct AnswersFile {
    path: String,
    map: BTreeMap<String, Answer>,
}

impl AnswersFile {
    /// The file it was read from.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn load(path: &Path) -> Result<AnswersFile, AnswerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AnswerError(format!("cannot read answers `{}`: {e}", path.display())))?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, name: &str) -> Result<AnswersFile, AnswerError> {
        let table: toml::Table = toml::from_str(text)
            .map_err(|e| AnswerError(format!("answers `{name}`: {}", e.message())))?;
        let mut map = BTreeMap::new();
        for (k, v) in table {
            let a = match &v {
                toml::Value::Boolean(true) => Some(Answer::Yes),
                toml::Value::Boolean(false) => Some(Answer::No),
                toml::Value::String(s) => Answer::parse(s),
                _ => None,
            }
            .ok_or_else(|| AnswerError(format!("answers `{name}`: `{k}` must be yes or no")))?;
            map.insert(k, a);
        }
        Ok(AnswersFile {
            path: name.to_owned(),
            map,
        })
    }
}

#[async_trait]
impl Answers for AnswersFile {
    async fn answer(&self, q: &Question) -> Result<Option<Answer>, AnswerError> {
        Ok([&q.step, &q.plan_step, &q.text]
            .into_iter()
            .find_map(|k| self.map.get(k.as_str()).copied()))
    }
}

/// The file `mend answer` writes.
fn answer_file(run_dir: &Path, step: &str) -> PathBuf {
    run_dir.join("answers").join(step_file_name(step))
}

fn pending_file(run_dir: &Path, step: &str) -> PathBuf {
    run_dir.join("pending").join(step_file_name(step))
}

fn step_file_name(step: &str) -> String {
    step.chars()
        .map(|c| if c == '/' || c == '\0' { '_' } else { c })
        .collect()
}

/// Polls `<run>/answers/<STEP>`.
#[derive(Debug, Clone)]
pub struct StateDirAnswers {
    pub poll: Duration,
}

impl Default for StateDirAnswers {
    fn default() -> Self {
        StateDirAnswers {
            poll: Duration::from_millis(250),
        }
    }
}

#[async_trait]
impl Answers for StateDirAnswers {
    async fn answer(&self, q: &Question) -> Result<Option<Answer>, AnswerError> {
        let file = answer_file(&q.run_dir, &q.step);
        loop {
            if let Ok(text) = tokio::fs::read_to_string(&file).await
                && let Some(a) = Answer::parse(&text)
            {
                // Consumed: a step asked again (resume) asks anew.
                let _ = tokio::fs::remove_file(&file).await;
                return Ok(Some(a));
            }
            tokio::time::sleep(self.poll).await;
        }
    }
}

/// Marks a step as waiting (so that `mend answer` can check it).
pub(crate) fn set_pending(q: &Question) {
    let p = pending_file(&q.run_dir, &q.step);
    if let Some(d) = p.parent() {
        let _ = std::fs::create_dir_all(d);
    }
    let _ = std::fs::write(p, serde_json::to_vec_pretty(q).unwrap_or_default());
}

pub(crate) fn clear_pending(q: &Question) {
    let _ = std::fs::remove_file(pending_file(&q.run_dir, &q.step));
}

/// The steps of a run waiting for an answer.
pub fn pending(state_dir: &Path, run_id: &str) -> Vec<Question> {
    let dir = state_dir.join("runs").join(run_id).join("pending");
    let mut out: Vec<Question> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect();
    out.sort_by(|a, b| a.step.cmp(&b.step));
    out
}

/// `mend answer RUN STEP yes|no`: answers a waiting step of a run. STEP is the step ID
/// (with its fan-out instance) or, when only one waiting step has it, the plan's ID.
pub fn answer(
    state_dir: &Path,
    run_id: &str,
    step: &str,
    a: Answer,
) -> Result<String, AnswerError> {
    let run_dir = state_dir.join("runs").join(run_id);
    if !run_dir.is_dir() {
        return Err(AnswerError(format!(
            "no run `{run_id}` in `{}`",
            state_dir.display()
        )));
    }
    let waiting = pending(state_dir, run_id);
    let hits: Vec<&Question> = waiting
        .iter()
        .filter(|q| q.step == step || q.plan_step == step)
        .collect();
    let q = match hits.as_slice() {
        [one] => *one,
        [] if waiting.is_empty() => {
            return Err(AnswerError(format!(
                "run `{run_id}` has no step waiting for an answer"
            )));
        }
        [] => {
            return Err(AnswerError(format!(
                "step `{step}` of run `{run_id}` is not waiting; waiting: {}",
                waiting
                    .iter()
                    .map(|q| q.step.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        many => {
            return Err(AnswerError(format!(
                "`{step}` names several waiting steps: {}",
                many.iter()
                    .map(|q| q.step.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };
    let file = answer_file(&run_dir, &q.step);
    let tmp = file.with_extension("tmp");
    let text = match a {
        Answer::Yes => "yes\n",
        Answer::No => "no\n",
    };
    let io = |e: std::io::Error| AnswerError(format!("cannot write `{}`: {e}", file.display()));
    std::fs::create_dir_all(file.parent().expect("has a parent")).map_err(io)?;
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, &file).map_err(io)?;
    Ok(q.step.clone())
}

/// A `[y/n]` prompt on the terminal (stderr), read from stdin.
#[derive(Debug)]
pub struct TerminalAnswers {
    lines: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<String>>,
}

impl Default for TerminalAnswers {
    fn default() -> Self {
        Self::new()
    }
}

impl TerminalAnswers {
    pub fn new() -> Self {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        // One reader thread for the process: lines are handed to whichever prompt waits.
        std::thread::Builder::new()
            .name("mend-stdin".into())
            .spawn(move || {
                let stdin = std::io::stdin();
                let mut line = String::new();
                while stdin.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if tx.send(std::mem::take(&mut line)).is_err() {
                        break;
                    }
                }
            })
            .expect("spawning the stdin reader");
        TerminalAnswers {
            lines: tokio::sync::Mutex::new(rx),
        }
    }
}

#[async_trait]
impl Answers for TerminalAnswers {
    async fn answer(&self, q: &Question) -> Result<Option<Answer>, AnswerError> {
        let mut lines = self.lines.lock().await;
        // Lines typed before this question are not answers to it.
        while lines.try_recv().is_ok() {}
        loop {
            eprint!(
                "\n[{}] {}\n  answer [y/n] (or `mend answer {} {} yes|no`): ",
                q.step, q.question, q.run_id, q.step
            );
            match lines.recv().await {
                Some(l) => {
                    if let Some(a) = Answer::parse(&l) {
                        return Ok(Some(a));
                    }
                }
                None => return Ok(None),
            }
        }
    }
}

/// Tries each source in order; the first that has an answer gives it.
pub struct FirstOf(pub Vec<Arc<dyn Answers>>);

#[async_trait]
impl Answers for FirstOf {
    async fn answer(&self, q: &Question) -> Result<Option<Answer>, AnswerError> {
        for a in &self.0 {
            if let Some(x) = a.answer(q).await? {
                return Ok(Some(x));
            }
        }
        Ok(None)
    }
}

/// Asks every source at once; the first answer wins.
pub struct Race(pub Vec<Arc<dyn Answers>>);

#[async_trait]
impl Answers for Race {
    async fn answer(&self, q: &Question) -> Result<Option<Answer>, AnswerError> {
        let mut futs: futures_util::stream::FuturesUnordered<_> =
            self.0.iter().map(|a| a.answer(q)).collect();
        use futures_util::StreamExt;
        while let Some(r) = futs.next().await {
            if let Some(a) = r? {
                return Ok(Some(a));
            }
        }
        Ok(None)
    }
}

/// Never answers (`Ok(None)`): a step for a person fails at once with a clear message.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAnswers;

#[async_trait]
impl Answers for NoAnswers {
    async fn answer(&self, _q: &Question) -> Result<Option<Answer>, AnswerError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(run_dir: &Path, step: &str) -> Question {
        Question {
            run_id: "r1".into(),
            run_dir: run_dir.to_owned(),
            step: step.into(),
            plan_step: step.split('[').next().unwrap_or(step).into(),
            text: "confirm alert".into(),
            question: "is the alert real?".into(),
        }
    }

    #[tokio::test]
    async fn file_answers_by_id_or_text() {
        let f = AnswersFile::parse("\"3\" = \"no\"\n\"confirm alert\" = true\n", "a.toml").unwrap();
        let d = Path::new("/nonexistent");
        assert_eq!(f.answer(&q(d, "0")).await.unwrap(), Some(Answer::Yes));
        let mut q3 = q(d, "3");
        q3.text = "ask".into();
        assert_eq!(f.answer(&q3).await.unwrap(), Some(Answer::No));
        assert!(AnswersFile::parse("x = 3", "a").is_err());
    }

    #[tokio::test]
    async fn mend_answer_reaches_a_waiting_step() {
        let state = std::env::temp_dir().join(format!("mend-answers-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state);
        let run_dir = state.join("runs").join("r1");
        std::fs::create_dir_all(&run_dir).unwrap();
        let question = q(&run_dir, "5[task_x].0");
        assert!(
            answer(&state, "r1", "5[task_x].0", Answer::Yes).is_err(),
            "not pending yet"
        );
        set_pending(&question);
        let src = StateDirAnswers {
            poll: Duration::from_millis(5),
        };
        let waiter = tokio::spawn({
            let question = question.clone();
            async move { src.answer(&question).await }
        });
        // The plan ID works when it names one waiting step.
        assert_eq!(
            answer(&state, "r1", "5", Answer::No).unwrap(),
            "5[task_x].0"
        );
        assert_eq!(waiter.await.unwrap().unwrap(), Some(Answer::No));
        clear_pending(&question);
        assert!(pending(&state, "r1").is_empty());
        std::fs::remove_dir_all(&state).unwrap();
    }
}

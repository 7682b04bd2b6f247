use super::*;
use crate::answers::StateDirAnswers;
use crate::driver::ContainerState;
use crate::run::{RuntimeError, list_runs};
use crate::summary::{Outcome, StepStatus};

/// Keeps the journal up to (and with) the intent of `step`: what a runner killed
/// while that step was in flight leaves behind.
fn cut_after_intent(journal: &str, step: &str) {
    let text = std::fs::read_to_string(journal).unwrap();
    let needle = format!("\"t\":\"intent\",\"step\":\"{step}\"");
    let mut kept = String::new();
    for line in text.lines() {
        kept.push_str(line);
        kept.push('\n');
        if line.contains(&needle) {
            break;
        }
    }
    assert!(kept.contains(&needle), "no intent of {step}");
    std::fs::write(journal, kept).unwrap();
}

fn last_run(state: &std::path::Path) -> String {
    list_runs(state).pop().expect("a run").run_id
}

#[tokio::test]
async fn resume_after_a_crash_mid_create_skips_finished_steps() {
    let w = world();
    let state = temp_state("resume-create");
    let (rt, _obs) = runtime(&w, &state);
    let before = w.files("b1");
    w.delay("create", Duration::from_secs(60));
    // The runner "dies" while the container is being created: the run future is dropped.
    let pb = playbook(hardware_fault_body());
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rt.run(&pb, "b1"))
            .await
            .is_err()
    );
    assert!(w.container("b1").is_none(), "removed, not created yet");
    w.clear_delay("create");
    let run_id = last_run(&state);
    let s = rt.resume(&run_id).await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    let replayed: Vec<&str> = s
        .steps
        .iter()
        .filter(|r| r.replayed)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(replayed, ["0", "1", "2.0.0", "2.0.1", "3"]);
    assert_eq!(w.count("copy_out"), 1, "backup not taken twice");
    assert_eq!(w.count("remove"), 1, "old container not removed twice");
    assert_eq!(
        w.files("b1"),
        before,
        "restored from the first run's backup"
    );
    assert_eq!(
        w.container("b1").unwrap().ip.as_deref(),
        Some("172.29.213.11")
    );
    // The role learned before the crash was replayed, not looked up again.
    assert_eq!(w.count("zk_data"), 1);
    // A finished run is not resumed.
    assert!(matches!(
        rt.resume(&run_id).await,
        Err(RuntimeError::AlreadyFinished { .. })
    ));
}

#[tokio::test]
async fn resume_reconciles_a_recreate_that_had_finished() {
    let w = world();
    let state = temp_state("resume-recreated");
    let (rt, _obs) = runtime(&w, &state);
    let before = w.files("b1");
    w.delay("copy_in", Duration::from_secs(60));
    let pb = playbook(hardware_fault_body());
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rt.run(&pb, "b1"))
            .await
            .is_err()
    );
    w.clear_delay("copy_in");
    let run_id = last_run(&state);
    // The recreate had finished but its outcome never reached the disk.
    let journal = state.join("runs").join(&run_id).join("journal.jsonl");
    cut_after_intent(journal.to_str().unwrap(), "4");
    let created = w.container("b1").unwrap();
    assert_eq!(created.state, ContainerState::Created);
    let s = rt.resume(&run_id).await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    let step4 = s.steps.iter().find(|r| r.id == "4").unwrap();
    assert_eq!(step4.status, StepStatus::Reconciled, "{s}");
    assert_eq!(w.count("create"), 1, "not created twice");
    assert_eq!(w.container("b1").unwrap().id, created.id);
    assert_eq!(w.files("b1"), before);
}

#[tokio::test]
async fn resume_reconciles_a_complete_backup() {
    let w = world();
    let state = temp_state("resume-backup");
    // Nobody answers `decommission`: the runner dies while it waits.
    let rt = Runtime::new(inventory(), w.drivers(), options(&state)).with_answers(Arc::new(
        crate::answers::FirstOf(vec![
            Arc::new(AnswersFile::parse("\"confirm alert\" = \"yes\"", "a").unwrap()),
            Arc::new(StateDirAnswers::default()),
        ]),
    ));
    let pb = playbook(hardware_fault_body());
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rt.run(&pb, "b1"))
            .await
            .is_err()
    );
    let run_id = last_run(&state);
    let journal = state.join("runs").join(&run_id).join("journal.jsonl");
    cut_after_intent(journal.to_str().unwrap(), "2.0.0");
    let (rt, _obs) = runtime(&w, &state);
    let s = rt.resume(&run_id).await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    let b = s.steps.iter().find(|r| r.id == "2.0.0").unwrap();
    assert_eq!(b.status, StepStatus::Reconciled, "{s}");
    assert_eq!(w.count("copy_out"), 1);
}

#[tokio::test]
async fn interrupt_leaves_a_resumable_run() {
    let w = world();
    let state = temp_state("interrupt");
    let rt = Arc::new(
        Runtime::new(inventory(), w.drivers(), options(&state)).with_answers(Arc::new(
            StateDirAnswers {
                poll: Duration::from_millis(5),
            },
        )),
    );
    let pb = playbook(Node::Seq(vec![
        step("0", Action::Restart),
        step("1", Action::ConfirmAlert),
        step("2", Action::Stop),
    ]));
    let abort = rt.abort_signal();
    let task = tokio::spawn({
        let (rt, pb) = (rt.clone(), pb.clone());
        async move { rt.run(&pb, "b1").await }
    });
    while list_runs(&state).is_empty()
        || crate::answers::pending(&state, &last_run(&state)).is_empty()
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    abort.abort();
    let s = task.await.unwrap().unwrap();
    assert_eq!(s.outcome, Outcome::Aborted);
    assert!(s.message.contains("mend resume"), "{}", s.message);
    assert_eq!(list_runs(&state)[0].outcome, None, "no end record");
    let (rt2, _obs) = runtime(&w, &state);
    let s = rt2.resume(&s.run_id).await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    assert_eq!((w.count("restart"), w.count("stop")), (1, 1));
}

use super::*;

fn header() -> Header {
    Header {
        version: JOURNAL_VERSION,
        run_id: "r1".into(),
        playbook: "p.mend".into(),
        fault: "hardware_fault".into(),
        component: "mq_broker".into(),
        target: "b1".into(),
        instance: "b1".into(),
        peer: None,
        plan_hash: "h".into(),
        started: crate::clock::now(),
        pid: 1,
    }
}

fn intent(step: &str) -> Record {
    Record::Intent {
        step: step.into(),
        action: "restart".into(),
        target: "b1".into(),
        ts: String::new(),
        detail: BTreeMap::new(),
    }
}

fn outcome(step: &str) -> Record {
    Record::Outcome {
        step: step.into(),
        status: StepStatus::Ok,
        message: "done".into(),
        learned: [("role:b1".to_owned(), "master".to_owned())].into(),
        attempts: 1,
        elapsed_ms: 1,
        ts: String::new(),
    }
}

#[tokio::test]
async fn write_then_replay() {
    let dir = std::env::temp_dir().join(format!("mend-journal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("journal.jsonl");
    let j = Journal::create(&path).unwrap();
    j.append(&Record::Header(header()), true).await.unwrap();
    j.append(&intent("0"), true).await.unwrap();
    j.append(&outcome("0"), true).await.unwrap();
    j.append(&intent("1"), true).await.unwrap();
    j.close();
    // A torn line at the end, as a SIGKILL mid-write leaves.
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(b"{\"t\":\"outcome\",\"step\":\"1\",\"sta")
        .unwrap();
    drop(f);
    let loaded = Loaded::read(&path).unwrap();
    assert_eq!(loaded.header.run_id, "r1");
    let replay = loaded.replay();
    assert!(replay.finished.contains_key("0"));
    assert!(replay.in_flight.contains_key("1"));
    assert_eq!(replay.learned["role:b1"], "master");
    // Reopening cuts the torn line; new records are readable.
    let j = Journal::open(&path).unwrap();
    j.append(&outcome("1"), true).await.unwrap();
    j.close();
    let replay = Loaded::read(&path).unwrap().replay();
    assert!(replay.in_flight.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_middle_line_is_an_error() {
    let dir = std::env::temp_dir().join(format!("mend-journal-c-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("journal.jsonl");
    let h = serde_json::to_string(&Record::Header(header())).unwrap();
    std::fs::write(&path, format!("{h}\nnot json\n{h}\n")).unwrap();
    assert!(matches!(
        Loaded::read(&path),
        Err(JournalError::Corrupt { line: 2, .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

use super::*;
use crate::answers::{Answer, StateDirAnswers};
use crate::driver::ContainerState;
use crate::list_runs;
use crate::observer::Event;
use crate::summary::{Outcome, StepStatus};
use mend_compiler::plan::{Condition, Scope};

#[tokio::test]
async fn hardware_fault_master_restores_its_own_store_with_the_same_ip() {
    let w = world();
    let state = temp_state("hw-master");
    let (rt, _obs) = runtime(&w, &state);
    let before = w.files("b1");
    let old = w.container("b1").unwrap();
    let s = rt
        .run(&playbook(hardware_fault_body()), "b1")
        .await
        .unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    let new = w.container("b1").unwrap();
    assert_ne!(new.id, old.id, "recreated");
    assert_eq!(new.ip, old.ip, "same IP");
    assert_eq!(new.state, ContainerState::Running);
    assert_eq!(w.files("b1"), before, "store byte-identical");
    assert_eq!(s.accepted_losses.len(), 1);
    assert_eq!(s.exit_code(), 0);
    // The role came from ZooKeeper.
    assert!(
        s.steps
            .iter()
            .any(|r| r.id == "1" && r.message.contains("master")),
        "{s}"
    );
}

#[tokio::test]
async fn hardware_fault_on_a_lost_master_backs_up_the_peer() {
    let w = world();
    let state = temp_state("hw-lost");
    let (rt, _obs) = runtime(&w, &state);
    // Seen once (plan refreshes the snapshot cache), then the host is lost.
    rt.plan(&playbook(hardware_fault_body()), "b1")
        .await
        .unwrap();
    w.drop_container("b1");
    let s = rt
        .run(&playbook(hardware_fault_body()), "172.29.213.11")
        .await
        .unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    let backup = s.steps.iter().find(|r| r.id == "2.0.0").unwrap();
    assert!(backup.message.contains("b2 (peer)"), "{}", backup.message);
    assert_eq!(
        w.files("b1"),
        w.files("b2"),
        "restored from the peer's store"
    );
    assert_eq!(
        w.container("b1").unwrap().ip.as_deref(),
        Some("172.29.213.11")
    );
}

#[tokio::test]
async fn par_and_each_respect_the_global_and_each_limits() {
    let w = world();
    for i in 3..=8 {
        w.add_container(
            &format!("b{i}"),
            &format!("172.29.213.{}", 10 + i),
            &[("ark.component", "mq-broker")],
        );
    }
    w.delay("restart", Duration::from_millis(30));
    let state = temp_state("par");
    let (mut rt, _obs) = runtime(&w, &state);
    let body = Node::Each {
        id: "0".into(),
        var: "c".into(),
        scope: Scope::Component("mq_broker".into()),
        body: Box::new(step_on("0.0", Action::Restart, Target::Var("c".into()))),
        limit: 3,
    };
    let s = rt.run(&playbook(body.clone()), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    assert_eq!(w.count("restart"), 8);
    assert_eq!(w.max_in_flight(), 3, "each limit");
    assert!(
        s.steps.iter().any(|r| r.id == "0[b5].0"),
        "ids name the instance: {s}"
    );

    let w = world();
    for i in 3..=8 {
        w.add_container(
            &format!("b{i}"),
            &format!("172.29.213.{}", 10 + i),
            &[("ark.component", "mq-broker")],
        );
    }
    w.delay("restart", Duration::from_millis(30));
    let mut o = options(&state);
    o.concurrency = 2;
    rt = Runtime::new(inventory(), w.drivers(), o);
    let par = Node::Par(
        (1..=6)
            .map(|i| step_on(&i.to_string(), Action::Restart, Target::Var("x".into())))
            .collect(),
    );
    let each = Node::Each {
        id: "0".into(),
        var: "x".into(),
        scope: Scope::Component("mq_broker".into()),
        body: Box::new(par),
        limit: 0,
    };
    let s = rt.run(&playbook(each), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    assert_eq!(w.max_in_flight(), 2, "global --concurrency");
}

/// A step past its timeout is a fault: the run is suspended (exit 6, no end record,
/// the step in flight), and `resume` runs the step again once it answers.
#[tokio::test]
async fn timeout_suspends_a_hung_step_and_resume_finishes_it() {
    let w = world();
    w.delay("exec", Duration::from_secs(30));
    let state = temp_state("timeout");
    let (rt, _obs) = runtime(&w, &state);
    let body = Node::Seq(vec![
        with(step("0", Action::Probe), |s| {
            s.timeout = Duration::from_millis(50);
        }),
        step("1", Action::Restart),
    ]);
    let s = rt.run(&playbook(body.clone()), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Suspended, "{s}");
    assert_eq!(s.exit_code(), crate::summary::EXIT_SUSPENDED);
    assert_eq!(s.steps[0].status, StepStatus::Suspended);
    assert!(s.steps[0].message.contains("timed out after 50ms"), "{s}");
    assert!(s.message.contains("mend resume"), "{}", s.message);
    assert_eq!(w.count("restart"), 0, "nothing after the fault");
    assert_eq!(list_runs(&state)[0].outcome, None, "no end record");
    assert!(!list_runs(&state)[0].running, "stopped: its lock is let go");
    let loaded = crate::journal::Loaded::read(std::path::Path::new(&s.journal)).unwrap();
    let replay = loaded.replay();
    assert!(replay.in_flight.contains_key("0") && !replay.finished.contains_key("0"));

    w.clear_delay("exec");
    let (rt2, _obs) = runtime(&w, &state);
    let again = rt2.resume(&s.run_id).await.unwrap();
    assert_eq!(again.outcome, Outcome::Succeeded, "{again}");
    assert_eq!(again.steps[0].status, StepStatus::Ok, "{again}");
    assert!(!again.steps[0].replayed, "run again, not replayed");
    assert_eq!(w.count("restart"), 1);
}

/// The engine unreachable during a probe suspends the run (the probe said nothing);
/// an unhealthy probe still fails it.
#[tokio::test]
async fn an_unreachable_engine_during_a_probe_suspends() {
    let w = world();
    let state = temp_state("probe-fault");
    let (rt, _obs) = runtime(&w, &state);
    w.fail_next("exec", 1, "unreachable: connection refused");
    let s = rt
        .run(&playbook(step("0", Action::Probe)), "b1")
        .await
        .unwrap();
    assert_eq!(s.outcome, Outcome::Suspended, "{s}");
    assert!(s.steps[0].message.contains("connection refused"), "{s}");
    let (rt2, _obs) = runtime(&w, &state);
    let again = rt2.resume(&s.run_id).await.unwrap();
    assert_eq!(again.outcome, Outcome::Succeeded, "{again}");

    let state = temp_state("probe-unhealthy");
    let (rt, _obs) = runtime(&w, &state);
    w.set_probe_exit("b1", 1);
    let s = rt
        .run(&playbook(step("0", Action::Probe)), "b1")
        .await
        .unwrap();
    assert_eq!(s.outcome, Outcome::Failed, "{s}");
}

/// `verify within` polls through an unreachable engine (an outage may pass); when
/// the bound passes and the engine still does not answer, the run is suspended, not
/// failed: nothing was learned about the container's health.
#[tokio::test]
async fn verify_through_an_unreachable_engine_suspends_at_its_bound() {
    let w = world();
    let state = temp_state("verify-fault");
    let (rt, _obs) = runtime(&w, &state);
    w.fail_next("inspect", 1_000, "unreachable: connection refused");
    let verify = step(
        "0",
        Action::Verify {
            within: Duration::from_millis(30),
        },
    );
    let s = rt.run(&playbook(verify.clone()), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Suspended, "{s}");
    assert!(s.steps[0].message.contains("not within"), "{s}");
    assert!(s.steps[0].message.contains("connection refused"), "{s}");

    w.fail_next("inspect", 0, "");
    let (rt2, _obs) = runtime(&w, &state);
    let again = rt2.resume(&s.run_id).await.unwrap();
    assert_eq!(again.outcome, Outcome::Succeeded, "{again}");

    // An unhealthy answer at the bound still fails it.
    let state = temp_state("verify-unhealthy");
    let (rt, _obs) = runtime(&w, &state);
    w.set_probe_exit("b1", 1);
    let s = rt.run(&playbook(verify), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Failed, "{s}");
}

/// `backup store from self or none`: a fault while copying says nothing about the
/// store, so the backup stops (suspended) rather than going on to `none`; a copy
/// that fails otherwise (the store unreadable) still goes on to the next source.
#[tokio::test]
async fn a_fault_stops_a_backup_from_falling_back_to_none() {
    let w = world();
    let body = || {
        Node::Seq(vec![
            step(
                "0",
                Action::Backup {
                    sources: vec![BackupSource::SelfNode, BackupSource::None],
                },
            ),
            step("1", Action::Restart),
        ])
    };
    let state = temp_state("backup-fault");
    let (rt, _obs) = runtime(&w, &state);
    w.fail_next("copy_out", 1, "unreachable: engine gone");
    let s = rt.run(&playbook(body()), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Suspended, "{s}");
    assert_eq!(w.count("restart"), 0, "nothing after the fault: {s}");

    let state = temp_state("backup-broken");
    let (rt, _obs) = runtime(&w, &state);
    w.fail_next("copy_out", 1, "no such file: the store is gone");
    let s = rt.run(&playbook(body()), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    assert!(s.steps[0].message.contains("from none"), "{s}");
}

/// No `catch` takes a fault and no `finally` runs on it: the body is paused, not
/// exited (the handlers run when it does, after `resume`).
#[tokio::test]
async fn a_fault_is_not_caught() {
    let w = world();
    w.delay("exec", Duration::from_secs(30));
    let state = temp_state("fault-try");
    let (rt, _obs) = runtime(&w, &state);
    let body = Node::Try {
        body: Box::new(with(step("0.0", Action::Probe), |s| {
            s.timeout = Duration::from_millis(50);
        })),
        catch: Some(Box::new(step("0.1", Action::Restart))),
        finally: Some(Box::new(step("0.2", Action::Stop))),
    };
    let s = rt.run(&playbook(body), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Suspended, "{s}");
    assert_eq!((w.count("restart"), w.count("stop")), (0, 0), "{s}");
}

#[tokio::test]
async fn retries_only_idempotent_actions() {
    let w = world();
    let state = temp_state("retry");
    let (rt, obs) = runtime(&w, &state);
    w.fail_next("restart", 2, "engine busy");
    let body = with(step("0", Action::Restart), |s| s.retry = 3);
    let s = rt.run(&playbook(body), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    assert_eq!(s.steps[0].attempts, 3);
    let retries = obs
        .take()
        .iter()
        .filter(|e| matches!(e, Event::StepRetrying { .. }))
        .count();
    assert_eq!(retries, 2);

    // `exec` is not idempotent: a retry count does not make it run twice.
    w.fail_next("exec", 1, "boom");
    let body = with(
        step(
            "0",
            Action::Exec {
                argv: vec!["touch".into(), "/x".into()],
            },
        ),
        |s| s.retry = 3,
    );
    let s = rt.run(&playbook(body), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Failed);
    assert_eq!(s.steps[0].attempts, 1);
    assert_eq!(w.count("exec"), 1);
}

#[tokio::test]
async fn try_catch_continues_and_finally_always_runs() {
    let w = world();
    w.set_probe_exit("b1", 1);
    let state = temp_state("try");
    let (rt, _obs) = runtime(&w, &state);
    // catch: handled, the run goes on after the try.
    let body = Node::Seq(vec![
        Node::Try {
            body: Box::new(step("0.0", Action::Probe)),
            catch: Some(Box::new(step("0.1", Action::Restart))),
            finally: Some(Box::new(step("0.2", Action::Start))),
        },
        step("1", Action::Stop),
    ]);
    let s = rt.run(&playbook(body), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    assert_eq!(
        (w.count("restart"), w.count("start"), w.count("stop")),
        (1, 1, 1)
    );

    // finally without catch: runs, and the failure goes on after it.
    let body = Node::Seq(vec![
        Node::Try {
            body: Box::new(step("0.0", Action::Probe)),
            catch: None,
            finally: Some(Box::new(step("0.2", Action::Start))),
        },
        step("1", Action::Stop),
    ]);
    let s = rt.run(&playbook(body), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Failed, "{s}");
    assert_eq!(
        (w.count("start"), w.count("stop")),
        (2, 1),
        "finally ran, the next step did not"
    );

    // finally also runs when the body escalates.
    let body = Node::Try {
        body: Box::new(step(
            "0.0",
            Action::Escalate {
                text: "call the DBA".into(),
            },
        )),
        catch: Some(Box::new(step("0.1", Action::Restart))),
        finally: Some(Box::new(step("0.2", Action::Start))),
    };
    let s = rt.run(&playbook(body), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Escalated);
    assert_eq!(
        (w.count("restart"), w.count("start")),
        (1, 3),
        "no catch on escalation, finally yes"
    );
}

#[tokio::test]
async fn escalate_ends_the_run() {
    let w = world();
    let state = temp_state("escalate");
    let (rt, _obs) = runtime(&w, &state);
    let body = Node::Seq(vec![
        step(
            "0",
            Action::Escalate {
                text: "replication of {name} cannot be repaired: call a database expert".into(),
            },
        ),
        step("1", Action::Restart),
    ]);
    let s = rt.run(&playbook(body), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Escalated);
    assert_eq!(s.exit_code(), 3);
    assert_eq!(
        s.message,
        "replication of b1 cannot be repaired: call a database expert"
    );
    assert_eq!(w.count("restart"), 0);
}

#[tokio::test]
async fn match_takes_the_branch_of_the_role_and_when_reads_conditions() {
    let w = world();
    let state = temp_state("match");
    let (rt, obs) = runtime(&w, &state);
    let body = Node::Seq(vec![
        step("0", Action::LookupRole),
        Node::Match {
            id: "1".into(),
            subject: "role".into(),
            target: Target::SelfNode,
            arms: vec![
                (vec!["master".into()], step("1.0", Action::Stop)),
                (vec!["_".into()], step("1.1", Action::Restart)),
            ],
        },
        Node::When {
            id: "2".into(),
            condition: Condition::Equals {
                subject: "role".into(),
                value: "slave".into(),
            },
            then: Box::new(step("2.0", Action::Restart)),
            otherwise: Some(Box::new(step("2.1", Action::Start))),
        },
    ]);
    let s = rt.run(&playbook(body.clone()), "b2").await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    assert_eq!(
        (w.count("stop"), w.count("restart"), w.count("start")),
        (0, 2, 0)
    );
    let decisions: Vec<String> = obs
        .take()
        .into_iter()
        .filter_map(|e| match e {
            Event::Decision { subject, value, .. } => Some(format!("{subject}={value}")),
            _ => None,
        })
        .collect();
    assert_eq!(decisions, ["role=slave", "role == slave=true"]);
    // A match without a role looked up first fails with a clear message.
    let body = Node::Match {
        id: "0".into(),
        subject: "role".into(),
        target: Target::SelfNode,
        arms: vec![(vec!["_".into()], step("0.0", Action::Stop))],
    };
    let s = rt.run(&playbook(body), "b2").await.unwrap();
    assert_eq!(s.outcome, Outcome::Failed);
    assert!(s.message.contains("no `lookup role` ran"), "{}", s.message);
}

#[tokio::test]
async fn nodes_down_and_host_fan_out() {
    let w = world();
    w.set_state("b1", ContainerState::Exited);
    w.set_state("x1", ContainerState::Exited);
    let state = temp_state("host");
    let (rt, _obs) = runtime(&w, &state);
    let body = Node::Seq(vec![
        Node::When {
            id: "0".into(),
            condition: Condition::Predicate {
                name: "all_down".into(),
                argument: "mq_broker".into(),
            },
            then: Box::new(step(
                "0.0",
                Action::Escalate {
                    text: "all down".into(),
                },
            )),
            otherwise: None,
        },
        Node::Each {
            id: "1".into(),
            var: "c".into(),
            scope: Scope::Host,
            body: Box::new(Node::Seq(vec![
                step_on("1.0", Action::Restart, Target::Var("c".into())),
                step_on("1.1", Action::Probe, Target::Var("c".into())),
            ])),
            limit: 8,
        },
    ]);
    let s = rt.run(&playbook(body), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    let ids: Vec<&str> = s.steps.iter().map(|r| r.id.as_str()).collect();
    assert!(
        ids.contains(&"1[b1].1") && ids.contains(&"1[x1].1"),
        "{ids:?}"
    );
    assert!(
        !ids.iter().any(|i| i.contains("b2")),
        "b2 is on another host"
    );
    assert_eq!(w.container("x1").unwrap().state, ContainerState::Running);
}

#[tokio::test]
async fn confirm_alert_no_aborts_without_touching_anything() {
    let w = world();
    let state = temp_state("abort");
    let rt = Runtime::new(inventory(), w.drivers(), options(&state))
        .with_answers(Arc::new(AnswersFile::parse("\"0\" = \"no\"", "a").unwrap()));
    let body = Node::Seq(vec![
        step("0", Action::ConfirmAlert),
        step("1", Action::Restart),
    ]);
    let s = rt.run(&playbook(body), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Aborted);
    assert_eq!(s.exit_code(), 4);
    assert_eq!(s.steps[0].status, StepStatus::Aborted);
    assert_eq!(w.count("restart"), 0);
}

#[tokio::test]
async fn mend_answer_unblocks_a_waiting_step_and_the_lock_refuses_a_second_run() {
    let w = world();
    let state = temp_state("answer");
    let rt = Arc::new(
        Runtime::new(inventory(), w.drivers(), options(&state)).with_answers(Arc::new(
            StateDirAnswers {
                poll: Duration::from_millis(5),
            },
        )),
    );
    let body = Node::Seq(vec![
        step(
            "0",
            Action::Ask {
                text: "scale up DRDS node {ip}".into(),
            },
        ),
        step("1", Action::Restart),
    ]);
    let pb = playbook(body);
    let task = tokio::spawn({
        let (rt, pb) = (rt.clone(), pb.clone());
        async move { rt.run(&pb, "b1").await }
    });
    let run_id = loop {
        if let Some(r) = crate::run::list_runs(&state).pop()
            && !crate::answers::pending(&state, &r.run_id).is_empty()
        {
            break r.run_id;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let q = &crate::answers::pending(&state, &run_id)[0];
    assert_eq!(q.question, "scale up DRDS node 172.29.213.11");
    // While it waits, the target is locked.
    let e = rt.run(&pb, "b1").await.unwrap_err();
    assert_eq!(e.exit_code(), crate::summary::EXIT_LOCKED);
    assert!(e.to_string().contains(&run_id), "{e}");
    crate::answers::answer(&state, &run_id, "0", Answer::Yes).unwrap();
    let s = task.await.unwrap().unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    assert_eq!(w.count("restart"), 1);
    // Released: the next run may go.
    assert!(crate::lock::TargetLock::holder(&state, "b1").is_none());
}

#[tokio::test]
async fn secrets_never_reach_journal_summary_or_events() {
    let secret = crate::secret::Secret::new("Sup3r-S3cret-Pw");
    let w = world();
    let state = temp_state("secret");
    let (rt, obs) = runtime(&w, &state);
    w.fail_next(
        "restart",
        1,
        &format!("login failed for password {}", secret.expose()),
    );
    let s = rt
        .run(&playbook(step("0", Action::Restart)), "b1")
        .await
        .unwrap();
    assert_eq!(s.outcome, Outcome::Failed);
    let journal = std::fs::read_to_string(&s.journal).unwrap();
    assert!(journal.contains("<redacted>"), "{journal}");
    assert!(!journal.contains("Sup3r-S3cret-Pw"));
    assert!(!format!("{s}{s:?}").contains("Sup3r-S3cret-Pw"));
    assert!(!format!("{:?}", obs.take()).contains("Sup3r-S3cret-Pw"));
}

#[tokio::test]
async fn mysql_steps_report_smart_as_idempotent() {
    use crate::driver::fake::FakeDb;
    let w = world();
    let mut replica =
        crate::driver::ReplicaStatus::from_columns(&std::collections::BTreeMap::default());
    replica.io_running = true;
    replica.io_state = "Yes".into();
    replica.last_sql_errno = 1062;
    replica.last_sql_error = "Duplicate entry '7' for key 'PRIMARY'".into();
    w.add_db("db_a", FakeDb::default());
    w.add_db(
        "db_b",
        FakeDb {
            read_only: true,
            replica: Some(replica),
            ..FakeDb::default()
        },
    );
    let state = temp_state("mysql");
    let (rt, obs) = runtime(&w, &state);
    let mut pb = playbook(Node::Seq(vec![
        step("0", Action::LookupRole),
        Node::Match {
            id: "1".into(),
            subject: "replica_error".into(),
            target: Target::SelfNode,
            arms: vec![
                (
                    vec!["duplicate_key".into()],
                    Node::Try {
                        body: Box::new(Node::Seq(vec![
                            step("1.0.0", Action::StopReplica),
                            step("1.0.1", Action::SetExecMode { lenient: true }),
                            step("1.0.2", Action::StartReplica),
                            step(
                                "1.0.3",
                                Action::WaitReplicaHealthy {
                                    within: Duration::from_secs(1),
                                },
                            ),
                        ])),
                        catch: None,
                        finally: Some(Box::new(Node::Seq(vec![
                            step("1.1.0", Action::StopReplica),
                            step("1.1.1", Action::SetExecMode { lenient: false }),
                            step("1.1.2", Action::StartReplica),
                        ]))),
                    },
                ),
                (
                    vec!["_".into()],
                    step(
                        "1.2",
                        Action::Escalate {
                            text: "call a DBA".into(),
                        },
                    ),
                ),
            ],
        },
        step(
            "2",
            Action::Verify {
                within: Duration::from_secs(1),
            },
        ),
    ]));
    pb.component = "dbnode".into();
    let s = rt.run(&pb, "db_b").await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    assert!(
        s.steps
            .iter()
            .any(|r| r.id == "0" && r.message.contains("slave")),
        "{s}"
    );
    let db = w.db("db_b").unwrap();
    assert_eq!(db.exec_mode, "STRICT", "switched back");
    assert!(db.replica.unwrap().healthy());
    let notes: Vec<String> = obs
        .take()
        .into_iter()
        .filter_map(|e| match e {
            Event::Note { message, .. } => Some(message),
            _ => None,
        })
        .collect();
    assert!(notes.iter().any(|n| n.contains("SMART")), "{notes:?}");
}

#[tokio::test]
async fn match_arms_are_tried_in_order() {
    let w = world();
    let state = temp_state("arm-order");
    let (rt, _obs) = runtime(&w, &state);
    let body = Node::Seq(vec![
        step("0", Action::LookupRole),
        Node::Match {
            id: "1".into(),
            subject: "role".into(),
            target: Target::SelfNode,
            arms: vec![
                (vec!["_".into()], step("1.0", Action::Restart)),
                (vec!["master".into()], step("1.1", Action::Stop)),
            ],
        },
    ]);
    let s = rt.run(&playbook(body), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    assert_eq!(
        (w.count("restart"), w.count("stop")),
        (1, 0),
        "the arm after `_` is never taken"
    );
}

#[tokio::test]
async fn a_failure_inside_finally_is_not_caught_by_an_outer_catch() {
    let w = world();
    w.set_probe_exit("b1", 1);
    let state = temp_state("finally-fatal");
    let (rt, _obs) = runtime(&w, &state);
    let body = Node::Seq(vec![
        Node::Try {
            body: Box::new(Node::Try {
                body: Box::new(step("0.0.0", Action::Start)),
                catch: None,
                finally: Some(Box::new(step("0.0.1", Action::Probe))),
            }),
            catch: Some(Box::new(step("0.1", Action::Restart))),
            finally: None,
        },
        step("1", Action::Stop),
    ]);
    let s = rt.run(&playbook(body), "b1").await.unwrap();
    assert_eq!(s.outcome, Outcome::Failed, "{s}");
    assert_eq!((w.count("restart"), w.count("stop")), (0, 0));
}

#[tokio::test]
async fn host_of_a_mysql_component_fans_out_over_its_servers_on_the_host() {
    use crate::driver::fake::FakeDb;
    let w = world();
    for db in ["db_a", "db_b", "db_c"] {
        w.add_db(db, FakeDb::default());
    }
    let inv = Inventory::parse(
        "[ssh.h1]\naddress = \"10.0.0.1\"\n[ssh.h2]\naddress = \"10.0.0.2\"\n\
         [mysql.db_a]\ncomponent = \"dbnode\"\nhost = \"10.0.0.1\"\nport = 3306\nuser = \"u\"\nssh = \"h1\"\n\
         [mysql.db_b]\ncomponent = \"dbnode\"\nhost = \"10.0.0.1\"\nport = 3307\nuser = \"u\"\nssh = \"h1\"\n\
         [mysql.db_c]\ncomponent = \"dbnode\"\nhost = \"10.0.0.2\"\nport = 3306\nuser = \"u\"\nssh = \"h2\"\n",
        "mend.toml",
        None,
    )
    .unwrap();
    let state = temp_state("host-of");
    let rt = Runtime::new(inv, w.drivers(), options(&state)).with_answers(yes_to_all());
    let mut pb = playbook(Node::Each {
        id: "0".into(),
        var: "db".into(),
        scope: Scope::HostOf("dbnode".into()),
        body: Box::new(Node::Seq(vec![
            step_on("0.0", Action::StartupMysql, Target::Var("db".into())),
            step_on("0.1", Action::StartReplica, Target::Var("db".into())),
        ])),
        limit: 4,
    });
    pb.component = "dbnode".into();
    let plan = rt.plan(&pb, "db_a").await.unwrap().to_string();
    assert!(
        plan.contains("each db on host(dbnode): 2 instances"),
        "{plan}"
    );
    let s = rt.run(&pb, "db_a").await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    let ids: Vec<&str> = s.steps.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert!(
        ids.contains(&"0[db_b].1") && !ids.iter().any(|i| i.contains("db_c")),
        "{ids:?}"
    );
    // No SSH: `startup mysql` went to a person, with the exact command.
    let startup = s.steps.iter().find(|r| r.id == "0[db_a].0").unwrap();
    assert_eq!(startup.message, "done by a person");
}

use super::*;
use crate::driver::fake::FakeDb;

#[tokio::test]
async fn plan_is_read_only_and_concrete() {
    let w = world();
    w.add_db("db_a", FakeDb::default());
    w.add_db(
        "db_b",
        FakeDb {
            read_only: true,
            ..FakeDb::default()
        },
    );
    let state = temp_state("plan");
    let (rt, _obs) = runtime(&w, &state);
    let plan = rt
        .plan(&playbook(hardware_fault_body()), "172.29.213.11")
        .await
        .unwrap();
    let text = plan.to_string();
    assert!(text.contains("target: b1 (172.29.213.11"), "{text}");
    assert!(text.contains("peer:   b2"), "{text}");
    assert!(text.contains("match role (now: master)"), "{text}");
    assert!(text.contains("IP 172.29.213.11 (kept)"), "{text}");
    assert!(text.contains("not started"), "{text}");
    assert!(text.contains("destroys /home/admin/store"), "{text}");

    let mut pb = playbook(Node::Seq(vec![
        step("0", Action::SetExecMode { lenient: true }),
        step("1", Action::StartupMysql),
    ]));
    pb.component = "dbnode".into();
    let text = rt.plan(&pb, "db_b").await.unwrap().to_string();
    assert!(text.contains("SMART will be IDEMPOTENT"), "{text}");
    assert!(text.contains("myadm -P 33062 -d startup"), "{text}");
    assert!(text.contains("becomes a step for a person"), "{text}");

    let mutating: Vec<_> = w.calls().into_iter().filter(|c| c.mutating).collect();
    assert!(
        mutating.is_empty(),
        "plan made mutating calls: {mutating:?}"
    );
    assert!(w.calls().len() > 5, "it did read");
}

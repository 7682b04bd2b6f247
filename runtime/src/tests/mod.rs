//! Executor, resume and planner tests over the fake world.

mod executor;
mod planner;
mod resume;

use crate::answers::{Answers, AnswersFile};
use crate::driver::fake::FakeWorld;
use crate::executor::RunOptions;
use crate::inventory::Inventory;
use crate::observer::CollectingObserver;
use crate::run::Runtime;
use mend_compiler::plan::{
    Action, BackupSource, CheckedPlaybook, ComponentSpec, Engine, Node, Probe, Role, RoleSource,
    Step, Target,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub(crate) const STORE: &str = "/home/admin/store";

pub(crate) fn broker_spec() -> ComponentSpec {
    ComponentSpec {
        name: "mq_broker".into(),
        stateful: true,
        selectors: vec![("ark.component".into(), "mq-broker".into())],
        store: Some(STORE.into()),
        fixed_ip: true,
        role: RoleSource::Zk {
            path: "/MQFailover/StateMachine/{cluster}/{broker}".into(),
            field: "brokerId".into(),
            map: vec![(0, Role::Master), (1, Role::Slave)],
        },
        engine: Engine::Docker,
        database: None,
        probe: Probe::Label("aliyun.probe.cmd".into()),
        expect: Some("mqadmin clusterList lists the broker".into()),
    }
}

pub(crate) fn db_spec() -> ComponentSpec {
    ComponentSpec {
        name: "dbnode".into(),
        stateful: true,
        selectors: Vec::new(),
        store: None,
        fixed_ip: false,
        role: RoleSource::ReadOnly,
        engine: Engine::Mysql,
        database: None,
        probe: Probe::None,
        expect: None,
    }
}

pub(crate) fn step_on(id: &str, action: Action, target: Target) -> Node {
    let text = crate::actions::action_name(&action)
        .to_string()
        .replace('_', " ");
    Node::Step(Step {
        id: id.into(),
        action,
        target,
        timeout: Duration::from_secs(5),
        retry: 0,
        text,
        line: 1,
    })
}

pub(crate) fn step(id: &str, action: Action) -> Node {
    step_on(id, action, Target::SelfNode)
}

pub(crate) fn with(node: Node, f: impl FnOnce(&mut Step)) -> Node {
    match node {
        Node::Step(mut s) => {
            f(&mut s);
            Node::Step(s)
        }
        other => other,
    }
}

pub(crate) fn playbook(body: Node) -> CheckedPlaybook {
    CheckedPlaybook {
        fault: "hardware_fault".into(),
        component: "mq_broker".into(),
        components: vec![broker_spec(), db_spec()],
        body,
        file: "mq_broker.mend".into(),
    }
}

/// Two brokers of one group (b1 master, b2 slave), each with a store, on two hosts.
pub(crate) fn world() -> FakeWorld {
    let w = FakeWorld::new();
    let probe = ("aliyun.probe.cmd", "sh /home/admin/bin/check_health.sh");
    w.add_container(
        "b1",
        "172.29.213.11",
        &[
            ("ark.component", "mq-broker"),
            ("mend.host", "host1"),
            probe,
        ],
    );
    w.add_container(
        "b2",
        "172.29.213.12",
        &[
            ("ark.component", "mq-broker"),
            ("mend.host", "host2"),
            probe,
        ],
    );
    w.add_container(
        "x1",
        "172.29.213.31",
        &[
            ("ark.component", "csb-broker"),
            ("mend.host", "host1"),
            probe,
        ],
    );
    w.put_file("b1", "/home/admin/store/commitlog/0", b"master commitlog");
    w.put_file("b1", "/home/admin/store/config/topics.json", b"{\"t\":1}");
    w.put_file("b2", "/home/admin/store/commitlog/0", b"slave commitlog");
    w.zk_set(
        "/mq/brokerNames/cluster/DefaultCluster/broker-a/172.29.213.11",
        b"",
    );
    w.zk_set(
        "/mq/brokerNames/cluster/DefaultCluster/broker-a/172.29.213.12",
        b"",
    );
    w.zk_set(
        "/MQFailover/StateMachine/DefaultCluster/broker-a",
        br#"{"brokers":{"172.29.213.11":{"brokerId":0},"172.29.213.12":{"brokerId":1}}}"#,
    );
    w
}

/// A state directory for one test, removed when the test ends.
pub(crate) struct TempState(PathBuf);

impl std::ops::Deref for TempState {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempState {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn temp_state(name: &str) -> TempState {
    let d = std::env::temp_dir().join(format!("mend-rt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TempState(d)
}

pub(crate) fn options(state: &std::path::Path) -> RunOptions {
    let mut o = RunOptions::new(state);
    o.backoff_base = Duration::from_millis(1);
    o.backoff_max = Duration::from_millis(5);
    o.poll = Duration::from_millis(5);
    o
}

pub(crate) fn yes_to_all() -> Arc<dyn Answers> {
    Arc::new(
        AnswersFile::parse(
            "\"confirm alert\" = \"yes\"\n\"decommission\" = \"yes\"\n\"ask\" = \"yes\"\n\"forced switch\" = \"yes\"\n\"startup mysql\" = \"yes\"\n",
            "answers",
        )
        .unwrap(),
    )
}

pub(crate) fn inventory() -> Inventory {
    Inventory::parse(
        "[mysql.db_a]\ncomponent = \"dbnode\"\nhost = \"127.0.0.1\"\nport = 33061\nuser = \"mend\"\ngroup = \"p\"\n\
         [mysql.db_b]\ncomponent = \"dbnode\"\nhost = \"127.0.0.1\"\nport = 33062\nuser = \"mend\"\ngroup = \"p\"\n",
        "mend.toml",
        None,
    )
    .unwrap()
}

pub(crate) fn runtime(
    w: &FakeWorld,
    state: &std::path::Path,
) -> (Runtime, Arc<CollectingObserver>) {
    let obs = Arc::new(CollectingObserver::default());
    let rt = Runtime::new(inventory(), w.drivers(), options(state))
        .with_answers(yes_to_all())
        .with_observer(obs.clone());
    (rt, obs)
}

/// §3.2 as the design brief writes it.
pub(crate) fn hardware_fault_body() -> Node {
    Node::Seq(vec![
        step("0", Action::ConfirmAlert),
        step("1", Action::LookupRole),
        Node::Match {
            id: "2".into(),
            subject: "role".into(),
            target: Target::SelfNode,
            arms: vec![
                (
                    vec!["master".into()],
                    Node::Seq(vec![
                        step(
                            "2.0.0",
                            Action::Backup {
                                sources: vec![BackupSource::SelfNode, BackupSource::Peer],
                            },
                        ),
                        step(
                            "2.0.1",
                            Action::AcceptLoss {
                                reason: "peer backup may lack the newest messages".into(),
                            },
                        ),
                    ]),
                ),
                (
                    vec!["slave".into()],
                    step(
                        "2.1.0",
                        Action::Backup {
                            sources: vec![BackupSource::SelfNode, BackupSource::None],
                        },
                    ),
                ),
            ],
        },
        step("3", Action::Decommission),
        step(
            "4",
            Action::Recreate {
                same_ip: true,
                paused: true,
            },
        ),
        step("5", Action::Restore),
        step("6", Action::Start),
        step(
            "7",
            Action::Verify {
                within: Duration::from_secs(2),
            },
        ),
    ])
}

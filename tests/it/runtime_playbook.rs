//! The §3.2 playbook on the real engine and the lab's ZooKeeper (a subtree of its
//! own): a lost master recreated with its IP and restored from its peer; a runner
//! killed with SIGKILL and resumed; and the standard library's playbooks, compiled,
//! planned against the shared lab.

use crate::runtime_lab::{Lab, STORE, Sandbox, Scratch, remove_zk_tree, seed_zk, unavailable};
use crate::support::repo_root;
use mend_compiler::plan::CheckedPlaybook;
use mend_runtime::answers::{FirstOf, StateDirAnswers};
use mend_runtime::driver::{DockerDriver, DockerRead};
use mend_runtime::{AnswersFile, Inventory, Outcome, RunOptions, Runtime, StepStatus};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// §3.2 as the design brief writes it, compiled: the broker group of the test's own
/// network, its roles under the test's own ZooKeeper root.
fn hardware_fault(net: &str, zk_root: &str) -> CheckedPlaybook {
    let source = format!(
        r#"component mq_broker {{
  kind stateful
  select label "ark.component" = "mq-broker"
  select label "mend.test.net" = "{net}"
  store "{STORE}"
  ip fixed
  role zk "{zk_root}/MQFailover/StateMachine/{{cluster}}/{{broker}}" brokerId {{ 0 => master, 1 => slave }}
  probe label "aliyun.probe.cmd"
  engine docker
  expect "mqadmin clusterList lists the broker with this IP"
}}

on hardware_fault(mq_broker) <
  confirm alert;
  lookup role;
  match role {{
    master => <
      backup store from self or peer;
      accept loss "the peer's backup may lack the newest messages"
    >,
    slave => < backup store from self or none >,
  }};
  decommission;
  recreate same_ip paused;
  restore store;
  start;
  verify within 1m
>
"#
    );
    let file = "stdlib-playbooks/mq_broker.mend";
    let compiled = mend_compiler::check(
        vec![mend_compiler::SourceFile::new(file, source)],
        &RepoFiles(repo_root()),
    );
    assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
    compiled
        .playbooks
        .into_iter()
        .map(|p| p.plan)
        .find(|p| p.fault == "hardware_fault")
        .expect("the §3.2 playbook")
}

#[tokio::test]
async fn hardware_fault_playbook_on_real_docker() {
    let test = "runtime_playbook::hardware_fault_playbook_on_real_docker";
    let lab = Lab::load();
    if !lab.has(test, &["MEND_LAB_ZK"]) {
        return;
    }
    let Some(_) = lab.loopback(test, "MEND_LAB_ZK") else {
        return;
    };
    let Some(mut sb) = Sandbox::new(test, "pb").await else {
        return;
    };
    let (ip_m, ip_s) = (sb.ip(11), sb.ip(12));
    let master = sb.broker("rt-pb-master", &ip_m, "host1", 300_000).await;
    let slave = sb.broker("rt-pb-slave", &ip_s, "host2", 200_000).await;
    let zk_root = format!("/mend-rt-docker-{}", std::process::id());
    let zk = seed_zk(&lab.get("MEND_LAB_ZK"), &zk_root, &ip_m, &ip_s).await;
    let scratch = Scratch::new("docker-pb");
    let inventory = Inventory::parse(
        &format!(
            "[docker]\nnetwork = \"{}\"\n[zookeeper]\nconnect = \"{}\"\nbroker_names = \"{zk_root}/mq/brokerNames/cluster\"\n",
            sb.net,
            lab.get("MEND_LAB_ZK")
        ),
        "mend.toml",
        None,
    )
    .unwrap();
    let playbook = hardware_fault(&sb.net, &zk_root);
    let options = || {
        let mut o = RunOptions::new(&scratch.0);
        o.poll = Duration::from_millis(250);
        o
    };
    let yes = || {
        Arc::new(
            AnswersFile::parse(
                "\"confirm alert\" = \"yes\"\n\"decommission\" = \"yes\"\n",
                "answers",
            )
            .unwrap(),
        )
    };
    sb.wait_healthy(&slave).await;
    let slave_sums = sb.store_sums(&slave).await;
    let rt = Runtime::new(
        inventory.clone(),
        mend_runtime::connect(&inventory).await,
        options(),
    )
    .with_answers(yes());

    // `mend plan` while the master lives: concrete, and it keeps a snapshot of it.
    let plan = rt.plan(&playbook, &ip_m).await.unwrap().to_string();
    assert!(
        plan.contains(&format!("target: {master} ({ip_m}")),
        "{plan}"
    );
    assert!(plan.contains("match role (now: master)"), "{plan}");
    assert!(plan.contains(&format!("IP {ip_m} (kept)")), "{plan}");

    // Hardware fault: the master's host is gone, container and store with it.
    sb.docker.remove(&master).await.unwrap();
    let s = rt.run(&playbook, &ip_m).await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    let backup = s.steps.iter().find(|r| r.id == "3.1.1").unwrap();
    assert!(
        backup.message.contains(&format!("{slave} (peer)")),
        "{}",
        backup.message
    );
    assert_eq!(s.accepted_losses.len(), 1);
    let recreated = sb.docker.inspect(&master).await.unwrap().unwrap();
    assert_eq!(recreated.ip.as_deref(), Some(ip_m.as_str()), "the same IP");
    assert!(recreated.is_running());
    assert_eq!(
        sb.store_sums(&master).await.replace(&slave, "X"),
        slave_sums.replace(&slave, "X")
    );

    remove_zk_tree(&zk, &zk_root).await;
}

/// Reads the repository's files for the compiler (`import` relative to the importer).
struct RepoFiles(std::path::PathBuf);

impl mend_compiler::SourceProvider for RepoFiles {
    fn resolve(&self, from: &str, import: &str) -> String {
        mend_compiler::source::join_relative(from, import)
    }
    fn load(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

/// The compiler's output for the standard library's MQ broker playbooks, planned
/// against the shared lab. `plan` is read-only, so this test may run beside others.
#[tokio::test]
async fn stdlib_mq_broker_plans_against_the_lab() {
    let test = "runtime_playbook::stdlib_mq_broker_plans_against_the_lab";
    let lab = Lab::load();
    let keys = [
        "MEND_LAB_ZK",
        "MEND_LAB_NETWORK",
        "MEND_LAB_BROKER_MASTER",
        "MEND_LAB_BROKER_MASTER_IP",
        "MEND_LAB_BROKER_SLAVE",
    ];
    if !lab.has(test, &keys) {
        return;
    }
    let Some(_) = lab.loopback(test, "MEND_LAB_ZK") else {
        return;
    };
    // The lab scenarios (lab_scenarios.rs) recreate these containers: not meanwhile.
    let _lock = lab.exclusive("containers").await;
    let inventory = Inventory::parse(
        &format!(
            "[docker]\nnetwork = \"{}\"\nhost_label = \"mend.lab.host\"\n[zookeeper]\nconnect = \"{}\"\n",
            lab.get("MEND_LAB_NETWORK"),
            lab.get("MEND_LAB_ZK")
        ),
        "mend.toml",
        None,
    )
    .unwrap();
    let drivers = mend_runtime::connect(&inventory).await;
    let master = lab.get("MEND_LAB_BROKER_MASTER");
    if drivers
        .docker
        .inspect(&master)
        .await
        .ok()
        .flatten()
        .is_none()
    {
        unavailable(
            test,
            &format!("the lab's broker `{master}` is not there (`scripts/lab up`)"),
        );
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let file = "stdlib-playbooks/mq_broker.mend";
    let source = std::fs::read_to_string(root.join(file)).unwrap();
    let compiled = mend_compiler::check(
        vec![mend_compiler::SourceFile::new(file, source)],
        &RepoFiles(root),
    );
    assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
    let scratch = Scratch::new("stdlib-plan");
    let rt = Runtime::new(inventory, drivers, RunOptions::new(&scratch.0));
    let mut planned = 0;
    for pb in compiled
        .playbooks
        .iter()
        .filter(|p| p.plan.component == "mq_broker")
    {
        let plan = rt
            .plan(&pb.plan, &lab.get("MEND_LAB_BROKER_MASTER_IP"))
            .await
            .unwrap();
        let text = plan.to_string();
        assert!(text.contains(&format!("target: {master}")), "{text}");
        assert!(
            text.contains(&format!("peer:   {}", lab.get("MEND_LAB_BROKER_SLAVE"))),
            "{text}"
        );
        if pb.plan.fault == "hardware_fault" {
            assert!(text.contains("match role (now: master)"), "{text}");
            assert!(
                text.contains(&format!(
                    "IP {} (kept)",
                    lab.get("MEND_LAB_BROKER_MASTER_IP")
                )),
                "{text}"
            );
            assert!(
                text.contains("runs `sh /home/admin/bin/check_health.sh`"),
                "{text}"
            );
        }
        planned += 1;
    }
    assert_eq!(planned, 3, "software_fault, host_down, hardware_fault");
}

fn broker_inventory(net: &str, zk: &str, zk_root: &str) -> Inventory {
    Inventory::parse(
        &format!(
            "[docker]\nnetwork = \"{net}\"\n[zookeeper]\nconnect = \"{zk}\"\nbroker_names = \"{zk_root}/mq/brokerNames/cluster\"\n"
        ),
        "mend.toml",
        None,
    )
    .unwrap()
}

/// The child half of `sigkill_mid_run_then_resume`: runs the playbook until a person
/// is asked to decommission, where the parent kills it. Does nothing when run alone.
#[tokio::test]
#[ignore = "run by sigkill_mid_run_then_resume as a child process"]
async fn sigkill_child() {
    let Ok(state) = std::env::var("MEND_RT_CHILD_STATE") else {
        return;
    };
    let var = |k: &str| std::env::var(k).unwrap();
    let (net, zk, zk_root) = (
        var("MEND_RT_CHILD_NET"),
        var("MEND_RT_CHILD_ZK"),
        var("MEND_RT_CHILD_ZK_ROOT"),
    );
    let inventory = broker_inventory(&net, &zk, &zk_root);
    let rt = Runtime::new(
        inventory.clone(),
        mend_runtime::connect(&inventory).await,
        RunOptions::new(&state),
    )
    .with_answers(Arc::new(FirstOf(vec![
        Arc::new(AnswersFile::parse("\"confirm alert\" = \"yes\"", "a").unwrap()),
        Arc::new(StateDirAnswers::default()),
    ])));
    let r = rt
        .run(
            &hardware_fault(&net, &zk_root),
            &var("MEND_RT_CHILD_TARGET"),
        )
        .await;
    panic!("the child should have been killed while it waited: {r:?}");
}

/// The runner is killed (SIGKILL, a real process) while a person decommissions the
/// slave, after its store was backed up; `resume` takes the stale lock over, replays
/// what finished, and completes without taking the backup again.
#[tokio::test]
async fn sigkill_mid_run_then_resume() {
    let test = "runtime_playbook::sigkill_mid_run_then_resume";
    let lab = Lab::load();
    if !lab.has(test, &["MEND_LAB_ZK"]) {
        return;
    }
    let Some(_) = lab.loopback(test, "MEND_LAB_ZK") else {
        return;
    };
    let Some(mut sb) = Sandbox::new(test, "kill").await else {
        return;
    };
    let (ip_m, ip_s) = (sb.ip(21), sb.ip(22));
    let _master = sb.broker("rt-kill-master", &ip_m, "host1", 120_000).await;
    let slave = sb.broker("rt-kill-slave", &ip_s, "host2", 80_000).await;
    let zk_root = format!("/mend-rt-kill-{}", std::process::id());
    let zk = seed_zk(&lab.get("MEND_LAB_ZK"), &zk_root, &ip_m, &ip_s).await;
    let scratch = Scratch::new("docker-kill");
    sb.wait_healthy(&slave).await;
    let sums = sb.store_sums(&slave).await;

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "runtime_playbook::sigkill_child",
            "--ignored",
            "--nocapture",
        ])
        .env("MEND_RT_CHILD_STATE", &scratch.0)
        .env("MEND_RT_CHILD_NET", &sb.net)
        .env("MEND_RT_CHILD_ZK", lab.get("MEND_LAB_ZK"))
        .env("MEND_RT_CHILD_ZK_ROOT", &zk_root)
        .env("MEND_RT_CHILD_TARGET", &slave)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the child runner");
    let start = Instant::now();
    let run_id = loop {
        let waiting = mend_runtime::list_runs(&scratch.0).into_iter().find(|r| {
            mend_runtime::pending(&scratch.0, &r.run_id)
                .iter()
                .any(|q| q.step == "4")
        });
        if let Some(r) = waiting {
            break r.run_id;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child runner exited before reaching `decommission`"
        );
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the child never reached `decommission`"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    let holder = mend_runtime::lock::TargetLock::holder(&scratch.0, &slave)
        .expect("the dead runner's lock stays");
    assert_eq!(holder.run_id, run_id);
    assert!(!holder.alive());

    let inventory = broker_inventory(&sb.net, &lab.get("MEND_LAB_ZK"), &zk_root);
    let mut opts = RunOptions::new(&scratch.0);
    opts.poll = Duration::from_millis(250);
    let rt = Runtime::new(
        inventory.clone(),
        mend_runtime::connect(&inventory).await,
        opts,
    )
    .with_answers(Arc::new(
        AnswersFile::parse(
            "\"confirm alert\" = \"yes\"\n\"decommission\" = \"yes\"\n",
            "answers",
        )
        .unwrap(),
    ));
    let s = rt.resume(&run_id).await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    let replayed: Vec<&str> = s
        .steps
        .iter()
        .filter(|r| r.replayed)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(replayed, ["1", "2", "3.2.1"], "{s}");
    assert!(
        s.steps.iter().all(|r| r.status != StepStatus::Failed),
        "{s}"
    );
    let tars = std::fs::read_dir(scratch.0.join("runs").join(&run_id).join("backups"))
        .unwrap()
        .count();
    assert_eq!(tars, 1, "the backup was taken once");
    assert_eq!(
        sb.store_sums(&slave).await,
        sums,
        "the slave got its own store back"
    );
    let now = sb.docker.inspect(&slave).await.unwrap().unwrap();
    assert_eq!(now.ip.as_deref(), Some(ip_s.as_str()));
    assert!(now.is_running());
    assert!(
        mend_runtime::lock::TargetLock::holder(&scratch.0, &slave).is_none(),
        "released"
    );
    remove_zk_tree(&zk, &zk_root).await;
}

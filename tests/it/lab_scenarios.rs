//! The lab scenarios (issue 6, part 2): each breaks the lab (docs/lab.md) the way one of
//! the guide's faults breaks the real platform, runs the standard playbook of
//! `stdlib-playbooks/` through the real `mend` binary (steps for a person answered by
//! `--answers` or by `mend answer`), and checks the guide's expected result *and the
//! data*. Each scenario puts back what it broke; they hold one lab lock in turn (see
//! `lab_support`), so they may run in any order, alone or all together:
//!
//! ```text
//! scripts/lab up && cargo build -p mend-cli
//! cargo nextest run -p mend-tests lab_scenarios     # or cargo test -p mend-tests lab_scenarios
//! ```
//!
//! | test | guide | fault injected | checked |
//! |---|---|---|---|
//! | `software_fault_mq_broker` | §1.2 | `scripts/lab break` | restarted (same container), probe, clusterList, store unchanged |
//! | `software_fault_stateless` | §1.12 §5.2 | `scripts/lab break` | found by IP, restarted, probe; no other container touched |
//! | `host_down_all_back_in_parallel` | §2.2 §2.13 | `scripts/lab host-down` | all back, probes; the restarts overlapped in time |
//! | `hardware_fault_mq_master_own_backup` | §3.2 | `docker kill` | role from ZooKeeper, backup of self, recreated with the same IP, store byte-identical |
//! | `hardware_fault_mq_master_peer_backup` | §3.2 | `scripts/lab break-store` + `docker kill` | the peer's backup restored (= the slave's store), loss accepted |
//! | `mysql_duplicate_key_repaired` | §1.1 §4.1.3 | `scripts/lab mysql-break-1062` | replica running, STRICT again, every row on both nodes |
//! | `control_db_master_restarted_never_two_writable` | §1.7 §4.2 | `scripts/lab mysql-stop primary` | started by the playbook, re-joined, writable; never two RW |
//! | `dncs_all_down_all_back_same_count` | §3.8 | `docker kill` ×3 | every node back, the same `allDomNames` count everywhere |
//! | `sigkill_at_every_step_then_resume` | §3.2 | `docker kill` | the runner SIGKILLed at each step, `mend resume`: same end state, nothing done twice |

use crate::lab_support::{
    CONTAINERS, MYSQL, MendRun, Scenario, block_on, read_journal, tail, ts_ms,
};
use mend_runtime::StepStatus;
use mend_runtime::journal::Record;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const MQ: &str = "stdlib-playbooks/mq_broker.mend";
const STATELESS: &str = "stdlib-playbooks/stateless.mend";
const DNCS: &str = "stdlib-playbooks/dncs.mend";
const DBNODE: &str = "stdlib-playbooks/dbnode.mend";
const CONTROL_DB: &str = "stdlib-playbooks/control_databases.mend";

/// Containers listed by `mqadmin clusterList` at this IP.
fn listed(s: &Scenario, ip: &str) -> bool {
    s.cluster_list().contains(&format!("{ip}:10911"))
}

// ---- §1 software fault ------------------------------------------------------------

/// §1.2: the broker's service dies, its container runs on; `restart(mq_broker)`.
#[test]
fn software_fault_mq_broker() {
    let Some(s) = Scenario::start("software_fault_mq_broker", &[CONTAINERS]) else {
        return;
    };
    s.ensure_containers_pristine();
    let _reset = s.reset_on_exit("containers", false);
    let inv = s.render("containers.mend.toml");
    let (m, ip) = (
        s.get("MEND_LAB_BROKER_MASTER"),
        s.get("MEND_LAB_BROKER_MASTER_IP"),
    );
    let before = s.must(&m);
    let sums = s.store_sums(&m);

    s.lab(&["break", &m]);
    assert!(!s.probe(&m), "the probe fails once the service is killed");
    assert!(
        s.must(&m).running(),
        "a software fault leaves the container running"
    );
    s.wait_until(
        "the broker leaves clusterList",
        Duration::from_secs(10),
        || !listed(&s, &ip),
    );

    let r = s.mend_run(MQ, "software_fault(mq_broker)", &ip, &inv, "confirm");
    r.succeeded();
    assert!(r.ok_step("restart").contains(&m));
    r.ok_step("probe");
    r.ok_step("verify");

    let after = s.must(&m);
    assert_eq!(after.id, before.id, "restarted, not recreated");
    assert_ne!(after.started_at, before.started_at, "restarted");
    assert!(after.running());
    assert!(s.probe(&m), "§1.2 expected result: the probe passes");
    s.wait_until(
        "the broker is listed again",
        Duration::from_secs(10),
        || listed(&s, &ip),
    );
    assert_eq!(
        s.store_sums(&m),
        sums,
        "a restart leaves the store as it was"
    );
}

/// §1.12: another stateless container; the alert gives its IP, §5.2 its name.
#[test]
fn software_fault_stateless() {
    let Some(s) = Scenario::start("software_fault_stateless", &[CONTAINERS]) else {
        return;
    };
    s.ensure_containers_pristine();
    let _reset = s.reset_on_exit("containers", false);
    let inv = s.render("containers.mend.toml");
    let all = s.lab_containers();
    let target = all
        .iter()
        .find(|c| c.role == "stateless" && c.component == "txc-server")
        .or_else(|| all.iter().find(|c| c.role == "stateless"))
        .expect("a stateless lab container")
        .clone();
    let before: BTreeMap<String, String> = all
        .iter()
        .map(|c| (c.name.clone(), s.must(&c.name).started_at))
        .collect();

    s.lab(&["break", &target.ip]);
    assert!(!s.probe(&target.name));

    let r = s.mend_run(
        STATELESS,
        "software_fault(stateless_container)",
        &target.ip,
        &inv,
        "confirm",
    );
    r.succeeded();
    assert_eq!(
        r.ok_step("lookup name"),
        format!("{} is {}", target.ip, target.name),
        "§5.2: the name from the IP"
    );
    r.ok_step("restart");
    r.ok_step("probe");
    r.ok_step("verify");

    let after = s.must(&target.name);
    assert!(after.running() && s.probe(&target.name));
    assert_eq!(after.ip, target.ip);
    for c in &all {
        let now = s.must(&c.name).started_at;
        if c.name == target.name {
            assert_ne!(now, before[&c.name], "{} was restarted", c.name);
        } else {
            assert_eq!(now, before[&c.name], "{} was left alone", c.name);
        }
    }
}

// ---- §2 host down -----------------------------------------------------------------

/// §2.2 and §2.13: every container of one simulated host killed. The broker's playbook
/// restarts the broker; the stateless one checks every container of the host (§5.1)
/// and restarts those that fail, 8 at once.
#[test]
fn host_down_all_back_in_parallel() {
    let Some(s) = Scenario::start("host_down_all_back_in_parallel", &[CONTAINERS]) else {
        return;
    };
    s.ensure_containers_pristine();
    let _reset = s.reset_on_exit("containers", false);
    let inv = s.render("containers.mend.toml");
    let host = s.get("MEND_LAB_BROKER_SLAVE_HOST");
    let (broker, broker_ip) = (
        s.get("MEND_LAB_BROKER_SLAVE"),
        s.get("MEND_LAB_BROKER_SLAVE_IP"),
    );
    let on_host: Vec<_> = s
        .lab_containers()
        .into_iter()
        .filter(|c| c.host == host)
        .collect();
    assert!(on_host.len() >= 3, "{host} holds {on_host:?}");
    let stateless = on_host
        .iter()
        .find(|c| c.role == "stateless")
        .expect("a stateless container on the host")
        .clone();
    let sums = s.store_sums(&broker);

    s.lab(&["host-down", &host]);
    for c in &on_host {
        assert!(!s.must(&c.name).running(), "{} is down", c.name);
    }

    // §2.2 for the broker: a person restarts the host, the daemon is back, restart.
    let r = s.mend_run(MQ, "host_down(mq_broker)", &broker_ip, &inv, "host-down");
    r.succeeded();
    r.ok_step("restart");
    r.ok_step("probe");
    assert!(s.must(&broker).running() && s.probe(&broker));

    // §2.13 for the rest: every container of the host checked, the failed ones restarted.
    let r = s.mend_run(
        STATELESS,
        "host_down(stateless_container)",
        &stateless.ip,
        &inv,
        "host-down",
    );
    r.succeeded();
    for c in &on_host {
        assert!(s.must(&c.name).running(), "{} is back", c.name);
        assert!(s.probe(&c.name), "{} passes its probe", c.name);
    }
    s.wait_until(
        "the broker is listed again",
        Duration::from_secs(10),
        || listed(&s, &broker_ip),
    );
    assert_eq!(s.store_sums(&broker), sums, "the broker's store is intact");

    // In parallel: each restart's interval from its intent to its outcome.
    let journal = r.journal();
    let mut start: BTreeMap<String, i64> = BTreeMap::new();
    let mut spans: Vec<(String, i64, i64)> = Vec::new();
    for rec in &journal {
        match rec {
            Record::Intent {
                step,
                action,
                target,
                ts,
                ..
            } if action == "restart" => {
                start.insert(step.clone(), ts_ms(ts));
                assert!(!target.is_empty());
            }
            Record::Outcome {
                step, status, ts, ..
            } if start.contains_key(step) => {
                assert_eq!(*status, StepStatus::Ok, "{step}");
                spans.push((step.clone(), start[step], ts_ms(ts)));
            }
            _ => {}
        }
    }
    let restarted: BTreeSet<String> = spans
        .iter()
        .map(|(step, ..)| {
            step.split('[')
                .nth(1)
                .and_then(|x| x.split(']').next())
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    let expected: BTreeSet<String> = on_host
        .iter()
        .map(|c| c.name.clone())
        .filter(|n| *n != broker)
        .collect();
    assert_eq!(
        restarted, expected,
        "§2.13 restarts the containers that fail §5.1 (the broker passed it)"
    );
    let last_start = spans.iter().map(|s| s.1).max().unwrap();
    let first_end = spans.iter().map(|s| s.2).min().unwrap();
    let busy: i64 = spans.iter().map(|s| s.2 - s.1).sum();
    let wall = spans.iter().map(|s| s.2).max().unwrap() - spans.iter().map(|s| s.1).min().unwrap();
    eprintln!(
        "host down: {} restarts, {busy} ms of restarts in {wall} ms; all started {} ms before the first ended",
        spans.len(),
        first_end - last_start
    );
    assert!(
        last_start < first_end,
        "every restart was under way before the first one ended: {spans:?}"
    );
}

// ---- §3.2 MQ broker hardware fault ---------------------------------------------------

/// The §3.2 checks common to both backups: the journal says what the guide says, the
/// container is new, with the same IP, running, probed, listed.
fn check_hardware_fault(s: &Scenario, r: &MendRun, m: &str, ip: &str, old_id: &str) {
    r.succeeded();
    let role = r.ok_step("lookup role");
    assert!(
        role.contains("is the master")
            && role.contains("brokerId` 0")
            && role.contains(ip)
            && role.contains(&s.get("MEND_LAB_BROKER_STATE_PATH")),
        "§3.2 step 2, the role from ZooKeeper: {role}"
    );
    r.ok_step("decommission");
    let recreated = r.ok_step("recreate same_ip paused");
    assert!(
        recreated.contains("removed") && recreated.contains(&format!("with IP {ip}")),
        "{recreated}"
    );
    r.ok_step("restore store");
    r.ok_step("start");
    r.ok_step("probe");
    r.ok_step("verify");
    assert!(
        s.container(old_id).is_none(),
        "the failed container is gone (`docker rm -f`)"
    );
    let now = s.must(m);
    assert_ne!(now.id, old_id, "a new container");
    assert_eq!(now.ip, ip, "§3.2 step 5: the same IP");
    assert!(now.running());
    assert!(s.probe(m), "the probe passes");
    s.wait_until(
        "the broker is listed again",
        Duration::from_secs(10),
        || listed(s, ip),
    );
}

/// §3.2, the master's host fails; its store is still readable: the backup is its own,
/// the restored store is byte-identical to what it held (and to the lab's seed).
#[test]
fn hardware_fault_mq_master_own_backup() {
    let Some(s) = Scenario::start("hardware_fault_mq_master_own_backup", &[CONTAINERS]) else {
        return;
    };
    s.ensure_containers_pristine();
    let _reset = s.reset_on_exit("containers", false);
    let inv = s.render("containers.mend.toml");
    let (m, ip, slave) = (
        s.get("MEND_LAB_BROKER_MASTER"),
        s.get("MEND_LAB_BROKER_MASTER_IP"),
        s.get("MEND_LAB_BROKER_SLAVE"),
    );
    let before = s.must(&m);
    let sums = s.store_sums(&m);
    assert_eq!(
        sums,
        s.dir_sums(&s.get("MEND_LAB_BROKER_MASTER_SEED")),
        "the master holds its seed"
    );
    let slave_before = s.must(&slave);

    s.docker(&["kill", &m]);
    assert!(!s.must(&m).running());

    let r = s.mend_run(MQ, "hardware_fault(mq_broker)", &ip, &inv, "hardware-fault");
    let backup = r.ok_step("backup store");
    assert!(backup.contains(&format!("{m} (self)")), "{backup}");
    check_hardware_fault(&s, &r, &m, &ip, &before.id);
    assert_eq!(
        s.store_sums(&m),
        sums,
        "§3.2 step 6: the store restored byte-identical"
    );
    assert_eq!(
        s.must(&slave).started_at,
        slave_before.started_at,
        "the slave was left alone"
    );
}

/// §3.2, the master's disk is too broken to read: the peer's backup is restored, and
/// the loss the guide names is accepted. A person answers `decommission` with
/// `mend answer` while the run waits.
#[test]
fn hardware_fault_mq_master_peer_backup() {
    let Some(s) = Scenario::start("hardware_fault_mq_master_peer_backup", &[CONTAINERS]) else {
        return;
    };
    s.ensure_containers_pristine();
    let _reset = s.reset_on_exit("containers", true);
    let inv = s.render("containers.mend.toml");
    let (m, ip, slave) = (
        s.get("MEND_LAB_BROKER_MASTER"),
        s.get("MEND_LAB_BROKER_MASTER_IP"),
        s.get("MEND_LAB_BROKER_SLAVE"),
    );
    let before = s.must(&m);
    let slave_sums = s.store_sums(&slave);
    assert_eq!(slave_sums, s.dir_sums(&s.get("MEND_LAB_BROKER_SLAVE_SEED")));
    assert_ne!(slave_sums, s.store_sums(&m), "the two stores differ");

    s.lab(&["break-store", &m]);
    s.docker(&["kill", &m]);

    // Only the alert is answered from the file; `decommission` waits for a person.
    let state = s.state_dir();
    let args = s.run_args(
        MQ,
        "hardware_fault(mq_broker)",
        &ip,
        &inv,
        Some(&s.answers("confirm")),
        &state,
    );
    let started = Instant::now();
    let (mut child, out, err) = s.spawn_mend(&args, "peer-run");
    let state_arg = state.display().to_string();
    let run_id = loop {
        // `mend runs --format json`: a JSON object per run, with the questions it waits on.
        let runs = s.mend_ok(&["runs", "--state-dir", &state_arg, "--format", "json"]);
        let mut waiting = None;
        for l in runs.lines() {
            let v: serde_json::Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("`mend runs --format json` line {l:?}: {e}"));
            let asks = v["waiting"].as_array().cloned().unwrap_or_default();
            if asks.iter().any(|q| {
                q["step"] == "4"
                    && q["question"]
                        .as_str()
                        .is_some_and(|t| t.contains("offline"))
            }) {
                assert_eq!(
                    v["running"], true,
                    "a run waiting on a person is running: {v}"
                );
                waiting = v["run_id"].as_str().map(str::to_owned);
            }
        }
        if let Some(id) = waiting {
            break id;
        }
        assert!(
            child.0.try_wait().unwrap().is_none(),
            "the run ended before `decommission`: {}",
            tail(&std::fs::read_to_string(&err).unwrap_or_default(), 20)
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never waited on `decommission`"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let answered = s.mend_ok(&["answer", &run_id, "4", "yes", "--state-dir", &state_arg]);
    eprintln!("mend answer {run_id} 4 yes: {}", answered.trim());
    let r = s.finish(child, &out, &err, "mend run (peer backup)", started);

    let backup = r.ok_step("backup store");
    assert!(
        backup.contains(&format!("{slave} (peer)")) && backup.contains("Could not find the file"),
        "the failed store cannot be read, the peer's is taken: {backup}"
    );
    assert_eq!(
        r.summary["accepted_losses"].as_array().map(Vec::len),
        Some(1),
        "§3.2's loss table: a master restored from its slave's store"
    );
    check_hardware_fault(&s, &r, &m, &ip, &before.id);
    assert_eq!(
        s.store_sums(&m),
        slave_sums,
        "the restored store is the peer's, byte for byte"
    );
}

// ---- §4 MySQL ------------------------------------------------------------------------

/// The pair as `scripts/lab up` leaves it: replicating primary → replica, STRICT,
/// primary writable, replica read-only, the primary no replica. Else `reset mariadb`.
fn ensure_mysql_pristine(s: &Scenario) {
    let ok = |s: &Scenario| {
        let st = s.slave_status("replica");
        st.get("Slave_IO_Running").is_some_and(|v| v == "Yes")
            && st.get("Slave_SQL_Running").is_some_and(|v| v == "Yes")
            && s.slave_status("primary").is_empty()
            && s.sql(
                "replica",
                "SELECT @@global.slave_exec_mode, @@global.read_only",
            )
            .trim()
                == "STRICT\t1"
            && s.sql("primary", "SELECT @@global.read_only").trim() == "0"
            && caught_up(s)
            // The scenarios write rows 1..=N and count them: nothing may be there
            // before (`scripts/lab selftest` leaves the row it checked replication with).
            && count(s, "primary") == 0
            && count(s, "replica") == 0
    };
    let up = s.lab_try(&["dbs"]);
    if !up.status.success() || String::from_utf8_lossy(&up.stdout).contains("DOWN") || !ok(s) {
        eprintln!("lab: MariaDB pair not pristine: scripts/lab reset mariadb");
        s.lab(&["reset", "mariadb"]);
        assert!(ok(s), "the MariaDB pair is not healthy after a reset");
    }
}

/// The replica has read and applied the primary's binary log up to its current end
/// (within 5 s). Both threads saying `Yes` is not enough: after the primary restarts,
/// a replica may still show its old connection for a while and apply nothing.
fn caught_up(s: &Scenario) -> bool {
    let status = s.sql("primary", "SHOW MASTER STATUS");
    let f: Vec<&str> = status.trim().split('\t').collect();
    let [file, pos, ..] = f[..] else {
        return false;
    };
    let waited = s.sql(
        "replica",
        &format!("SELECT MASTER_POS_WAIT('{file}', {pos}, 5)"),
    );
    waited.trim().parse::<i64>().is_ok_and(|r| r >= 0)
}

/// The guide's pairs replicate both ways: the primary becomes a replica of the
/// replica, from the end of the replica's binary log (what the replica wrote before is
/// not replayed on the primary). `reset mariadb` undoes it.
fn replicate_both_ways(s: &Scenario) {
    let status = s.sql("replica", "SHOW MASTER STATUS");
    let f: Vec<&str> = status.split('\t').collect();
    assert!(f.len() >= 2, "SHOW MASTER STATUS on the replica: {status}");
    let port = s
        .get("MEND_LAB_MYSQL_REPLICA")
        .rsplit_once(':')
        .map(|(_, p)| p.to_owned())
        .unwrap();
    let pw_file = Path::new(&s.get("MEND_LAB_DIR")).join("mysql/repl.password");
    let pw =
        std::fs::read_to_string(&pw_file).unwrap_or_else(|e| panic!("{}: {e}", pw_file.display()));
    s.sql(
        "primary",
        &format!(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={port}, MASTER_USER='repl', \
             MASTER_PASSWORD='{}', MASTER_USE_GTID=no, MASTER_LOG_FILE='{}', MASTER_LOG_POS={}, \
             MASTER_CONNECT_RETRY=1; START SLAVE;",
            pw.trim(),
            f[0].trim(),
            f[1].trim()
        ),
    );
    s.wait_until(
        "the primary replicates from the replica",
        Duration::from_secs(20),
        || {
            let st = s.slave_status("primary");
            st.get("Slave_IO_Running").is_some_and(|v| v == "Yes")
                && st.get("Slave_SQL_Running").is_some_and(|v| v == "Yes")
        },
    );
}

fn rows(s: &Scenario, node: &str) -> String {
    s.sql(node, "SELECT id, v FROM lab.events ORDER BY id")
}

fn count(s: &Scenario, node: &str) -> usize {
    s.sql(node, "SELECT COUNT(*) FROM lab.events")
        .trim()
        .parse()
        .unwrap()
}

fn insert_rows(s: &Scenario, ids: std::ops::RangeInclusive<u32>) {
    let values: Vec<String> = ids.map(|i| format!("({i}, 'row {i}')")).collect();
    s.sql(
        "primary",
        &format!("INSERT INTO lab.events VALUES {}", values.join(", ")),
    );
}

/// Waits (≤ 20 s) until the replica holds `n` rows of `lab.events`; when it does not,
/// the failure says what the replica's replication threads say.
fn rows_reach_replica(s: &Scenario, n: usize) {
    s.wait_until_or(
        &format!("{n} rows on the replica"),
        Duration::from_secs(20),
        || count(s, "replica") == n,
        || {
            let st = s.slave_status("replica");
            let said: Vec<String> = [
                "Slave_IO_Running",
                "Slave_SQL_Running",
                "Master_Log_File",
                "Read_Master_Log_Pos",
                "Exec_Master_Log_Pos",
                "Last_IO_Error",
                "Last_SQL_Error",
            ]
            .iter()
            .map(|k| format!("{k}: {}", st.get(*k).map_or("-", String::as_str)))
            .collect();
            format!(
                "({} there; primary at {}; replica: {})",
                count(s, "replica"),
                s.sql("primary", "SHOW MASTER STATUS").trim(),
                said.join(", ")
            )
        },
    );
}

fn decisions(journal: &[Record]) -> Vec<(String, String, String)> {
    journal
        .iter()
        .filter_map(|r| match r {
            Record::Decision {
                step,
                subject,
                value,
                ..
            } => Some((step.clone(), subject.clone(), value.clone())),
            _ => None,
        })
        .collect()
}

/// §1.1 → §4.1 → §4.1.3: replication on the replica stopped by a duplicate key (1062).
/// The DBNode playbook: no impact (the metadata DB says slave), the instance is up,
/// `slave_exec_mode` relaxed, caught up, back to STRICT, the peer checked too.
#[test]
fn mysql_duplicate_key_repaired() {
    let Some(s) = Scenario::start("mysql_duplicate_key_repaired", &[CONTAINERS, MYSQL]) else {
        return;
    };
    ensure_mysql_pristine(&s);
    let _reset = s.reset_on_exit("mariadb", true);
    let inv = s.render("dbnode.mend.toml");
    let metadb = std::fs::read_to_string(s.render("metadb.sql")).unwrap();
    s.sql("primary", &metadb);

    insert_rows(&s, 1..=40);
    rows_reach_replica(&s, 40);
    let out = s.lab(&["mysql-break-1062"]);
    let id: u32 = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("id="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("mysql-break-1062 printed no id: {out}"));
    let st = s.slave_status("replica");
    assert_eq!(st["Slave_SQL_Running"], "No");
    assert_eq!(st["Last_SQL_Errno"], "1062");
    replicate_both_ways(&s);
    // Written on the primary while the replica is stopped: they must all arrive.
    insert_rows(&s, id + 1..=id + 30);
    let total = 40 + 1 + 30;
    assert_eq!(count(&s, "primary"), total);

    let r = s.mend_run(DBNODE, "software_fault(dbnode)", "replica", &inv, "confirm");
    r.succeeded();
    assert!(
        r.ok_step("lookup role").contains("slave"),
        "§4.1.1: no impact"
    );
    let journal = r.journal();
    assert!(
        decisions(&journal)
            .iter()
            .any(|(_, subject, value)| subject == "replica_error" && value == "duplicate_key"),
        "§4.1.3's duplicate-key branch: {:?}",
        decisions(&journal)
    );
    assert!(
        r.ok_step("set exec_mode lenient").contains("IDEMPOTENT"),
        "SMART is IDEMPOTENT on MariaDB"
    );
    assert!(r.ok_step("set exec_mode strict").contains("STRICT"));
    r.ok_step("verify");

    // The guide's expected result: both threads Yes, and the apply mode STRICT again.
    let st = s.slave_status("replica");
    assert_eq!(st["Slave_IO_Running"], "Yes");
    assert_eq!(st["Slave_SQL_Running"], "Yes");
    assert_eq!(st["Last_SQL_Errno"], "0");
    assert_eq!(
        s.sql("replica", "SELECT @@global.slave_exec_mode").trim(),
        "STRICT",
        "apply mode back to STRICT"
    );
    // No row lost: every row on both nodes, the conflicting one as the primary wrote it.
    s.wait_until("the replica has every row", Duration::from_secs(20), || {
        count(&s, "replica") == total
    });
    assert_eq!(rows(&s, "replica"), rows(&s, "primary"));
    assert_eq!(
        s.sql(
            "replica",
            &format!("SELECT v FROM lab.events WHERE id = {id}")
        )
        .trim(),
        "written on the primary"
    );
    let sum = |n| s.sql(n, "CHECKSUM TABLE lab.events");
    assert_eq!(sum("replica"), sum("primary"));
    assert_eq!(s.sql("replica", "SELECT @@global.read_only").trim(), "1");
    assert_eq!(s.sql("primary", "SELECT @@global.read_only").trim(), "0");
}

/// One look at both nodes' `@@read_only` (`None`: the node does not answer).
#[derive(Debug, Clone, Copy)]
struct ReadOnly {
    at_ms: u128,
    primary: Option<bool>,
    replica: Option<bool>,
}

/// Polls `@@global.read_only` on both nodes, one right after the other, until stopped.
fn watch_read_only(s: &Scenario, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<ReadOnly>> {
    use mysql_async::prelude::Queryable;
    let addr = |k: &str| {
        let a = s.get(k);
        let (h, p) = a.rsplit_once(':').unwrap();
        (h.to_owned(), p.parse::<u16>().unwrap())
    };
    let nodes = [
        addr("MEND_LAB_MYSQL_PRIMARY"),
        addr("MEND_LAB_MYSQL_REPLICA"),
    ];
    let user = s.get("MEND_LAB_MYSQL_USER");
    let password = std::fs::read_to_string(s.get("MEND_LAB_MYSQL_PASSWORD_FILE"))
        .unwrap()
        .trim()
        .to_owned();
    std::thread::spawn(move || {
        block_on(async move {
            let t0 = Instant::now();
            let mut conns: [Option<mysql_async::Conn>; 2] = [None, None];
            let mut out = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let mut seen = [None, None];
                for (i, (host, port)) in nodes.iter().enumerate() {
                    if conns[i].is_none() {
                        let opts = mysql_async::OptsBuilder::default()
                            .ip_or_hostname(host.clone())
                            .tcp_port(*port)
                            .user(Some(user.clone()))
                            .pass(Some(password.clone()))
                            .prefer_socket(false);
                        conns[i] = tokio::time::timeout(
                            Duration::from_millis(300),
                            mysql_async::Conn::new(opts),
                        )
                        .await
                        .ok()
                        .and_then(Result::ok);
                    }
                    if let Some(c) = conns[i].as_mut() {
                        match tokio::time::timeout(
                            Duration::from_millis(300),
                            c.query_first::<i64, _>("SELECT @@global.read_only"),
                        )
                        .await
                        {
                            Ok(Ok(Some(v))) => seen[i] = Some(v != 0),
                            _ => conns[i] = None,
                        }
                    }
                }
                out.push(ReadOnly {
                    at_ms: t0.elapsed().as_millis(),
                    primary: seen[0],
                    replica: seen[1],
                });
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            out
        })
    })
}

/// §1.7 → §4.2: the control database's master fails; its peer is read-only. The
/// playbook judges the role by the peer, starts the failed MySQL itself (`startup
/// mysql`: `scripts/lab mysql-start primary --read-only`, the inventory's command, run
/// over SSH through the lab's sshd on loopback), repairs replication both ways, and only then makes it writable —
/// never two writable nodes, watched all along.
#[test]
fn control_db_master_restarted_never_two_writable() {
    let Some(s) = Scenario::start(
        "control_db_master_restarted_never_two_writable",
        &[CONTAINERS, MYSQL],
    ) else {
        return;
    };
    ensure_mysql_pristine(&s);
    let _reset = s.reset_on_exit("mariadb", true);
    let inv = s.render("control-db.mend.toml");
    insert_rows(&s, 1..=25);
    rows_reach_replica(&s, 25);
    replicate_both_ways(&s);

    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_read_only(&s, stop.clone());
    s.lab(&["mysql-stop", "primary"]);
    assert!(s.lab(&["dbs"]).contains("DOWN"), "the master is down");

    let r = s.mend_run(
        CONTROL_DB,
        "software_fault(ark_metadb)",
        "primary",
        &inv,
        "confirm",
    );
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    let seen = watcher.join().expect("the read_only watcher");
    r.succeeded();

    let role = r.ok_step("lookup role");
    assert!(
        role.contains("is the master") && role.contains("does not answer"),
        "§4.2: the failed node is judged by its peer: {role}"
    );
    let started = r.ok_step("startup mysql");
    assert!(
        started.contains("mysql-start primary --read-only") && started.contains("over ssh"),
        "started again by the playbook, over SSH: {started}"
    );
    let journal = r.journal();
    assert!(
        decisions(&journal)
            .iter()
            .any(|(_, subject, value)| subject == "peer_mode" && value == "ro"),
        "{:?}",
        decisions(&journal)
    );
    r.ok_step("set read_only off");
    r.ok_step("verify");

    // Never two writable nodes, at any instant the watcher saw.
    assert!(seen.len() > 20, "the watcher looked {} times", seen.len());
    let both: Vec<&ReadOnly> = seen
        .iter()
        .filter(|x| x.primary == Some(false) && x.replica == Some(false))
        .collect();
    assert!(both.is_empty(), "two writable nodes: {both:?}");
    assert!(
        seen.iter().all(|x| x.replica != Some(false)),
        "the peer stayed read-only"
    );
    assert!(
        seen.iter().any(|x| x.primary.is_none()),
        "the master was seen down"
    );
    let down = seen.iter().position(|x| x.primary.is_none()).unwrap();
    let first_rw = down
        + seen[down..]
            .iter()
            .position(|x| x.primary == Some(false))
            .expect("the master became writable again");
    assert!(
        seen[down..first_rw]
            .iter()
            .all(|x| x.primary != Some(false)),
        "it came back read-only"
    );
    eprintln!(
        "read_only watched {} times over {} ms; master down, {} looks read-only after its start, then writable",
        seen.len(),
        seen.last().map_or(0, |x| x.at_ms),
        seen[down..first_rw]
            .iter()
            .filter(|x| x.primary == Some(true))
            .count()
    );
    let dbs = s.lab(&["dbs"]);
    assert!(
        dbs.lines()
            .any(|l| l.starts_with("primary") && l.contains("[RW]"))
            && dbs
                .lines()
                .any(|l| l.starts_with("replica") && l.contains("[RO]")),
        "{dbs}"
    );

    // Re-joined: both directions run, and a write on the master reaches the replica.
    for node in ["primary", "replica"] {
        let st = s.slave_status(node);
        assert_eq!(st["Slave_IO_Running"], "Yes", "{node}");
        assert_eq!(st["Slave_SQL_Running"], "Yes", "{node}");
    }
    insert_rows(&s, 26..=30);
    s.wait_until(
        "the replica gets the new rows",
        Duration::from_secs(20),
        || count(&s, "replica") == 30,
    );
    assert_eq!(rows(&s, "replica"), rows(&s, "primary"), "no row lost");
}

// ---- §3.8 DNCS ----------------------------------------------------------------------------

fn dom_count(s: &Scenario, node: &str) -> Option<(u64, String)> {
    let url = s.get("MEND_LAB_DNCS_URL");
    let o = s.docker(&["exec", node, "curl", &url]);
    if !o.status.success() {
        return None;
    }
    let body = String::from_utf8_lossy(&o.stdout).into_owned();
    let v: serde_json::Value = serde_json::from_str(body.trim()).ok()?;
    Some((v["count"].as_u64()?, body))
}

/// §3.8: every DNCS-Server node down. Every node and every Registrator is restarted;
/// every node then answers `allDomNames` with the same count.
#[test]
fn dncs_all_down_all_back_same_count() {
    let Some(s) = Scenario::start("dncs_all_down_all_back_same_count", &[CONTAINERS]) else {
        return;
    };
    s.ensure_containers_pristine();
    let _reset = s.reset_on_exit("containers", false);
    let inv = s.render("containers.mend.toml");
    let nodes: Vec<String> = s
        .get("MEND_LAB_DNCS")
        .split(',')
        .map(str::to_owned)
        .collect();
    assert_eq!(nodes.len(), 3);
    let registrators: Vec<String> = s
        .lab_containers()
        .into_iter()
        .filter(|c| c.component == "registrator")
        .map(|c| c.name)
        .collect();
    let domain = format!("scenario-{}.middleware.lab", std::process::id());
    s.lab(&["dncs-domains", "add", &domain]);
    let _forget = DelDomain(&s, domain.clone());
    let want = s
        .lab(&["dncs-domains", "list"])
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count() as u64;
    s.wait_until(
        "every node serves the new domain",
        Duration::from_secs(10),
        || {
            nodes
                .iter()
                .all(|n| dom_count(&s, n).is_some_and(|(c, _)| c == want))
        },
    );
    let reg_before: Vec<String> = registrators.iter().map(|r| s.must(r).started_at).collect();

    let mut kill = vec!["kill"];
    kill.extend(nodes.iter().map(String::as_str));
    s.docker(&kill);
    for n in &nodes {
        assert!(!s.must(n).running());
        assert!(dom_count(&s, n).is_none(), "{n} answers while down");
    }

    let ip = s.must(&nodes[0]).ip;
    let r = s.mend_run(DNCS, "hardware_fault(dncs_server)", &ip, &inv, "confirm");
    r.succeeded();
    let journal = r.journal();
    assert!(
        decisions(&journal)
            .iter()
            .any(|(_, subject, value)| subject == "nodes_down" && value == "all"),
        "{:?}",
        decisions(&journal)
    );
    let restarted: Vec<&serde_json::Value> = r
        .steps()
        .into_iter()
        .filter(|x| x["text"] == "restart")
        .collect();
    assert_eq!(
        restarted.len(),
        nodes.len() + registrators.len(),
        "every node, then Registrator on every host"
    );
    for (reg, before) in registrators.iter().zip(&reg_before) {
        assert_ne!(&s.must(reg).started_at, before, "{reg} restarted");
    }
    for n in &nodes {
        assert!(s.must(n).running() && s.probe(n), "{n} is back");
    }
    // §3.8's expected result: the same count in every node (they resync every second).
    s.wait_until(
        "every node reports the same count",
        Duration::from_secs(10),
        || {
            nodes
                .iter()
                .all(|n| dom_count(&s, n).is_some_and(|(c, _)| c == want))
        },
    );
    for n in &nodes {
        let (_, body) = dom_count(&s, n).unwrap();
        assert!(body.contains(&domain), "{n}: {body}");
    }
}

/// Removes the scenario's DNCS domain on the way out.
struct DelDomain<'a>(&'a Scenario, String);

impl Drop for DelDomain<'_> {
    fn drop(&mut self) {
        let _ = self.0.lab_try(&["dncs-domains", "del", &self.1]);
    }
}

// ---- the runner killed at every step of §3.2 -------------------------------------------

/// The master path of §3.2, in order (the `mend run` step IDs).
const MASTER_STEPS: [(&str, &str); 10] = [
    ("1", "confirm alert"),
    ("2", "lookup role"),
    ("3.1.1", "backup store"),
    ("3.1.2", "accept loss"),
    ("4", "decommission"),
    ("5", "recreate"),
    ("6", "restore store"),
    ("7", "start"),
    ("8.1", "probe"),
    ("9", "verify"),
];

fn journal_of(state: &Path) -> Option<PathBuf> {
    let runs = std::fs::read_dir(state.join("runs")).ok()?;
    runs.flatten()
        .map(|e| e.path().join("journal.jsonl"))
        .find(|p| p.is_file())
}

/// `(intents, finished outcomes)` per step.
fn tally(records: &[Record]) -> (BTreeMap<String, usize>, BTreeMap<String, Vec<StepStatus>>) {
    let mut intents: BTreeMap<String, usize> = BTreeMap::new();
    let mut outcomes: BTreeMap<String, Vec<StepStatus>> = BTreeMap::new();
    for r in records {
        match r {
            Record::Intent { step, .. } => *intents.entry(step.clone()).or_default() += 1,
            Record::Outcome { step, status, .. } => {
                outcomes.entry(step.clone()).or_default().push(*status);
            }
            _ => {}
        }
    }
    (intents, outcomes)
}

/// Docker's events for the container since `since` (unix seconds): action → count.
fn events(s: &Scenario, name: &str, since: f64) -> BTreeMap<String, usize> {
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let o = s.docker(&[
        "events",
        "--since",
        &format!("{since:.3}"),
        "--until",
        &format!("{until:.3}"),
        "--filter",
        &format!("container={name}"),
        "--format",
        "{{.Action}}",
    ]);
    assert!(
        o.status.success(),
        "docker events: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut out = BTreeMap::new();
    for a in String::from_utf8_lossy(&o.stdout).lines() {
        *out.entry(a.split(':').next().unwrap_or(a).trim().to_owned())
            .or_default() += 1;
    }
    out
}

/// Where the runner is killed: as soon as step k's intent is in the journal (the step
/// in flight), or as soon as its outcome is (between steps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KillAt {
    Intent,
    Outcome,
}

/// §3.2 with the runner killed (SIGKILL) at every step k: right after step k's intent
/// reaches the journal, and right after its outcome does; `mend resume` then finishes
/// the run. Each time: the same end state (same IP, the seed's store byte for byte,
/// probe, clusterList); every step finished once; no finished step acted again; the
/// step in flight, if any, reconciled or redone once; and Docker saw the old container
/// destroyed once, the new one created once and started once, from one backup.
#[test]
fn sigkill_at_every_step_then_resume() {
    let Some(s) = Scenario::start("sigkill_at_every_step_then_resume", &[CONTAINERS]) else {
        return;
    };
    s.ensure_containers_pristine();
    let _reset = s.reset_on_exit("containers", false);
    let inv = s.render("containers.mend.toml");
    let answers = s.answers("hardware-fault");
    let (m, ip) = (
        s.get("MEND_LAB_BROKER_MASTER"),
        s.get("MEND_LAB_BROKER_MASTER_IP"),
    );
    let seed = s.dir_sums(&s.get("MEND_LAB_BROKER_MASTER_SEED"));
    assert_eq!(s.store_sums(&m), seed);
    let mut cases = Vec::new();
    for k in 0..MASTER_STEPS.len() {
        cases.push((KillAt::Intent, k));
        // After the last step's outcome the run is over: nothing to kill.
        if k + 1 < MASTER_STEPS.len() {
            cases.push((KillAt::Outcome, k));
        }
    }

    for (n, (at, k)) in cases.into_iter().enumerate() {
        let (kill_at, text) = MASTER_STEPS[k];
        let before = s.must(&m);
        assert!(before.running());
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        s.docker(&["kill", &m]);
        let state = s.work.0.join(format!("kill-{n}"));
        let args = s.run_args(
            MQ,
            "hardware_fault(mq_broker)",
            &ip,
            &inv,
            Some(&answers),
            &state,
        );
        let started = Instant::now();
        let (mut child, _, err) = s.spawn_mend(&args, &format!("kill-{n}"));
        let journal = loop {
            if let Some(j) = journal_of(&state) {
                let hit = read_journal(&j).iter().any(|r| match (at, r) {
                    (KillAt::Intent, Record::Intent { step, .. })
                    | (KillAt::Outcome, Record::Outcome { step, .. }) => step == kill_at,
                    _ => false,
                });
                if hit {
                    child.0.kill().expect("SIGKILL");
                    break j;
                }
            }
            assert!(
                child.0.try_wait().unwrap().is_none(),
                "{at:?} {kill_at}: the runner ended before it: {}",
                tail(&std::fs::read_to_string(&err).unwrap_or_default(), 20)
            );
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{at:?} {kill_at}: never reached"
            );
            std::thread::sleep(Duration::from_millis(1));
        };
        let status = child.0.wait().unwrap();
        assert!(!status.success(), "{at:?} {kill_at}: killed, not finished");
        let pre = read_journal(&journal);
        assert!(
            !pre.iter().any(|r| matches!(r, Record::End { .. })),
            "{at:?} {kill_at}: the run had ended"
        );
        let (pre_intents, pre_done) = tally(&pre);
        let in_flight: Vec<String> = pre_intents
            .keys()
            .filter(|st| !pre_done.contains_key(*st))
            .cloned()
            .collect();
        let run_id = journal
            .parent()
            .and_then(Path::file_name)
            .unwrap()
            .to_string_lossy()
            .into_owned();

        let resume = [
            "resume",
            &run_id,
            "--inventory",
            &inv.display().to_string(),
            "--state-dir",
            &state.display().to_string(),
            "--answers",
            &answers.display().to_string(),
            "--log-format",
            "json",
        ]
        .map(str::to_owned);
        let t = Instant::now();
        let (child, out, err) = s.spawn_mend(&resume, &format!("resume-{n}"));
        let r = s.finish(child, &out, &err, &format!("mend resume {run_id}"), t);
        r.succeeded();

        // The whole journal, run and resume.
        let all = read_journal(&journal);
        let resumed_at = all
            .iter()
            .position(|r| matches!(r, Record::Resumed { .. }))
            .expect("a resumed record");
        assert_eq!(
            all.iter()
                .filter(|r| matches!(r, Record::Resumed { .. }))
                .count(),
            1
        );
        let (intents, done) = tally(&all);
        let (after_intents, _) = tally(&all[resumed_at..]);
        let ids: BTreeSet<&str> = MASTER_STEPS.iter().map(|(id, _)| *id).collect();
        assert_eq!(
            done.keys().map(String::as_str).collect::<BTreeSet<_>>(),
            ids,
            "{at:?} {kill_at}: every step of the master path finished"
        );
        for (step, statuses) in &done {
            assert_eq!(
                statuses.len(),
                1,
                "{at:?} {kill_at}: step {step} finished {statuses:?}: not once"
            );
            assert!(
                matches!(statuses[0], StepStatus::Ok | StepStatus::Reconciled),
                "{at:?} {kill_at}: step {step}: {statuses:?}"
            );
        }
        for step in pre_done.keys() {
            assert!(
                !after_intents.contains_key(step),
                "{at:?} {kill_at}: step {step} had finished, and acted again after the resume"
            );
        }
        for (step, n) in &intents {
            let allowed = if in_flight.contains(step) { 2 } else { 1 };
            assert!(
                *n <= allowed,
                "{at:?} {kill_at}: step {step} has {n} intents"
            );
        }
        let backups = std::fs::read_dir(state.join("runs").join(&run_id).join("backups"))
            .map(|d| d.flatten().count())
            .unwrap_or(0);
        assert_eq!(backups, 1, "{at:?} {kill_at}: the backup was taken once");
        let replayed = r.steps().iter().filter(|x| x["replayed"] == true).count();

        // The same end state as an uninterrupted run.
        let now = s.must(&m);
        assert_ne!(now.id, before.id, "{at:?} {kill_at}: recreated");
        assert_eq!(now.ip, ip, "{at:?} {kill_at}: the same IP");
        assert!(now.running(), "{at:?} {kill_at}: running");
        assert_eq!(
            s.store_sums(&m),
            seed,
            "{at:?} {kill_at}: the store byte-identical"
        );
        assert!(s.probe(&m), "{at:?} {kill_at}: the probe passes");
        s.wait_until(
            "the broker is listed again",
            Duration::from_secs(10),
            || listed(&s, &ip),
        );
        // What Docker saw: one removal, one creation, one start.
        let ev = events(&s, &m, since);
        for action in ["destroy", "create", "start"] {
            assert_eq!(
                ev.get(action).copied().unwrap_or(0),
                1,
                "{at:?} {kill_at}: `{action}` events: {ev:?}"
            );
        }

        let verdict = match in_flight.as_slice() {
            [] => "nothing in flight".to_owned(),
            [one] => {
                let how = match done[one][0] {
                    StepStatus::Reconciled => "reconciled from the real state",
                    _ if after_intents.contains_key(one) => "run again",
                    _ => "finished",
                };
                format!("step {one} in flight, {how}")
            }
            many => format!("{many:?} in flight"),
        };
        eprintln!(
            "killed after the {} of {kill_at} `{text}`: {verdict}; resume replayed {replayed} step(s) in {:.2}s",
            match at {
                KillAt::Intent => "intent",
                KillAt::Outcome => "outcome",
            },
            r.wall.as_secs_f64()
        );
    }
}

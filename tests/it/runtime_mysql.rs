//! The MySQL driver and a §4.1.3 repair playbook against the lab's MariaDB pair
//! (`MEND_LAB_MYSQL_PRIMARY`, `MEND_LAB_MYSQL_REPLICA`, user and password file).
//! Replication is one shared state: each test holds the lab lock `mysql` and leaves the
//! pair replicating, `STRICT`, with its parallel workers as it found them.

use crate::runtime_lab::{Lab, Scratch};
use mend_compiler::plan::CheckedPlaybook;
use mend_runtime::driver::mysql::{MysqlAsync, row_columns};
use mend_runtime::driver::replication::{Dialect, ReplicaError};
use mend_runtime::driver::{MysqlDriver, MysqlRead, ReplicaStatus};
use mend_runtime::{AnswersFile, Inventory, Outcome, RunOptions, Runtime};
use mysql_async::prelude::Queryable;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PRIMARY: &str = "lab_primary";
const REPLICA: &str = "lab_replica";

struct Pair {
    inventory: Inventory,
    password: String,
    primary: (String, u16),
    replica: (String, u16),
    user: String,
}

fn pair(test: &str) -> Option<Pair> {
    let lab = Lab::load();
    let keys = [
        "MEND_LAB_MYSQL_PRIMARY",
        "MEND_LAB_MYSQL_REPLICA",
        "MEND_LAB_MYSQL_USER",
        "MEND_LAB_MYSQL_PASSWORD_FILE",
    ];
    if !lab.has(test, &keys) {
        return None;
    }
    let primary = lab.loopback(test, "MEND_LAB_MYSQL_PRIMARY")?;
    let replica = lab.loopback(test, "MEND_LAB_MYSQL_REPLICA")?;
    let user = lab.get("MEND_LAB_MYSQL_USER");
    let pw_file = lab.get("MEND_LAB_MYSQL_PASSWORD_FILE");
    let password = std::fs::read_to_string(&pw_file)
        .expect("password file")
        .trim()
        .to_owned();
    let toml = format!(
        "[mysql.{PRIMARY}]\ncomponent = \"dbnode\"\nhost = \"{}\"\nport = {}\nuser = \"{user}\"\npassword_file = \"{pw_file}\"\ngroup = \"lab\"\n\
         [mysql.{REPLICA}]\ncomponent = \"dbnode\"\nhost = \"{}\"\nport = {}\nuser = \"{user}\"\npassword_file = \"{pw_file}\"\ngroup = \"lab\"\n",
        primary.0, primary.1, replica.0, replica.1
    );
    Some(Pair {
        inventory: Inventory::parse(&toml, "mend.toml", None).expect("inventory"),
        password,
        primary,
        replica,
        user,
    })
}

/// Puts the pair back (replicating, STRICT, replica read-only) when a test panics
/// half-way, so that one failure does not break every later lab test.
struct RepairOnPanic<'a>(&'a Pair);

impl Drop for RepairOnPanic<'_> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let pair = self.0;
        std::thread::scope(|s| {
            s.spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    let mut c = pair.conn(&pair.replica).await;
                    let _ = c
                        .query_drop(
                            "STOP SLAVE; SET GLOBAL slave_exec_mode = 'IDEMPOTENT'; START SLAVE; DO SLEEP(3); \
                             STOP SLAVE; SET GLOBAL slave_exec_mode = 'STRICT'; SET GLOBAL read_only = ON; START SLAVE",
                        )
                        .await;
                    let _ = c.disconnect().await;
                });
            });
        });
    }
}

impl Pair {
    async fn conn(&self, (host, port): &(String, u16)) -> mysql_async::Conn {
        let opts = mysql_async::OptsBuilder::default()
            .ip_or_hostname(host.clone())
            .tcp_port(*port)
            .user(Some(self.user.clone()))
            .pass(Some(self.password.clone()))
            .prefer_socket(false);
        mysql_async::Conn::new(opts).await.expect("connect")
    }

    async fn wait_status(
        &self,
        d: &MysqlAsync,
        what: &str,
        ok: impl Fn(&ReplicaStatus) -> bool,
    ) -> ReplicaStatus {
        let start = Instant::now();
        loop {
            let s = d
                .replica_status(REPLICA)
                .await
                .unwrap()
                .expect("the replica is a replica");
            if ok(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "waiting for {what}: {}",
                s.summary()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test]
async fn mysql_driver_on_the_lab_pair() {
    let test = "runtime_mysql::mysql_driver_on_the_lab_pair";
    let Some(p) = pair(test) else { return };
    let _lock = Lab::load().exclusive("mysql").await;
    let d = MysqlAsync::new(p.inventory.mysql.clone());
    p.wait_status(
        &d,
        "healthy replication before the test",
        ReplicaStatus::healthy,
    )
    .await;
    let _repair = RepairOnPanic(&p);

    let info = d.server(REPLICA).await.unwrap();
    assert!(info.version.contains("MariaDB"), "{info:?}");
    assert_eq!(info.dialect, Dialect::Replica);
    assert_eq!(info.exec_mode_var.as_deref(), Some("slave_exec_mode"));
    assert_eq!(info.parallel_var.as_deref(), Some("slave_parallel_threads"));
    assert!(!info.has_smart);
    assert!(
        d.replica_status(PRIMARY).await.unwrap().is_none(),
        "the primary is no replica"
    );
    assert!(d.read_only(REPLICA).await.unwrap());
    assert!(!d.read_only(PRIMARY).await.unwrap());
    assert_eq!(d.exec_mode(REPLICA).await.unwrap(), "STRICT");

    // Both dialects read the same through `ReplicaStatus`.
    let mut c = p.conn(&p.replica).await;
    let old: Vec<mysql_async::Row> = c.query("SHOW SLAVE STATUS").await.unwrap();
    let new: Vec<mysql_async::Row> = c.query("SHOW REPLICA STATUS").await.unwrap();
    let (old, new) = (
        ReplicaStatus::from_columns(&row_columns(&old[0])),
        ReplicaStatus::from_columns(&row_columns(&new[0])),
    );
    assert!(old.healthy() && new.healthy());
    assert_eq!(old.source_port, Some(p.primary.1));
    assert_eq!(old.source_port, new.source_port);
    c.disconnect().await.unwrap();

    // Parallel workers: MariaDB wants the replica stopped (error 1198); the driver
    // stops it, sets, starts it again.
    let before = d.parallel_workers(REPLICA).await.unwrap();
    let applied = d.set_parallel_workers(REPLICA, 0).await.unwrap();
    assert!(
        applied
            .note
            .as_deref()
            .is_some_and(|n| n.contains("stopped")),
        "{applied:?}"
    );
    assert_eq!(d.parallel_workers(REPLICA).await.unwrap(), 0);
    p.wait_status(
        &d,
        "replication after the workers change",
        ReplicaStatus::healthy,
    )
    .await;
    d.set_parallel_workers(REPLICA, before).await.unwrap();
    assert_eq!(d.parallel_workers(REPLICA).await.unwrap(), before);

    // read_only both ways.
    d.set_read_only(REPLICA, false).await.unwrap();
    assert!(!d.read_only(REPLICA).await.unwrap());
    d.set_read_only(REPLICA, true).await.unwrap();
    assert!(d.read_only(REPLICA).await.unwrap());

    // Apply mode: MariaDB refuses SMART (1231); the driver sets IDEMPOTENT and says so.
    d.stop_replica(REPLICA).await.unwrap();
    let lenient = d.set_exec_mode(REPLICA, true).await.unwrap();
    assert_eq!(lenient.value, "IDEMPOTENT");
    assert!(
        lenient.note.as_deref().is_some_and(|n| n.contains("1231")),
        "{lenient:?}"
    );
    assert_eq!(d.exec_mode(REPLICA).await.unwrap(), "IDEMPOTENT");
    assert_eq!(
        d.set_exec_mode(REPLICA, false).await.unwrap().value,
        "STRICT"
    );
    d.start_replica(REPLICA).await.unwrap();
    p.wait_status(&d, "replication restarted", ReplicaStatus::healthy)
        .await;

    // §4.1.1 metadata query, on a schema of this test.
    let db = format!("mend_rt_meta_{}", std::process::id());
    let mut c = p.conn(&p.primary).await;
    c.query_drop(format!(
        "CREATE DATABASE IF NOT EXISTS {db}; \
         CREATE TABLE {db}.dbfree_instance_list (instance_id INT, host_name VARCHAR(64), ip VARCHAR(64), port INT, role VARCHAR(16)); \
         INSERT INTO {db}.dbfree_instance_list VALUES (7,'db-a','10.1.0.5',3306,'master'),(7,'db-b','10.1.0.6',3306,'slave'),(8,'db-c','10.1.0.7',3306,'master')"
    ))
    .await
    .unwrap();
    let mut meta = p.inventory.mysql[PRIMARY].clone();
    meta.name = "metadb".into();
    meta.database = Some(db.clone());
    meta.metadb = true;
    let md = MysqlAsync::new([("metadb".to_owned(), meta)].into());
    let rows = md.metadb_roles("metadb", "10.1.0.6", 3306).await.unwrap();
    let mut roles: Vec<(String, String)> =
        rows.into_iter().map(|r| (r.host_name, r.role)).collect();
    roles.sort();
    assert_eq!(
        roles,
        [
            ("db-a".into(), "master".into()),
            ("db-b".into(), "slave".into())
        ]
    );
    c.query_drop(format!("DROP DATABASE {db}")).await.unwrap();
    c.disconnect().await.unwrap();

    // Errors name the endpoint and never the password.
    let mut bad = p.inventory.mysql[PRIMARY].clone();
    bad.port = 1;
    let bd =
        MysqlAsync::new([(PRIMARY.to_owned(), bad)].into()).with_timeout(Duration::from_secs(5));
    let e = bd.read_only(PRIMARY).await.unwrap_err();
    assert!(e.message.contains("lab_primary (127.0.0.1:1)"), "{e}");
    let scratch = Scratch::new("mysql-badpw");
    let wrong = scratch.0.join("pw");
    std::fs::write(&wrong, format!("{}-wrong\n", p.password)).unwrap();
    let mut bad = p.inventory.mysql[PRIMARY].clone();
    bad.password = mend_runtime::inventory::PasswordRef::File(wrong);
    let bd = MysqlAsync::new([(PRIMARY.to_owned(), bad)].into());
    let e = bd.read_only(PRIMARY).await.unwrap_err();
    assert!(e.message.contains("Access denied"), "{e}");
    assert!(!e.message.contains(&p.password), "{e}");
}

/// §4.1.3 for the duplicate-key error, with the switch back on every exit, compiled.
fn repair_playbook() -> CheckedPlaybook {
    let source = r#"component dbnode {
  kind stateful
  store "/u01"
  role read_only
  engine mysql
}

on software_fault(dbnode) <
  confirm alert;
  lookup role;
  match replica_error {
    duplicate_key => try <
      stop replica;
      set exec_mode lenient;
      start replica;
      wait replica_healthy within 30s
    > finally <
      stop replica;
      set exec_mode strict;
      start replica
    >,
    none => wait replica_healthy within 30s,
    _ => escalate "call a database expert",
  };
  verify within 30s
>
"#;
    let file = "stdlib-playbooks/dbnode.mend";
    let compiled = mend_compiler::check(
        vec![mend_compiler::SourceFile::new(file, source.to_owned())],
        &mend_compiler::source::MemoryProvider::default(),
    );
    assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
    compiled
        .playbooks
        .into_iter()
        .next()
        .expect("the playbook")
        .plan
}

#[tokio::test]
async fn duplicate_key_is_repaired_by_a_playbook() {
    let test = "runtime_mysql::duplicate_key_is_repaired_by_a_playbook";
    let Some(p) = pair(test) else { return };
    let _lock = Lab::load().exclusive("mysql").await;
    let d = MysqlAsync::new(p.inventory.mysql.clone());
    p.wait_status(
        &d,
        "healthy replication before the test",
        ReplicaStatus::healthy,
    )
    .await;
    let _repair = RepairOnPanic(&p);

    // Break it: the same key written on the replica, then on the primary (error 1062).
    let table = format!("lab.mend_rt_{}", std::process::id());
    let mut primary = p.conn(&p.primary).await;
    primary
        .query_drop(format!("CREATE TABLE IF NOT EXISTS {table} (id INT PRIMARY KEY, v VARCHAR(64)); INSERT INTO {table} VALUES (1, 'one')"))
        .await
        .unwrap();
    let mut replica = p.conn(&p.replica).await;
    let start = Instant::now();
    while replica
        .query_first::<i64, _>(format!("SELECT COUNT(*) FROM {table}"))
        .await
        .ok()
        .flatten()
        != Some(1)
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "table did not replicate"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    replica
        .query_drop(format!(
            "INSERT INTO {table} VALUES (2, 'written on the replica')"
        ))
        .await
        .unwrap();
    primary
        .query_drop(format!(
            "INSERT INTO {table} VALUES (2, 'written on the primary'), (3, 'three')"
        ))
        .await
        .unwrap();
    let broken = p
        .wait_status(&d, "error 1062", |s| {
            s.classify() == ReplicaError::DuplicateKey
        })
        .await;
    assert!(!broken.sql_running);
    assert_eq!(broken.last_sql_errno, 1062);

    let scratch = Scratch::new("mysql-run");
    let drivers = mend_runtime::connect(&p.inventory).await;
    let mut opts = RunOptions::new(&scratch.0);
    opts.poll = Duration::from_millis(200);
    let rt = Runtime::new(p.inventory.clone(), drivers, opts).with_answers(Arc::new(
        AnswersFile::parse("\"confirm alert\" = \"yes\"\n", "answers").unwrap(),
    ));
    // `mend plan` first: read-only, it sees the error and says what SMART becomes.
    let plan = rt
        .plan(&repair_playbook(), REPLICA)
        .await
        .unwrap()
        .to_string();
    assert!(
        plan.contains("match replica_error (now: duplicate_key)"),
        "{plan}"
    );
    assert!(plan.contains("SMART will be IDEMPOTENT"), "{plan}");
    assert!(!plan.contains(&p.password));
    let s = rt.run(&repair_playbook(), REPLICA).await.unwrap();
    assert_eq!(s.outcome, Outcome::Succeeded, "{s}");
    assert!(
        s.steps
            .iter()
            .any(|r| r.id == "2" && r.message.contains("slave")),
        "{s}"
    );
    let lenient = s.steps.iter().find(|r| r.id == "3.1.1.2").unwrap();
    assert!(
        lenient.message.contains("IDEMPOTENT"),
        "{}",
        lenient.message
    );
    assert_eq!(
        d.exec_mode(REPLICA).await.unwrap(),
        "STRICT",
        "switched back"
    );
    let healthy = p
        .wait_status(&d, "healthy after the repair", ReplicaStatus::healthy)
        .await;
    assert_eq!(healthy.classify(), ReplicaError::None);
    // No row lost: both sides hold ids 1, 2, 3.
    for c in [&mut primary, &mut replica] {
        let ids: Vec<i64> = c
            .query(format!("SELECT id FROM {table} ORDER BY id"))
            .await
            .unwrap();
        assert_eq!(ids, [1, 2, 3]);
    }
    // The password is nowhere in what the run wrote.
    let journal = std::fs::read_to_string(&s.journal).unwrap();
    assert!(!journal.contains(&p.password) && !s.to_string().contains(&p.password));

    primary
        .query_drop(format!("DROP TABLE {table}"))
        .await
        .unwrap();
    p.wait_status(&d, "healthy after the cleanup", ReplicaStatus::healthy)
        .await;
    primary.disconnect().await.unwrap();
    replica.disconnect().await.unwrap();
}

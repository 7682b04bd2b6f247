//! Injection (issue "Hardening", part 5): values with shell metacharacters reach
//! Docker, the host and MySQL as data, never as code.
//!
//! Docker refuses such characters in a container *name* (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`),
//! so names are no way in; the ways in are the `--target` an operator pastes from an
//! alert, the labels of a container (whoever created it chose them: the component's
//! selector, the host label, the probe command), and values that end up in SQL.
//! Every test looks for a marker file that a value would create if it ran as code,
//! on this machine and inside the container.

use crate::fault_support::runtime;
use crate::fault_support::{Bench, Ran};
use crate::runtime_lab::{Lab, Sandbox};
use crate::support::repo_root;
use std::path::Path;
use std::process::Command;

/// Values a hostile alert or label could carry; `MARK` is replaced by a marker path.
const HOSTILE: &[&str] = &[
    "x; touch MARK",
    "$(touch MARK)",
    "`touch MARK`",
    "x' OR '1'='1'; touch MARK; --",
    "a\"b\" && touch MARK",
    "line\ntouch MARK",
    "172.30.0.1;touch${IFS}MARK",
    "| touch MARK",
];

fn hostile(mark: &Path) -> Vec<String> {
    HOSTILE
        .iter()
        .map(|v| v.replace("MARK", &mark.display().to_string()))
        .collect()
}

/// Fails if the marker exists on this machine or, when `container` is given, inside it.
fn assert_no_marker(mark: &Path, container: Option<&str>, what: &str) {
    assert!(!mark.exists(), "{what}: {} was created", mark.display());
    if let Some(c) = container {
        let inside = Command::new("docker")
            .args(["exec", c, "ls", &mark.display().to_string()])
            .output()
            .expect("docker exec");
        assert!(
            !inside.status.success(),
            "{what}: {} was created inside {c}",
            mark.display()
        );
    }
}

/// A run that did not panic and answered with an exit code of the table.
fn assert_clean(r: &Ran) {
    assert!(
        (0..=6).contains(&r.code) && !r.stderr.contains("panicked"),
        "{}",
        r.explain()
    );
}

/// A stateless container of the lab's image on the sandbox network, with `labels`.
fn container(sb: &Sandbox, name: &str, ip: &str, labels: &[(&str, &str)]) -> String {
    let image = Lab::load().get("MEND_LAB_IMAGE");
    let image = if image.is_empty() {
        "mend-lab/component:latest".to_owned()
    } else {
        image
    };
    let name = format!("{name}-{}", std::process::id());
    let mut args: Vec<String> = [
        "run",
        "-d",
        "--pull=never",
        "--name",
        &name,
        "--network",
        &sb.net,
        "--ip",
        ip,
        "-e",
        "LAB_ROLE=stateless",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut all: std::collections::BTreeMap<&str, &str> = [
        ("mend.test.net", sb.net.as_str()),
        ("aliyun.probe.cmd", crate::runtime_lab::PROBE),
    ]
    .into();
    all.extend(labels.iter().copied());
    for (k, v) in all {
        args.push("--label".into());
        args.push(format!("{k}={v}"));
    }
    args.push(image);
    let o = Command::new("docker")
        .args(&args)
        .output()
        .expect("docker run");
    assert!(
        o.status.success(),
        "docker run {name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    name
}

/// Removes containers made with [`container`] when dropped.
struct Gone(Vec<String>);

impl Drop for Gone {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f"])
            .args(&self.0)
            .output();
    }
}

/// Hostile `--target` values (from an alert: a name, an IP): `mend plan` and
/// `mend run` refuse them as unknown targets, and nothing runs them.
#[test]
fn injection_hostile_targets() {
    let test = "runtime_injection::injection_hostile_targets";
    let Some(crate::fault_support::OneContainer { b, c, sb: _sb }) =
        crate::fault_support::one_container(
            test,
            "itgt",
            1_000,
            false,
            "  confirm alert;\n  restart;\n  probe;\n  verify within 1m",
        )
    else {
        return;
    };
    let mark = b.work.0.join("pwned");
    let before = crate::fault_support::started_at(&c);
    let pbf = b.playbook.display().to_string();
    for value in hostile(&mark) {
        for cmd in ["plan", "run"] {
            let r = b
                .spawn(&[
                    cmd,
                    &pbf,
                    "--on",
                    "software_fault(rt_app)",
                    "--target",
                    &value,
                ])
                .finish();
            assert_clean(&r);
            assert_eq!(r.code, 2, "an unknown target is an error\n{}", r.explain());
            assert_no_marker(&mark, Some(&c), &format!("mend {cmd} --target {value:?}"));
        }
    }
    assert_eq!(
        crate::fault_support::started_at(&c),
        before,
        "nothing was restarted"
    );
    // Docker itself refuses such a name, so no container can carry one.
    let o = Command::new("docker")
        .args([
            "create",
            "--pull=never",
            "--name",
            "x;touch",
            "mend-lab/base:latest",
        ])
        .output()
        .expect("docker create");
    assert!(!o.status.success(), "Docker accepted a name with `;`");
}

/// Labels with metacharacters: the component's selector and the host label match
/// them as data, the probe label and an `exec` run as argv without a shell, and a
/// host command (`restart_daemon`) gets the host label as one argument: the label
/// `h1;touch pwned $(touch pwned)` becomes one file of that name, not `pwned`.
#[test]
fn injection_hostile_labels() {
    let test = "runtime_injection::injection_hostile_labels";
    let rt = runtime();
    let Some(sb) = rt.block_on(Sandbox::new(test, "ilab")) else {
        return;
    };
    let scratch = crate::runtime_lab::Scratch::new("inj-labels-cwd");
    let inside = "/tmp/mend-pwned";
    let evil = format!("x; touch {inside} $(touch {inside}) `touch {inside}`");
    let host = "h1;touch pwned $(touch pwned)".to_owned();
    let probe = format!("echo ok;touch${{IFS}}{inside} $(touch {inside}) `touch {inside}`");
    let c = container(
        &sb,
        "rt-ilab",
        &sb.ip(21),
        &[
            ("mend.test.evil", &evil),
            ("mend.test.host", &host),
            ("aliyun.probe.cmd", &probe),
        ],
    );
    let _gone = Gone(vec![c.clone()]);
    let pb = format!(
        "component rt_evil {{\n  kind stateless\n  select label \"mend.test.net\" = \"{net}\"\n  \
         select label \"mend.test.evil\" = \"{evil}\"\n  probe label \"aliyun.probe.cmd\"\n}}\n\
         on host_down(rt_evil) <\n  confirm alert;\n  restart_daemon docker;\n  probe;\n  \
         each c on host < probe >;\n  exec \"echo $(touch {inside}) ; touch {inside}\";\n  verify within 1m\n>\n",
        net = sb.net
    );
    let inv = format!(
        "[docker]\nnetwork = \"{net}\"\nhost_label = \"mend.test.host\"\n\n[ssh.\"{host}\"]\nlocal = true\nrestart_daemon = \"touch {dir}/{{host}}\"\n",
        net = sb.net,
        dir = scratch.0.display()
    );
    let b = Bench::new("inj-labels", &pb, &inv);
    let r = b.run("host_down(rt_evil)", &sb.ip(21)).finish();
    assert_eq!(r.code, 0, "{}", r.explain());
    assert!(
        r.step("2")["message"]
            .as_str()
            .unwrap_or_default()
            .contains("exited 0"),
        "{}",
        r.explain()
    );
    assert!(
        scratch.0.join(&host).is_file(),
        "the host label reached `touch` as one argument: {:?}",
        crate::fault_support::files_under(&scratch.0)
    );
    assert!(
        !scratch.0.join("pwned").exists() && !b.work.0.join("pwned").exists(),
        "the host label was split into arguments"
    );
    assert_no_marker(Path::new(inside), Some(&c), "labels, probe and exec");
}

/// A value that ends up in SQL: the metadata DB's role query (§4.1.1) binds the
/// instance's address as parameters. Each hostile value is stored, as a row's `ip`,
/// next to a decoy row `10.9.9.1` of another role; `meta_ip` set to the value must
/// find exactly its own row (role `slave`). Pasted into the SQL, a quote would end
/// the string (a syntax error, or `… OR '1'='1'` matching the decoy `master` first),
/// and `; DROP TABLE` would drop the table.
#[test]
fn injection_hostile_value_reaches_mysql_as_data() {
    let test = "runtime_injection::injection_hostile_value_reaches_mysql_as_data";
    let Some((lab, _, port, _lock)) =
        crate::fault_support::lab_mysql(test, "MEND_LAB_MYSQL_PRIMARY")
    else {
        return;
    };
    let db = format!("mend_inj_{}", std::process::id());
    let sql = |text: &str| {
        let o = Command::new(repo_root().join("scripts/lab"))
            .args(["mysql", "primary", "-N", "-B", "-e", text])
            .output()
            .expect("scripts/lab mysql");
        assert!(
            o.status.success(),
            "{text}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    };
    let scratch = crate::runtime_lab::Scratch::new("inj-sql");
    let mark = scratch.0.join("pwned");
    let values: Vec<String> = hostile(&mark)
        .into_iter()
        .chain([
            "10.9.9.1' OR '1'='1".to_owned(),
            format!("x'; DROP TABLE {db}.dbfree_instance_list; -- "),
        ])
        .collect();
    // The rows, values as hex literals so that this test pastes nothing either;
    // binlogged off, so that nothing reaches the replica.
    let rows: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let hex = v.bytes().fold(String::new(), |mut h, b| {
                use std::fmt::Write as _;
                let _ = write!(h, "{b:02x}");
                h
            });
            format!("({},'h',X'{hex}',3306,'slave')", 100 + i)
        })
        .collect();
    sql(&format!(
        "SET sql_log_bin=0; CREATE DATABASE IF NOT EXISTS {db}; \
         CREATE TABLE IF NOT EXISTS {db}.dbfree_instance_list (instance_id INT, host_name VARCHAR(64), ip VARCHAR(255), port INT, role VARCHAR(16)); \
         DELETE FROM {db}.dbfree_instance_list; \
         INSERT INTO {db}.dbfree_instance_list VALUES (1,'h1','10.9.9.1',3306,'master'),{};",
        rows.join(",")
    ));
    struct DropDb(String);
    impl Drop for DropDb {
        fn drop(&mut self) {
            let _ = Command::new(repo_root().join("scripts/lab"))
                .args([
                    "mysql",
                    "primary",
                    "-e",
                    &format!("SET sql_log_bin=0; DROP DATABASE IF EXISTS {}", self.0),
                ])
                .output();
        }
    }
    let _cleanup = DropDb(db.clone());
    let pb = "component rt_node {\n  kind stateful\n  store \"/u01\"\n  engine mysql\n  role metadb\n  database business\n}\n\
              on software_fault(rt_node) <\n  confirm alert;\n  lookup role;\n  \
              match role { master => escalate \"master\", slave => escalate \"slave\" }\n>\n";
    for value in &values {
        let toml_value = value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        let inv = format!(
            "[mysql.meta]\ncomponent = \"metadb\"\nhost = \"127.0.0.1\"\nport = {port}\nuser = \"{user}\"\npassword_file = \"{pw}\"\nmetadb = true\ndatabase = \"{db}\"\n\n\
             [mysql.node]\ncomponent = \"rt_node\"\nhost = \"127.0.0.1\"\nport = {port}\nuser = \"{user}\"\npassword_file = \"{pw}\"\nmeta_ip = \"{toml_value}\"\nmeta_port = 3306\n",
            user = lab.get("MEND_LAB_MYSQL_USER"),
            pw = lab.get("MEND_LAB_MYSQL_PASSWORD_FILE"),
        );
        let b = Bench::new("inj-sql-run", pb, &inv);
        let r = b.run("software_fault(rt_node)", "node").finish();
        assert_clean(&r);
        let role = r.step("2")["message"].as_str().unwrap_or_default();
        assert!(
            r.code == 3 && r.summary["message"] == "slave" && role.contains("says slave"),
            "{value:?} did not find its own row\n{}",
            r.explain()
        );
        assert_no_marker(&mark, None, &format!("meta_ip {value:?}"));
    }
    assert_eq!(
        sql(&format!("SELECT COUNT(*) FROM {db}.dbfree_instance_list")),
        (values.len() + 1).to_string(),
        "the table is intact"
    );
}

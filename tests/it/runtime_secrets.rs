//! Secrets end to end (issue "Hardening", part 4): runs against the lab's MariaDB with
//! a known password, then a grep of everything they produced — stdout, stderr (text
//! and `--log-format json` logs, at `RUST_LOG=debug`), the plan, `mend runs`, every
//! file of the state directory (journals, plans, instances, locks, snapshots) — for
//! the password. Error paths too: a server on a wrong port, a login refused.
//!
//! Two secrets: the lab's own password (`password_file`), which must work (the run
//! logs in with it), and a fresh value (`password_env`) given to the failing
//! endpoints; the refused login says `using password: YES`, so it was sent.

use crate::fault_support::{Bench, Ran, files_under};

#[test]
fn secrets_never_leave_a_run() {
    let test = "runtime_secrets::secrets_never_leave_a_run";
    let Some((lab, _, port, _lock)) =
        crate::fault_support::lab_mysql(test, "MEND_LAB_MYSQL_REPLICA")
    else {
        return;
    };
    let pw_file = lab.get("MEND_LAB_MYSQL_PASSWORD_FILE");
    let lab_secret = std::fs::read_to_string(&pw_file).expect("the lab's password file");
    let lab_secret = lab_secret.trim_end_matches(['\n', '\r']).to_owned();
    assert!(lab_secret.len() >= 8, "a password worth looking for");
    let fresh = format!(
        "fresh-Secret-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let user = lab.get("MEND_LAB_MYSQL_USER");
    let inv = format!(
        "[mysql.replica]\ncomponent = \"rt_db\"\nhost = \"127.0.0.1\"\nport = {port}\nuser = \"{user}\"\npassword_file = \"{pw_file}\"\n\n\
         [mysql.nowhere]\ncomponent = \"rt_nowhere\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{user}\"\npassword_env = \"MEND_TEST_SECRET\"\n\n\
         [mysql.refused]\ncomponent = \"rt_refused\"\nhost = \"127.0.0.1\"\nport = {port}\nuser = \"mend_no_such_user\"\npassword_env = \"MEND_TEST_SECRET\"\n",
        crate::runtime_lab::free_port()
    );
    let comp = |n: &str| {
        format!(
            "component {n} {{\n  kind stateful\n  store \"/u01\"\n  engine mysql\n  role read_only\n  database business\n}}\n"
        )
    };
    let pb = format!(
        "{}{}{}\
         on software_fault(rt_db) <\n  confirm alert;\n  lookup role;\n  set read_only on;\n  verify within 1m\n>\n\
         on software_fault(rt_nowhere) <\n  confirm alert;\n  set read_only on;\n  verify within 1m\n>\n\
         on software_fault(rt_refused) <\n  confirm alert;\n  set read_only on;\n  verify within 1m\n>\n",
        comp("rt_db"),
        comp("rt_nowhere"),
        comp("rt_refused")
    );
    let mut b = Bench::new("secrets", &pb, &inv);
    b.env = vec![
        ("MEND_TEST_SECRET".into(), fresh.clone()),
        ("RUST_LOG".into(), "debug".into()),
    ];
    let pbf = b.playbook.display().to_string();
    let mut ran: Vec<Ran> = Vec::new();
    let run = |on: &str, target: &str, format: &str| b.run_logging(on, target, format).finish();

    let plan = b
        .spawn(&[
            "plan",
            &pbf,
            "--on",
            "software_fault(rt_db)",
            "--target",
            "replica",
        ])
        .finish();
    assert_eq!(plan.code, 0, "{}", plan.explain());
    ran.push(plan);
    for format in ["json", "text"] {
        let r = run("software_fault(rt_db)", "replica", format);
        assert_eq!(
            r.code,
            0,
            "logged in with the lab's password\n{}",
            r.explain()
        );
        ran.push(r);
    }
    let nowhere = run("software_fault(rt_nowhere)", "nowhere", "json");
    assert_eq!(nowhere.code, 6, "{}", nowhere.explain());
    let resumed = b
        .spawn(&[
            "resume",
            crate::fault_support::run_id(&nowhere).as_str(),
            "--log-format",
            "text",
        ])
        .finish();
    assert_eq!(resumed.code, 6, "{}", resumed.explain());
    let refused = run("software_fault(rt_refused)", "refused", "text");
    assert!(
        refused.stderr.contains("using password: YES"),
        "the fresh secret was sent\n{}",
        refused.explain()
    );
    ran.extend([nowhere, resumed, refused]);
    ran.push(b.spawn(&["runs"]).finish());

    let mut texts: Vec<(String, String)> = ran
        .iter()
        .flat_map(|r| {
            [
                (format!("{}: stdout", r.what), r.stdout.clone()),
                (format!("{}: stderr", r.what), r.stderr.clone()),
            ]
        })
        .collect();
    let files = files_under(&b.state);
    assert!(
        files.iter().any(|f| f.ends_with("journal.jsonl")) && files.len() >= 8,
        "the state directory holds the runs: {files:?}"
    );
    for f in files {
        let bytes = std::fs::read(&f).unwrap_or_default();
        texts.push((
            f.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    let mut leaks = Vec::new();
    for (what, text) in &texts {
        for (name, secret) in [("lab password", &lab_secret), ("fresh secret", &fresh)] {
            if text.contains(secret.as_str()) {
                leaks.push(format!("{name} in {what}"));
            }
        }
    }
    assert!(leaks.is_empty(), "credentials written: {leaks:#?}");
    // The grep can fail: the password file itself holds the secret.
    assert!(
        std::fs::read_to_string(&pw_file)
            .unwrap()
            .contains(&lab_secret)
    );
}

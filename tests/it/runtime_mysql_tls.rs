//! The MySQL driver over TLS (`[mysql.*] tls_ca`), against the lab's MariaDB, which
//! `scripts/lab` starts with a certificate for 127.0.0.1 signed by a CA of its own
//! (`MEND_LAB_MYSQL_TLS_CA`). A user made here `REQUIRE SSL` can log in only over
//! TLS, so a read that succeeds proves the session was encrypted; a plain login is
//! refused by the server, and a CA that did not sign the server is refused by mend.

use crate::fault_support::lab_mysql;
use crate::runtime_lab::{Scratch, unavailable};
use crate::support::repo_root;
use mend_runtime::Inventory;
use mend_runtime::driver::MysqlRead;
use mend_runtime::driver::mysql::MysqlAsync;
use std::path::Path;
use std::process::Command;

/// SQL as root over the primary's socket, kept out of the binary log (the user
/// exists on this node only).
fn root_sql(sql: &str) {
    let out = Command::new(repo_root().join("scripts/lab"))
        .args([
            "mysql",
            "primary",
            "-e",
            &format!("SET sql_log_bin = 0; {sql}"),
        ])
        .output()
        .expect("scripts/lab mysql");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Drops the test's user even when the test fails.
struct DropUser;

impl Drop for DropUser {
    fn drop(&mut self) {
        root_sql("DROP USER IF EXISTS 'mend_tls_test'@'127.0.0.1'");
    }
}

fn driver(port: u16, password_file: &Path, tls: &str) -> MysqlAsync {
    let toml = format!(
        "[mysql.p]\nhost = \"127.0.0.1\"\nport = {port}\nuser = \"mend_tls_test\"\npassword_file = {:?}\n{tls}",
        password_file.display().to_string()
    );
    MysqlAsync::new(
        Inventory::parse(&toml, "mend.toml", None)
            .expect("inventory")
            .mysql,
    )
}

#[test]
fn mysql_over_tls_checked_against_the_inventory_ca() {
    let test = "runtime_mysql_tls::mysql_over_tls_checked_against_the_inventory_ca";
    let Some((lab, _, port, _lock)) = lab_mysql(test, "MEND_LAB_MYSQL_PRIMARY") else {
        return;
    };
    let ca = lab.get("MEND_LAB_MYSQL_TLS_CA");
    if ca.is_empty() || !Path::new(&ca).exists() {
        unavailable(
            test,
            "the lab's MariaDB has no TLS CA (`scripts/lab reset mariadb`)",
        );
        return;
    }
    let scratch = Scratch::new("mysql-tls");
    let password = format!("tls-{}-secret", std::process::id());
    let pw_file = scratch.0.join("password");
    std::fs::write(&pw_file, &password).unwrap();
    let _drop = DropUser;
    root_sql(&format!(
        "CREATE OR REPLACE USER 'mend_tls_test'@'127.0.0.1' IDENTIFIED BY '{password}' REQUIRE SSL"
    ));

    crate::lab_support::block_on(check(port, &ca, &pw_file, &password, &scratch.0));
}

async fn check(port: u16, ca: &str, pw_file: &Path, password: &str, scratch: &Path) {
    // TLS, checked against the lab's CA: the REQUIRE SSL user gets in.
    let tls = driver(port, pw_file, &format!("tls_ca = {ca:?}\n"));
    assert!(
        !tls.read_only("p").await.expect("a read over TLS"),
        "the primary is writable"
    );

    // Plain TCP: the server refuses this user.
    let e = driver(port, pw_file, "")
        .read_only("p")
        .await
        .expect_err("a REQUIRE SSL user logged in without TLS");
    assert!(e.message.contains("Access denied"), "{e}");
    assert!(!e.message.contains(password), "no secret in errors: {e}");

    // A CA that did not sign the server: mend refuses the server, naming it.
    crate::runtime_docker_tls::ca(scratch, "other");
    let other = scratch.join("other-ca.pem");
    let e = driver(
        port,
        pw_file,
        &format!("tls_ca = {:?}\n", other.display().to_string()),
    )
    .read_only("p")
    .await
    .expect_err("a server the CA did not sign was trusted");
    assert!(e.message.contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(
        e.message.to_ascii_lowercase().contains("certificate")
            || e.message.to_ascii_lowercase().contains("unknownissuer"),
        "says it is the certificate: {e}"
    );
    eprintln!("refused as it should be: {e}");
}

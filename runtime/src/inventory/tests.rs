use super::*;

const FULL: &str = r#"
state_dir = "state"
[docker]
host = "tcp://10.0.0.2:2376"
tls_ca = "c/ca.pem"
tls_cert = "c/cert.pem"
tls_key = "c/key.pem"
network = "vlan454"

[mysql.db_a]
component = "dbnode"
host = "127.0.0.1"
port = 3307
user = "root"
password_env = "DB_PW"
group = "p1"

[mysql.db_b]
component = "dbnode"
host = "127.0.0.1"
port = 3308
user = "root"
password_file = "pw.txt"
group = "p1"
ssh = "h1"

[zookeeper]
connect = "127.0.0.1:21810"

[ssh.h1]
address = "127.0.0.1"
"#;

#[test]
fn parses_a_full_inventory() {
    let inv = Inventory::parse(FULL, "mend.toml", Some(Path::new("/etc/mend"))).unwrap();
    assert_eq!(inv.state_dir, Some(PathBuf::from("/etc/mend/state")));
    let tls = inv.docker.tls.as_ref().unwrap();
    assert_eq!(tls.ca, PathBuf::from("/etc/mend/c/ca.pem"));
    assert_eq!(inv.docker.network.as_deref(), Some("vlan454"));
    assert_eq!(inv.mysql_of("dbnode").count(), 2);
    let b = &inv.mysql["db_b"];
    assert_eq!(b.password, PasswordRef::File("/etc/mend/pw.txt".into()));
    assert_eq!(b.port, 3308);
    let zk = inv.zookeeper.as_ref().unwrap();
    assert_eq!(zk.broker_names, DEFAULT_BROKER_NAMES);
    assert_eq!(inv.ssh["h1"].startup_mysql, "myadm -P {port} -d startup");
}

#[test]
fn empty_inventory_means_local_docker() {
    let inv = Inventory::parse("", "mend.toml", None).unwrap();
    assert_eq!(inv.docker, DockerEndpoint::default());
    assert!(inv.mysql.is_empty());
}

#[test]
fn inline_password_is_refused_without_echoing_it() {
    let text = "[mysql.db]\nhost = \"h\"\nuser = \"u\"\npassword = \"TopSecret99\"\n";
    let e = Inventory::parse(text, "mend.toml", None).unwrap_err();
    assert!(e.message.contains("`mysql.db.password`"), "{e}");
    assert!(e.message.contains("password_env"), "{e}");
    assert!(!e.to_string().contains("TopSecret99"));
}

#[test]
fn syntax_errors_do_not_quote_the_line() {
    let text = "[mysql.db]\nhost = \"h\"\nuser = \"u\"\npassword_env = TopSecret99\n";
    let e = Inventory::parse(text, "mend.toml", None).unwrap_err();
    assert!(e.message.starts_with("4:"), "{e}");
    assert!(!e.to_string().contains("TopSecret99"), "{e}");
}

#[test]
fn tls_needs_all_three_files() {
    let text = "[docker]\nhost = \"tcp://h:2376\"\ntls_ca = \"ca\"\n";
    let e = Inventory::parse(text, "mend.toml", None).unwrap_err();
    assert!(e.message.contains("tls_cert"), "{e}");
}

#[test]
fn unknown_keys_and_dangling_names_are_errors() {
    assert!(Inventory::parse("[docker]\nsocket = \"x\"\n", "m", None).is_err());
    let text = "[mysql.a]\nhost = \"h\"\nuser = \"u\"\npeer = \"b\"\n";
    let e = Inventory::parse(text, "m", None).unwrap_err();
    assert!(e.message.contains("no `[mysql.b]`"), "{e}");
}

#[test]
fn the_lab_example_parses() {
    let text = include_str!("../../examples/lab.mend.toml");
    let inv = Inventory::parse(text, "lab.mend.toml", None).unwrap();
    assert_eq!(inv.docker.host_label, "mend.lab.host");
    assert_eq!(inv.mysql_of("dbnode").count(), 2);
    assert!(inv.ssh["here"].local);
}

#[test]
fn ssh_endpoints_take_known_hosts_and_refuse_option_like_addresses() {
    let inv = Inventory::parse(
        "[ssh.db1]\naddress = \"127.0.0.1\"\nport = 2222\nuser = \"admin\"\nidentity_file = \"k/id\"\nknown_hosts = \"k/kh\"\n",
        "m",
        Some(std::path::Path::new("/etc/mend")),
    )
    .unwrap();
    let ep = &inv.ssh["db1"];
    assert_eq!(ep.port, 2222);
    assert_eq!(
        ep.known_hosts.as_deref(),
        Some(std::path::Path::new("/etc/mend/k/kh"))
    );
    assert_eq!(ep.connect_timeout_secs, 10);
    for bad in ["-oProxyCommand=touch x", "a b", ""] {
        let e = Inventory::parse(&format!("[ssh.h]\naddress = {bad:?}\n"), "m", None).unwrap_err();
        assert!(e.message.contains("not a host name"), "{bad}: {e}");
    }
}

#[test]
fn mysql_tls_is_off_on_or_checked_against_a_ca() {
    let one = |extra: &str| {
        Inventory::parse(
            &format!("[mysql.a]\nhost = \"db\"\nuser = \"u\"\n{extra}"),
            "m",
            Some(std::path::Path::new("/etc/mend")),
        )
    };
    assert_eq!(one("").unwrap().mysql["a"].tls, None);
    assert_eq!(one("tls = true\n").unwrap().mysql["a"].tls, Some(None));
    assert_eq!(
        one("tls_ca = \"ca.pem\"\n").unwrap().mysql["a"].tls,
        Some(Some("/etc/mend/ca.pem".into()))
    );
    let e = one("tls = false\ntls_ca = \"ca.pem\"\n").unwrap_err();
    assert!(e.message.contains("keep one"), "{e}");
}

#[test]
fn the_lint_table_of_the_same_file_is_left_to_mend_check() {
    let inv = Inventory::parse(
        "[lint]\nE0404 = \"warning\"\ninclude = [\"a/*.mend\"]\n[zookeeper]\nconnect = \"127.0.0.1:2181\"\n",
        "mend.toml",
        None,
    )
    .unwrap();
    assert_eq!(inv.zookeeper.unwrap().connect, "127.0.0.1:2181");
    let e = Inventory::parse("[lnit]\n", "mend.toml", None).unwrap_err();
    assert!(e.message.contains("unknown field `lnit`"), "{e}");
}

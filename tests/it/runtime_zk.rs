//! The ZooKeeper driver against the lab's ZooKeeper (`MEND_LAB_ZK`): the §3.2 walk and
//! the state-machine JSON, on a subtree of its own (removed after), and read-only on
//! the lab's seeded broker group.

use crate::runtime_lab::{Lab, unavailable};
use mend_compiler::plan::Role;
use mend_runtime::driver::ZkRead;
use mend_runtime::driver::broker_role::broker_role;
use mend_runtime::driver::zk::ZkClient;
use mend_runtime::inventory::ZkEndpoint;
use std::time::{Duration, Instant};
use zookeeper_client as zk;

const MAP: &[(i64, Role)] = &[(0, Role::Master), (1, Role::Slave)];

fn endpoint(connect: &str) -> ZkEndpoint {
    ZkEndpoint {
        connect: connect.to_owned(),
        broker_names: "/mq/brokerNames/cluster".into(),
        session_timeout_secs: 10,
    }
}

async fn ensure(c: &zk::Client, path: &str, data: &[u8]) {
    let opts = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    let mut p = String::new();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        p.push('/');
        p.push_str(part);
        let d: &[u8] = if i + 1 == parts.len() { data } else { b"" };
        match c.create(&p, d, &opts).await {
            Ok(_) | Err(zk::Error::NodeExists) => {}
            Err(e) => panic!("create {p}: {e}"),
        }
    }
    c.set_data(path, data, None).await.expect("set_data");
}

async fn remove_tree(c: &zk::Client, path: &str) {
    let children = c.list_children(path).await.unwrap_or_default();
    for ch in children {
        Box::pin(remove_tree(c, &format!("{path}/{ch}"))).await;
    }
    let _ = c.delete(path, None).await;
}

#[tokio::test]
async fn zk_broker_role_walk_and_state_machine() {
    let test = "runtime_zk::zk_broker_role_walk_and_state_machine";
    let lab = Lab::load();
    if !lab.has(test, &["MEND_LAB_ZK"]) {
        return;
    }
    let Some(_) = lab.loopback(test, "MEND_LAB_ZK") else {
        return;
    };
    let connect = lab.get("MEND_LAB_ZK");
    let client = zk::Client::connector()
        .with_session_timeout(Duration::from_secs(10))
        .connect(&connect)
        .await
        .expect("connect to the lab's ZooKeeper");
    let root = format!("/mend-rt-zk-{}", std::process::id());
    remove_tree(&client, &root).await;
    let names = format!("{root}/mq/brokerNames/cluster");
    // Group a: both members in the state machine (the lab's JSON shape).
    ensure(
        &client,
        &format!("{names}/C1/broker-a/10.9.0.1"),
        b"10.9.0.1:10911",
    )
    .await;
    ensure(
        &client,
        &format!("{names}/C1/broker-a/10.9.0.2"),
        b"10.9.0.2:10911",
    )
    .await;
    ensure(
        &client,
        &format!("{root}/MQFailover/StateMachine/C1/broker-a"),
        br#"{"clusterName":"C1","brokerName":"broker-a","brokers":{"10.9.0.1":{"brokerId":0,"role":"MASTER","addr":"10.9.0.1:10911"},"10.9.0.2":{"brokerId":1,"role":"SLAVE","addr":"10.9.0.2:10911"}}}"#,
    )
    .await;
    // Group b: only the slave is in the data; the master is deduced (§3.2).
    ensure(&client, &format!("{names}/C1/broker-b/10.9.0.3"), b"").await;
    ensure(&client, &format!("{names}/C1/broker-b/10.9.0.4"), b"").await;
    ensure(
        &client,
        &format!("{root}/MQFailover/StateMachine/C1/broker-b"),
        br#"{"brokers":{"10.9.0.4":{"brokerId":1,"addr":"10.9.0.4:10911"}}}"#,
    )
    .await;

    let driver = ZkClient::new(Some(endpoint(&connect)));
    let template = format!("{root}/MQFailover/StateMachine/{{cluster}}/{{broker}}");
    let role = |ip: &'static str| {
        let (driver, names, template) = (&driver, names.clone(), template.clone());
        async move { broker_role(driver, &names, &template, "brokerId", MAP, ip).await }
    };
    let m = role("10.9.0.1").await.expect("master");
    assert_eq!(m.role, Role::Master, "{}", m.how);
    assert_eq!(
        (m.location.cluster.as_str(), m.location.broker.as_str()),
        ("C1", "broker-a")
    );
    assert_eq!(role("10.9.0.2").await.unwrap().role, Role::Slave);
    let d = role("10.9.0.3").await.expect("deduced");
    assert_eq!(d.role, Role::Master);
    assert!(d.how.contains("not in"), "{}", d.how);
    let e = role("10.9.0.99").await.unwrap_err();
    assert!(e.message.contains("no leaf named 10.9.0.99"), "{e}");
    assert_eq!(
        driver.children(&format!("{root}/nope")).await.unwrap(),
        None
    );

    // The lab's own seeded group, read-only.
    let master_ip = lab.get("MEND_LAB_BROKER_MASTER_IP");
    if master_ip.is_empty() {
        unavailable(
            test,
            "MEND_LAB_BROKER_MASTER_IP not set: the lab's broker group is not checked",
        );
    } else {
        let r = broker_role(
            &driver,
            "/mq/brokerNames/cluster",
            "/MQFailover/StateMachine/{cluster}/{broker}",
            "brokerId",
            MAP,
            &master_ip,
        )
        .await
        .expect("the lab's master");
        assert_eq!(r.role, Role::Master, "{}", r.how);
    }
    remove_tree(&client, &root).await;
}

#[tokio::test]
async fn zk_unreachable_is_a_clear_error() {
    // Port 1 on loopback: nothing listens there.
    let driver = ZkClient::new(Some(endpoint("127.0.0.1:1")));
    let start = Instant::now();
    let e = driver.children("/").await.unwrap_err();
    assert!(e.message.contains("127.0.0.1:1"), "{e}");
    assert!(start.elapsed() < Duration::from_secs(30));
    let none = ZkClient::new(None);
    let e = none.data("/x").await.unwrap_err();
    assert!(e.message.contains("no `[zookeeper]`"), "{e}");
}

use super::*;
use crate::driver::fake::FakeWorld;
use mend_compiler::plan::{Probe, Role};

fn broker() -> ComponentSpec {
    ComponentSpec {
        name: "mq_broker".into(),
        stateful: true,
        selectors: vec![("ark.component".into(), "mq-broker".into())],
        store: Some("/home/admin/store".into()),
        fixed_ip: true,
        role: RoleSource::Zk {
            path: "/MQFailover/StateMachine/{cluster}/{broker}".into(),
            field: "brokerId".into(),
            map: vec![(0, Role::Master), (1, Role::Slave)],
        },
        engine: Engine::Docker,
        database: None,
        probe: Probe::Label("aliyun.probe.cmd".into()),
        expect: None,
    }
}

fn world() -> FakeWorld {
    let w = FakeWorld::new();
    w.add_container(
        "b1",
        "10.0.0.11",
        &[("ark.component", "mq-broker"), ("mend.host", "h1")],
    );
    w.add_container(
        "b2",
        "10.0.0.12",
        &[("ark.component", "mq-broker"), ("mend.host", "h2")],
    );
    w.add_container(
        "b3",
        "10.0.0.13",
        &[("ark.component", "mq-broker"), ("mend.host", "h2")],
    );
    w.add_container(
        "b4",
        "10.0.0.14",
        &[("ark.component", "mq-broker"), ("mend.host", "h1")],
    );
    w.add_container(
        "zk1",
        "10.0.0.20",
        &[("ark.component", "zk"), ("mend.host", "h1")],
    );
    w.zk_set("/mq/brokerNames/cluster/C/a/10.0.0.11", b"");
    w.zk_set("/mq/brokerNames/cluster/C/a/10.0.0.12", b"");
    w.zk_set("/mq/brokerNames/cluster/C/b/10.0.0.13", b"");
    w.zk_set("/mq/brokerNames/cluster/C/b/10.0.0.14", b"");
    w
}

#[tokio::test]
async fn target_by_name_ip_and_id() {
    let w = world();
    let inv = Inventory::default();
    let r = Resolver {
        inventory: &inv,
        docker: &w,
        zk: &w,
        snapshots: None,
    };
    let spec = broker();
    assert_eq!(r.target(&spec, "b1").await.unwrap().name, "b1");
    assert_eq!(r.target(&spec, "10.0.0.12").await.unwrap().name, "b2");
    let id = w.container("b3").unwrap().id;
    assert_eq!(r.target(&spec, &id[..8]).await.unwrap().name, "b3");
    let e = r.target(&spec, "zk1").await.unwrap_err();
    assert!(matches!(e, ResolveError::WrongComponent { .. }), "{e}");
    let e = r.target(&spec, "nope").await.unwrap_err();
    assert!(e.to_string().contains("4 live containers"), "{e}");
}

#[tokio::test]
async fn peer_from_zookeeper_group() {
    let w = world();
    let inv = Inventory::default();
    let r = Resolver {
        inventory: &inv,
        docker: &w,
        zk: &w,
        snapshots: None,
    };
    let spec = broker();
    let b1 = r.target(&spec, "b1").await.unwrap();
    assert_eq!(r.peer(&spec, &b1).await.unwrap().name, "b2");
    let b4 = r.target(&spec, "b4").await.unwrap();
    assert_eq!(r.peer(&spec, &b4).await.unwrap().name, "b3");
}

#[tokio::test]
async fn host_scope_by_label() {
    let w = world();
    let inv = Inventory::default();
    let r = Resolver {
        inventory: &inv,
        docker: &w,
        zk: &w,
        snapshots: None,
    };
    let spec = broker();
    let b1 = r.target(&spec, "b1").await.unwrap();
    let on_h1 = r.host_scope(&b1, &[spec]).await.unwrap();
    let names: Vec<(&str, &str)> = on_h1
        .iter()
        .map(|i| (i.name.as_str(), i.component.as_str()))
        .collect();
    assert_eq!(
        names,
        [("b1", "mq_broker"), ("b4", "mq_broker"), ("zk1", "zk")]
    );
}

/// §1.12: a component without `select` ("other stateless containers") is bound to the
/// container the alert's target names, by name or by IP on the VLAN (§5.2).
#[tokio::test]
async fn a_component_without_select_is_the_named_container() {
    let w = world();
    let inv = Inventory::default();
    let r = Resolver {
        inventory: &inv,
        docker: &w,
        zk: &w,
        snapshots: None,
    };
    let mut spec = broker();
    spec.name = "stateless_container".into();
    spec.selectors.clear();
    spec.role = RoleSource::None;
    let by_ip = r.target(&spec, "10.0.0.20").await.unwrap();
    assert_eq!(
        (by_ip.name.as_str(), by_ip.component.as_str()),
        ("zk1", "stateless_container")
    );
    assert_eq!(r.target(&spec, "b2").await.unwrap().name, "b2");
    let e = r.target(&spec, "10.9.9.9").await.unwrap_err();
    assert!(matches!(e, ResolveError::NoMatch { .. }), "{e}");
    assert!(matches!(
        r.instances(&spec).await.unwrap_err(),
        ResolveError::NoSelector(_)
    ));
}

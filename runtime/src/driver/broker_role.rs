//! §3.2: is this MQ broker the master or the slave of its group? Read from ZooKeeper.
//!
//! 1. Walk `/mq/brokerNames/cluster` (the inventory's `broker_names`) down to a leaf
//!    named by the container's IP (`…/{cluster}/{broker}/{ip}`; a leaf `ip:port`
//!    counts too). The leaves beside it are the other members of the group.
//! 2. Read the role node, the component's `role zk "PATH"` with `{cluster}` and
//!    `{broker}` filled in (`/MQFailover/StateMachine/{cluster}/{broker}`), as JSON.
//! 3. Find the entry of this IP and map its field (`brokerId`) through the component's
//!    table (`0 => master, 1 => slave`). If this IP is not in the data, read the other
//!    IP of the group and deduce: a group is one master and one slave.
//!
//! Accepted JSON shapes (the parser looks for them anywhere in the document):
//! - an object holding the field and naming the IP in its key or in any string value:
//!   `{"brokers": {"172.29.213.11": {"brokerId": 0, "addr": "172.29.213.11:10911"}}}`
//!   (the lab's shape), `[{"ip": "10.1.213.40", "brokerId": 1}]`,
//!   `{"brokerId": 0, "brokerAddr": "10.1.213.40:10911"}`;
//! - RocketMQ's `brokerAddrs` form, an object of id → address:
//!   `{"brokerAddrs": {"0": "10.1.213.40:10911", "1": "10.1.213.41:10911"}}`.
//!
//! The field may be a number or a string holding one.

use super::{DriverError, DriverResult, ZkRead};
use mend_compiler::plan::Role;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where the walk found an IP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerLocation {
    pub cluster: String,
    pub broker: String,
    /// Every member of the group (leaf names, `:port` removed), this IP included.
    pub members: Vec<String>,
}

/// The answer of the §3.2 lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerRole {
    pub location: BrokerLocation,
    pub state_path: String,
    pub role: Role,
    /// How the role was found, for the journal and the operator.
    pub how: String,
}

fn strip_port(leaf: &str) -> &str {
    leaf.split(':').next().unwrap_or(leaf)
}

/// Step 1: the walk down to the leaf named by `ip`.
pub async fn locate(zk: &dyn ZkRead, root: &str, ip: &str) -> DriverResult<Option<BrokerLocation>> {
    let root = root.trim_end_matches('/');
    let Some(clusters) = zk.children(root).await? else {
        return Err(DriverError::not_found(format!(
            "zookeeper has no `{root}`: cannot walk to the broker group of {ip}"
        )));
    };
    for cluster in clusters {
        let cpath = format!("{root}/{cluster}");
        for broker in zk.children(&cpath).await?.unwrap_or_default() {
            let bpath = format!("{cpath}/{broker}");
            let leaves = zk.children(&bpath).await?.unwrap_or_default();
            if leaves.iter().any(|l| strip_port(l) == ip) {
                let members = leaves.iter().map(|l| strip_port(l).to_owned()).collect();
                return Ok(Some(BrokerLocation {
                    cluster,
                    broker,
                    members,
                }));
            }
        }
    }
    Ok(None)
}

/// Fills `{cluster}` and `{broker}` in a role path.
pub fn state_path(template: &str, loc: &BrokerLocation) -> String {
    template
        .replace("{cluster}", &loc.cluster)
        .replace("{broker}", &loc.broker)
}

/// Steps 1–3.
pub async fn broker_role(
    zk: &dyn ZkRead,
    root: &str,
    template: &str,
    field: &str,
    map: &[(i64, Role)],
    ip: &str,
) -> DriverResult<BrokerRole> {
    let location = locate(zk, root, ip).await?.ok_or_else(|| {
        DriverError::not_found(format!(
            "no leaf named {ip} under `{root}` in zookeeper: is this a broker of a group?"
        ))
    })?;
    let path = state_path(template, &location);
    let data = zk.data(&path).await?.ok_or_else(|| {
        DriverError::not_found(format!(
            "zookeeper has no `{path}` (the group's state machine)"
        ))
    })?;
    let json: Value = serde_json::from_slice(&data).map_err(|e| {
        DriverError::other(format!(
            "`{path}` is not JSON ({e}): cannot read the role of {ip}"
        ))
    })?;
    let entries = entries(&json, field);
    let role_of = |v: i64| map.iter().find(|(k, _)| *k == v).map(|(_, r)| *r);
    if let Some(v) = lookup(&entries, ip) {
        let role = role_of(v).ok_or_else(|| {
            DriverError::other(format!("`{field}` of {ip} in `{path}` is {v}, which the component's role table does not map"))
        })?;
        return Ok(BrokerRole {
            how: format!("`{field}` {v} of {ip} in `{path}`"),
            location,
            state_path: path,
            role,
        });
    }
    // Not in the data: deduce from the other member (§3.2).
    for other in location.members.iter().filter(|m| m.as_str() != ip) {
        if let Some(v) = lookup(&entries, other) {
            let theirs = role_of(v).ok_or_else(|| {
                DriverError::other(format!(
                    "`{field}` of {other} in `{path}` is {v}, which the role table does not map"
                ))
            })?;
            let role = match theirs {
                Role::Master => Role::Slave,
                Role::Slave => Role::Master,
            };
            return Ok(BrokerRole {
                how: format!(
                    "{ip} is not in `{path}`; its group member {other} has `{field}` {v} ({}), so {ip} is the {}",
                    role_name(theirs),
                    role_name(role)
                ),
                location,
                state_path: path,
                role,
            });
        }
    }
    Err(DriverError::not_found(format!(
        "neither {ip} nor another member of its group ({}) has a `{field}` in `{path}`",
        location.members.join(", ")
    )))
}

pub(crate) fn role_name(r: Role) -> &'static str {
    match r {
        Role::Master => "master",
        Role::Slave => "slave",
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Every (address-ish strings, field value) pair in the document.
fn entries(json: &Value, field: &str) -> Vec<(Vec<String>, i64)> {
    let mut out = Vec::new();
    collect(json, None, field, &mut out);
    out
}

fn collect(v: &Value, key: Option<&str>, field: &str, out: &mut Vec<(Vec<String>, i64)>) {
    match v {
        Value::Object(map) => {
            if let Some(id) = map.get(field).and_then(as_int) {
                let mut names: Vec<String> = key.map(str::to_owned).into_iter().collect();
                names.extend(map.values().filter_map(|x| x.as_str().map(str::to_owned)));
                out.push((names, id));
            }
            // `brokerAddrs`: {"0": "ip:port", "1": "ip:port"}
            if !map.is_empty()
                && map
                    .iter()
                    .all(|(k, x)| k.parse::<i64>().is_ok() && x.is_string())
            {
                for (k, x) in map {
                    if let (Ok(id), Some(addr)) = (k.parse::<i64>(), x.as_str()) {
                        out.push((vec![addr.to_owned()], id));
                    }
                }
            }
            for (k, x) in map {
                if x.is_object() || x.is_array() {
                    collect(x, Some(k), field, out);
                }
            }
        }
        Value::Array(items) => {
            for x in items {
                collect(x, None, field, out);
            }
        }
        _ => {}
    }
}

fn lookup(entries: &[(Vec<String>, i64)], ip: &str) -> Option<i64> {
    entries
        .iter()
        .find(|(names, _)| names.iter().any(|n| strip_port(n) == ip))
        .map(|(_, id)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::fake::FakeWorld;

    const MAP: &[(i64, Role)] = &[(0, Role::Master), (1, Role::Slave)];
    const TEMPLATE: &str = "/MQFailover/StateMachine/{cluster}/{broker}";
    const ROOT: &str = "/mq/brokerNames/cluster";

    fn world(json: &str) -> FakeWorld {
        let w = FakeWorld::new();
        w.zk_set(
            "/mq/brokerNames/cluster/DefaultCluster/broker-a/172.29.213.11",
            b"",
        );
        w.zk_set(
            "/mq/brokerNames/cluster/DefaultCluster/broker-a/172.29.213.12",
            b"",
        );
        w.zk_set("/mq/brokerNames/cluster/Other/broker-b/10.0.0.9:10911", b"");
        w.zk_set(
            "/MQFailover/StateMachine/DefaultCluster/broker-a",
            json.as_bytes(),
        );
        w
    }

    const LAB: &str = r#"{"clusterName":"DefaultCluster","brokerName":"broker-a","brokers":{"172.29.213.11":{"brokerId":0,"role":"MASTER","addr":"172.29.213.11:10911"},"172.29.213.12":{"brokerId":1,"role":"SLAVE","addr":"172.29.213.12:10911"}}}"#;

    #[tokio::test]
    async fn lab_shape_master_and_slave() {
        let w = world(LAB);
        let m = broker_role(&w, ROOT, TEMPLATE, "brokerId", MAP, "172.29.213.11")
            .await
            .unwrap();
        assert_eq!(m.role, Role::Master);
        assert_eq!(m.location.cluster, "DefaultCluster");
        assert_eq!(m.location.broker, "broker-a");
        assert_eq!(
            m.state_path,
            "/MQFailover/StateMachine/DefaultCluster/broker-a"
        );
        let s = broker_role(&w, ROOT, TEMPLATE, "brokerId", MAP, "172.29.213.12")
            .await
            .unwrap();
        assert_eq!(s.role, Role::Slave);
    }

    #[tokio::test]
    async fn deduces_from_the_other_member_when_absent() {
        let w =
            world(r#"{"brokers":{"172.29.213.12":{"brokerId":1,"addr":"172.29.213.12:10911"}}}"#);
        let r = broker_role(&w, ROOT, TEMPLATE, "brokerId", MAP, "172.29.213.11")
            .await
            .unwrap();
        assert_eq!(r.role, Role::Master);
        assert!(r.how.contains("not in"), "{}", r.how);
    }

    #[tokio::test]
    async fn other_shapes() {
        for json in [
            r#"[{"ip":"172.29.213.11","brokerId":"1"}]"#,
            r#"{"brokerAddrs":{"0":"172.29.213.12:10911","1":"172.29.213.11:10911"}}"#,
        ] {
            let w = world(json);
            let r = broker_role(&w, ROOT, TEMPLATE, "brokerId", MAP, "172.29.213.11")
                .await
                .unwrap();
            assert_eq!(r.role, Role::Slave, "{json}");
        }
    }

    #[tokio::test]
    async fn leaf_with_port_and_unknown_ip() {
        let w = world(LAB);
        let loc = locate(&w, ROOT, "10.0.0.9").await.unwrap().unwrap();
        assert_eq!(loc.broker, "broker-b");
        assert!(locate(&w, ROOT, "10.9.9.9").await.unwrap().is_none());
        let e = broker_role(&w, ROOT, TEMPLATE, "brokerId", MAP, "10.9.9.9")
            .await
            .unwrap_err();
        assert!(e.message.contains("no leaf named 10.9.9.9"), "{e}");
    }
}

//! ZooKeeper through zookeeper-client (tokio), read-only.
//!
//! The session is opened on first use, with `fail_eagerly` so that an unreachable
//! ensemble is an error that names it rather than a connect loop.

use super::{DriverError, DriverResult, ZkRead};
use crate::inventory::ZkEndpoint;
use async_trait::async_trait;
use std::time::Duration;
use tokio::sync::OnceCell;
use zookeeper_client as zk;

/// The real ZooKeeper driver.
pub struct ZkClient {
    endpoint: Option<ZkEndpoint>,
    client: OnceCell<zk::Client>,
    timeout: Duration,
}

impl ZkClient {
    /// `None`: the inventory has no `[zookeeper]`; every call says so.
    pub fn new(endpoint: Option<ZkEndpoint>) -> Self {
        ZkClient {
            endpoint,
            client: OnceCell::new(),
            timeout: Duration::from_secs(10),
        }
    }

    async fn client(&self) -> DriverResult<&zk::Client> {
        let ep = self.endpoint.as_ref().ok_or_else(|| {
            DriverError::unreachable("the inventory has no `[zookeeper]` section")
        })?;
        self.client
            .get_or_try_init(|| async {
                let connect = zk::Client::connector()
                    .with_session_timeout(Duration::from_secs(ep.session_timeout_secs.max(4)))
                    .with_connection_timeout(self.timeout)
                    .with_fail_eagerly()
                    .connect(&ep.connect);
                match tokio::time::timeout(self.timeout, connect).await {
                    Ok(Ok(c)) => Ok(c),
                    Ok(Err(e)) => Err(DriverError::unreachable(format!(
                        "zookeeper `{}`: cannot connect: {e}",
                        ep.connect
                    ))),
                    Err(_) => Err(DriverError::unreachable(format!(
                        "zookeeper `{}`: no session within {}s",
                        ep.connect,
                        self.timeout.as_secs()
                    ))),
                }
            })
            .await
    }

    fn describe(&self) -> &str {
        self.endpoint.as_ref().map_or("-", |e| e.connect.as_str())
    }
}

/// A lost connection or session is the server gone (stopped, cut off), not an answer
/// about the node: a fault, which suspends the run rather than failing it.
fn zk_err(e: &zk::Error, message: String) -> DriverError {
    match e {
        zk::Error::ConnectionLoss
        | zk::Error::SessionExpired
        | zk::Error::ClientClosed
        | zk::Error::Timeout
        | zk::Error::NoHosts => DriverError::unreachable(message),
        _ => DriverError::other(message),
    }
}

#[async_trait]
impl ZkRead for ZkClient {
    async fn children(&self, path: &str) -> DriverResult<Option<Vec<String>>> {
        let c = self.client().await?;
        match tokio::time::timeout(self.timeout, c.list_children(path)).await {
            Ok(Ok(mut v)) => {
                v.sort();
                Ok(Some(v))
            }
            Ok(Err(zk::Error::NoNode)) => Ok(None),
            Ok(Err(e)) => Err(zk_err(
                &e,
                format!("zookeeper `{}`: ls {path}: {e}", self.describe()),
            )),
            Err(_) => Err(DriverError::unreachable(format!(
                "zookeeper `{}`: ls {path}: no answer",
                self.describe()
            ))),
        }
    }

    async fn data(&self, path: &str) -> DriverResult<Option<Vec<u8>>> {
        let c = self.client().await?;
        match tokio::time::timeout(self.timeout, c.get_data(path)).await {
            Ok(Ok((data, _stat))) => Ok(Some(data)),
            Ok(Err(zk::Error::NoNode)) => Ok(None),
            Ok(Err(e)) => Err(zk_err(
                &e,
                format!("zookeeper `{}`: get {path}: {e}", self.describe()),
            )),
            Err(_) => Err(DriverError::unreachable(format!(
                "zookeeper `{}`: get {path}: no answer",
                self.describe()
            ))),
        }
    }
}

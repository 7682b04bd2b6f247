//! The real drivers for an inventory.

use crate::driver::docker::BollardDocker;
use crate::driver::host::Hosts;
use crate::driver::mysql::MysqlAsync;
use crate::driver::zk::ZkClient;
use crate::driver::{
    ArchiveInfo, Container, DockerDriver, DockerRead, DriverError, DriverResult, Drivers,
    ExecOutput,
};
use crate::inventory::Inventory;
use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;

/// Stands in for the engine when it could not be reached: every call says why. A run
/// that needs no container still works.
struct UnavailableDocker(DriverError);

#[async_trait]
impl DockerRead for UnavailableDocker {
    async fn inspect(&self, _: &str) -> DriverResult<Option<Container>> {
        Err(self.0.clone())
    }
    async fn list(&self, _: &[(String, String)]) -> DriverResult<Vec<Container>> {
        Err(self.0.clone())
    }
    async fn name_by_ip(&self, _: &str, _: Option<&str>) -> DriverResult<Option<String>> {
        Err(self.0.clone())
    }
}

#[async_trait]
impl DockerDriver for UnavailableDocker {
    async fn start(&self, _: &str) -> DriverResult<()> {
        Err(self.0.clone())
    }
    async fn stop(&self, _: &str) -> DriverResult<()> {
        Err(self.0.clone())
    }
    async fn restart(&self, _: &str) -> DriverResult<()> {
        Err(self.0.clone())
    }
    async fn remove(&self, _: &str) -> DriverResult<()> {
        Err(self.0.clone())
    }
    async fn create(&self, _: &Container, _: bool) -> DriverResult<String> {
        Err(self.0.clone())
    }
    async fn exec(&self, _: &str, _: &[String]) -> DriverResult<ExecOutput> {
        Err(self.0.clone())
    }
    async fn copy_out(&self, _: &str, _: &str, _: &Path) -> DriverResult<ArchiveInfo> {
        Err(self.0.clone())
    }
    async fn copy_in(&self, _: &str, _: &str, _: &Path) -> DriverResult<()> {
        Err(self.0.clone())
    }
}

/// The real drivers for an inventory. An unreachable Docker engine is not an error
/// here: every Docker call then fails with the engine's address and the reason.
pub async fn connect(inventory: &Inventory) -> Drivers {
    let docker: Arc<dyn DockerDriver> = match BollardDocker::connect(&inventory.docker).await {
        Ok(d) => Arc::new(d),
        Err(e) => Arc::new(UnavailableDocker(e)),
    };
    Drivers::from_dyn(
        docker,
        Arc::new(MysqlAsync::new(inventory.mysql.clone())),
        Arc::new(ZkClient::new(inventory.zookeeper.clone())),
        Arc::new(Hosts::new(inventory.ssh.clone())),
    )
}

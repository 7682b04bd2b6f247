//! The fake MySQL servers and ZooKeeper tree.

use super::FakeWorld;
use crate::driver::replication::Dialect;
use crate::driver::{
    Applied, DriverResult, MetaInstance, MysqlDriver, MysqlRead, ReplicaStatus, ServerInfo, ZkRead,
};
use async_trait::async_trait;

#[async_trait]
impl MysqlRead for FakeWorld {
    async fn server(&self, endpoint: &str) -> DriverResult<ServerInfo> {
        self.enter("server", endpoint, false).await?;
        self.db_mut(endpoint, |db| {
            Ok(ServerInfo {
                version: if db.smart {
                    "5.6.16-AliSQL".into()
                } else {
                    "10.11.6-MariaDB".into()
                },
                comment: String::new(),
                dialect: Dialect::Replica,
                exec_mode_var: Some("slave_exec_mode".into()),
                parallel_var: Some("slave_parallel_threads".into()),
                has_smart: db.smart,
            })
        })
    }

    async fn replica_status(&self, endpoint: &str) -> DriverResult<Option<ReplicaStatus>> {
        self.enter("replica_status", endpoint, false).await?;
        self.db_mut(endpoint, |db| Ok(db.replica.clone()))
    }

    async fn read_only(&self, endpoint: &str) -> DriverResult<bool> {
        self.enter("read_only", endpoint, false).await?;
        self.db_mut(endpoint, |db| Ok(db.read_only))
    }

    async fn exec_mode(&self, endpoint: &str) -> DriverResult<String> {
        self.enter("exec_mode", endpoint, false).await?;
        self.db_mut(endpoint, |db| Ok(db.exec_mode.clone()))
    }

    async fn parallel_workers(&self, endpoint: &str) -> DriverResult<u32> {
        self.enter("parallel_workers", endpoint, false).await?;
        self.db_mut(endpoint, |db| Ok(db.workers))
    }

    async fn binlog_position(&self, endpoint: &str) -> DriverResult<Option<(String, u64)>> {
        self.enter("binlog_position", endpoint, false).await?;
        self.db_mut(endpoint, |_| Ok(Some(("mysql-bin.000001".to_owned(), 4))))
    }

    async fn metadb_roles(
        &self,
        metadb: &str,
        ip: &str,
        port: u16,
    ) -> DriverResult<Vec<MetaInstance>> {
        self.enter("metadb_roles", metadb, false).await?;
        self.db_mut(metadb, |db| {
            let group = db
                .meta
                .iter()
                .find(|(_, m)| m.ip == ip && m.port == port)
                .map(|(g, _)| g.clone());
            Ok(db
                .meta
                .iter()
                .filter(|(g, _)| Some(g) == group.as_ref())
                .map(|(_, m)| m.clone())
                .collect())
        })
    }
}

#[async_trait]
impl MysqlDriver for FakeWorld {
    async fn start_replica(&self, endpoint: &str) -> DriverResult<()> {
        self.enter("start_replica", endpoint, true).await?;
        self.db_mut(endpoint, |db| {
            if let Some(r) = &mut db.replica {
                r.io_running = true;
                r.io_state = "Yes".into();
                // A lenient apply mode gets past a duplicate key (what IDEMPOTENT does).
                if r.last_sql_errno == 1062 && db.exec_mode != "STRICT" {
                    r.last_sql_errno = 0;
                    r.last_sql_error.clear();
                    r.last_errno = 0;
                    r.last_error.clear();
                }
                r.sql_running = r.last_sql_errno == 0;
                r.seconds_behind = Some(0);
                r.read_file = "mysql-bin.000001".into();
                r.exec_file = "mysql-bin.000001".into();
                r.read_pos = Some(4);
                r.exec_pos = Some(4);
                r.sql_state = "Slave has read all relay log; waiting for more updates".into();
            }
            Ok(())
        })
    }

    async fn stop_replica(&self, endpoint: &str) -> DriverResult<()> {
        self.enter("stop_replica", endpoint, true).await?;
        self.db_mut(endpoint, |db| {
            if let Some(r) = &mut db.replica {
                r.io_running = false;
                r.sql_running = false;
                r.io_state = "No".into();
            }
            Ok(())
        })
    }

    async fn set_exec_mode(&self, endpoint: &str, lenient: bool) -> DriverResult<Applied> {
        self.enter("set_exec_mode", endpoint, true).await?;
        self.db_mut(endpoint, |db| {
            let (value, note) = match (lenient, db.smart) {
                (false, _) => ("STRICT", None),
                (true, true) => ("SMART", None),
                (true, false) => (
                    "IDEMPOTENT",
                    Some(
                        "the server refuses AliSQL's `SMART` (error 1231): set IDEMPOTENT"
                            .to_owned(),
                    ),
                ),
            };
            db.exec_mode = value.into();
            Ok(Applied {
                value: value.into(),
                note,
            })
        })
    }

    async fn set_parallel_workers(&self, endpoint: &str, workers: u32) -> DriverResult<Applied> {
        self.enter("set_parallel_workers", endpoint, true).await?;
        self.db_mut(endpoint, |db| {
            db.workers = workers;
            Ok(Applied {
                value: workers.to_string(),
                note: None,
            })
        })
    }

    async fn set_read_only(&self, endpoint: &str, on: bool) -> DriverResult<()> {
        self.enter("set_read_only", endpoint, true).await?;
        self.db_mut(endpoint, |db| {
            db.read_only = on;
            Ok(())
        })
    }
}

#[async_trait]
impl ZkRead for FakeWorld {
    async fn children(&self, path: &str) -> DriverResult<Option<Vec<String>>> {
        self.enter("zk_children", path, false).await?;
        let s = self.lock();
        let path = path.trim_end_matches('/');
        if !path.is_empty() && !s.zk.contains_key(path) {
            return Ok(None);
        }
        let prefix = format!("{path}/");
        Ok(Some(
            s.zk.keys()
                .filter_map(|k| k.strip_prefix(&prefix))
                .filter(|rest| !rest.contains('/'))
                .map(str::to_owned)
                .collect(),
        ))
    }

    async fn data(&self, path: &str) -> DriverResult<Option<Vec<u8>>> {
        self.enter("zk_data", path, false).await?;
        Ok(self.lock().zk.get(path).cloned())
    }
}

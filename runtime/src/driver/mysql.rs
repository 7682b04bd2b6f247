//! MySQL and MariaDB through mysql_async.
//!
//! Servers are named by their `[mysql.NAME]` inventory entry; the password is read from
//! its reference on every connect and lives only inside mysql_async's options. One
//! connection per operation: these are a handful of administrative statements in a
//! recovery, not a workload.

use super::replication::{self, Dialect, EXEC_MODE_VARS, PARALLEL_VARS};
use super::{
    Applied, DriverError, DriverResult, MetaInstance, MysqlDriver, MysqlRead, ReplicaStatus,
    ServerInfo,
};
use crate::inventory::MysqlEndpoint;
use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

/// MySQL error: `ER_WRONG_VALUE_FOR_VAR`, what MariaDB says to `SMART`.
const ER_WRONG_VALUE_FOR_VAR: u16 = 1231;
/// MySQL error: "This operation cannot be performed with a running slave".
const ER_SLAVE_MUST_STOP: u16 = 1198;
/// MySQL error: syntax error (an old server that lacks the `REPLICA` words).
const ER_PARSE_ERROR: u16 = 1064;

/// The real MySQL driver.
pub struct MysqlAsync {
    endpoints: BTreeMap<String, MysqlEndpoint>,
    timeout: Duration,
    info: Mutex<HashMap<String, ServerInfo>>,
}

impl MysqlAsync {
    pub fn new(endpoints: BTreeMap<String, MysqlEndpoint>) -> Self {
        MysqlAsync {
            endpoints,
            timeout: Duration::from_secs(10),
            info: Mutex::new(HashMap::new()),
        }
    }

    /// How long a connect or a statement may take.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn endpoint(&self, name: &str) -> DriverResult<&MysqlEndpoint> {
        self.endpoints
            .get(name)
            .ok_or_else(|| DriverError::not_found(format!("no `[mysql.{name}]` in the inventory")))
    }

    async fn connect(&self, name: &str) -> DriverResult<(Conn, &MysqlEndpoint)> {
        let ep = self.endpoint(name)?;
        let password = ep
            .password
            .resolve()
            .map_err(|e| DriverError::unreachable(format!("mysql {}: {e}", ep.describe())))?;
        let opts = OptsBuilder::default()
            .ip_or_hostname(ep.host.clone())
            .tcp_port(ep.port)
            .user(Some(ep.user.clone()))
            .pass(password.map(|p| p.expose().to_owned()))
            .db_name(ep.database.clone())
            .prefer_socket(false)
            .ssl_opts(ep.tls.as_ref().map(|ca| {
                // Checked against the CA (or the built-in roots); the name checked is
                // the inventory's `host`, as any TLS client would.
                mysql_async::SslOpts::default()
                    .with_root_certs(ca.iter().map(|p| p.clone().into()).collect())
            }));
        match tokio::time::timeout(self.timeout, Conn::new(opts)).await {
            Ok(Ok(conn)) => Ok((conn, ep)),
            Ok(Err(e)) => Err(DriverError::unreachable(format!(
                "mysql {}: cannot connect: {}",
                ep.describe(),
                describe(&e)
            ))),
            Err(_) => Err(DriverError::unreachable(format!(
                "mysql {}: no answer within {}s",
                ep.describe(),
                self.timeout.as_secs()
            ))),
        }
    }

    /// Runs `f` on a fresh connection, with the timeout, and disconnects.
    async fn with_conn<T, F>(&self, name: &str, f: F) -> DriverResult<T>
    where
        F: for<'c> FnOnce(
                &'c mut Conn,
                &'c MysqlEndpoint,
            ) -> futures_util::future::BoxFuture<'c, DriverResult<T>>
            + Send,
        T: Send,
    {
        let (mut conn, ep) = self.connect(name).await?;
        let result = match tokio::time::timeout(self.timeout, f(&mut conn, ep)).await {
            Ok(r) => r,
            Err(_) => Err(DriverError::unreachable(format!(
                "mysql {}: no answer within {}s",
                ep.describe(),
                self.timeout.as_secs()
            ))),
        };
        let _ = conn.disconnect().await;
        result
    }

    async fn info_for(&self, name: &str) -> DriverResult<ServerInfo> {
        if let Some(i) = self
            .info
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
        {
            return Ok(i.clone());
        }
        let info = self
            .with_conn(name, |conn, ep| {
                Box::pin(async move {
                    let row: Option<(String, String)> = conn
                        .query_first("SELECT VERSION(), @@version_comment")
                        .await
                        .map_err(|e| err(ep, "SELECT VERSION()", &e))?;
                    let (version, comment) = row.unwrap_or_default();
                    let names: Vec<String> = conn
                        .query_map(
                            "SHOW GLOBAL VARIABLES WHERE Variable_name IN \
                             ('slave_exec_mode','replica_exec_mode','slave_parallel_threads',\
                             'slave_parallel_workers','replica_parallel_workers')",
                            |(name, _value): (String, String)| name,
                        )
                        .await
                        .map_err(|e| err(ep, "SHOW GLOBAL VARIABLES", &e))?;
                    Ok(ServerInfo {
                        dialect: Dialect::for_version(&version),
                        exec_mode_var: replication::pick_var(&names, EXEC_MODE_VARS),
                        parallel_var: replication::pick_var(&names, PARALLEL_VARS),
                        has_smart: replication::is_alisql(&version, &comment),
                        version,
                        comment,
                    })
                })
            })
            .await?;
        self.info
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.to_owned(), info.clone());
        Ok(info)
    }

    async fn exec_sql(&self, name: &str, sql: String) -> DriverResult<()> {
        self.with_conn(name, move |conn, ep| {
            Box::pin(async move {
                conn.query_drop(sql.as_str())
                    .await
                    .map_err(|e| err(ep, &sql, &e))
            })
        })
        .await
    }

    async fn var_u32(&self, name: &str, var: &str) -> DriverResult<u32> {
        let sql = format!("SELECT @@GLOBAL.{var}");
        self.with_conn(name, move |conn, ep| {
            Box::pin(async move {
                let v: Option<Value> = conn
                    .query_first(sql.as_str())
                    .await
                    .map_err(|e| err(ep, &sql, &e))?;
                let text = v.map(|v| value_text(&v)).unwrap_or_default();
                text.trim().parse().map_err(|_| {
                    DriverError::other(format!(
                        "mysql {}: `{sql}` returned `{text}`, not a number",
                        ep.describe()
                    ))
                })
            })
        })
        .await
    }
}

fn describe(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(s) => format!("error {}: {}", s.code, s.message),
        other => other.to_string(),
    }
}

fn server_code(e: &DriverError) -> Option<u16> {
    // Messages are "… error CODE: …"; the code is what a caller branches on.
    let rest = e.message.split("error ").nth(1)?;
    rest.split(':').next()?.trim().parse().ok()
}

fn err(ep: &MysqlEndpoint, sql: &str, e: &mysql_async::Error) -> DriverError {
    let text = format!("mysql {}: `{sql}` failed: {}", ep.describe(), describe(e));
    match e {
        // The server killed the connection (KILL CONNECTION, 1927) or is shutting
        // down (1053): the link is gone, the statement was not refused.
        mysql_async::Error::Server(s) if matches!(s.code, 1053 | 1927) => {
            DriverError::unreachable(text)
        }
        mysql_async::Error::Server(_) => DriverError::refused(text),
        _ => DriverError::unreachable(text),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::NULL => String::new(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Double(d) => d.to_string(),
        other => other.as_sql(true),
    }
}

/// A row as column name → text (either replication dialect's column names).
pub fn row_columns(row: &Row) -> BTreeMap<String, String> {
    row.columns_ref()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                c.name_str().into_owned(),
                row.as_ref(i).map(value_text).unwrap_or_default(),
            )
        })
        .collect()
}

#[async_trait]
impl MysqlRead for MysqlAsync {
    async fn server(&self, endpoint: &str) -> DriverResult<ServerInfo> {
        self.info_for(endpoint).await
    }

    async fn replica_status(&self, endpoint: &str) -> DriverResult<Option<ReplicaStatus>> {
        let info = self.info_for(endpoint).await?;
        self.with_conn(endpoint, move |conn, ep| {
            Box::pin(async move {
                let mut sql = info.dialect.show_status();
                let rows: Vec<Row> = match conn.query(sql.as_str()).await {
                    Ok(rows) => rows,
                    Err(mysql_async::Error::Server(s))
                        if s.code == ER_PARSE_ERROR && info.dialect == Dialect::Replica =>
                    {
                        sql = Dialect::Slave.show_status();
                        conn.query(sql.as_str())
                            .await
                            .map_err(|e| err(ep, &sql, &e))?
                    }
                    Err(e) => return Err(err(ep, &sql, &e)),
                };
                Ok(rows
                    .first()
                    .map(|r| ReplicaStatus::from_columns(&row_columns(r))))
            })
        })
        .await
    }

    async fn read_only(&self, endpoint: &str) -> DriverResult<bool> {
        Ok(self.var_u32(endpoint, "read_only").await? != 0)
    }

    async fn exec_mode(&self, endpoint: &str) -> DriverResult<String> {
        let info = self.info_for(endpoint).await?;
        let var = info.exec_mode_var.ok_or_else(|| {
            DriverError::refused(format!(
                "mysql `{endpoint}` has no replica apply-mode variable"
            ))
        })?;
        let sql = format!("SELECT @@GLOBAL.{var}");
        self.with_conn(endpoint, move |conn, ep| {
            Box::pin(async move {
                let v: Option<Value> = conn
                    .query_first(sql.as_str())
                    .await
                    .map_err(|e| err(ep, &sql, &e))?;
                Ok(v.map(|v| value_text(&v)).unwrap_or_default())
            })
        })
        .await
    }

    async fn parallel_workers(&self, endpoint: &str) -> DriverResult<u32> {
        let info = self.info_for(endpoint).await?;
        let var = info.parallel_var.ok_or_else(|| {
            DriverError::refused(format!("mysql `{endpoint}` has no parallel-apply variable"))
        })?;
        self.var_u32(endpoint, &var).await
    }

    async fn binlog_position(&self, endpoint: &str) -> DriverResult<Option<(String, u64)>> {
        self.with_conn(endpoint, |conn, ep| {
            Box::pin(async move {
                let mut sql = "SHOW MASTER STATUS";
                let rows: Vec<Row> = match conn.query(sql).await {
                    Ok(rows) => rows,
                    Err(mysql_async::Error::Server(s)) if s.code == ER_PARSE_ERROR => {
                        sql = "SHOW BINARY LOG STATUS";
                        conn.query(sql).await.map_err(|e| err(ep, sql, &e))?
                    }
                    Err(e) => return Err(err(ep, sql, &e)),
                };
                Ok(rows.first().and_then(|r| {
                    let c = row_columns(r);
                    Some((
                        c.get("File")?.clone(),
                        c.get("Position")?.trim().parse().ok()?,
                    ))
                }))
            })
        })
        .await
    }

    async fn metadb_roles(
        &self,
        metadb: &str,
        ip: &str,
        port: u16,
    ) -> DriverResult<Vec<MetaInstance>> {
        let ip = ip.to_owned();
        self.with_conn(metadb, move |conn, ep| {
            Box::pin(async move {
                // §4.1.1, with the instance as parameters rather than pasted in.
                let sql = "SELECT host_name, ip, port, role FROM dbfree_instance_list \
                           WHERE instance_id IN (SELECT instance_id FROM dbfree_instance_list \
                           WHERE ip = ? AND port = ?)";
                let rows: Vec<Row> = conn
                    .exec(sql, (ip.as_str(), port))
                    .await
                    .map_err(|e| err(ep, "the §4.1.1 role query", &e))?;
                Ok(rows
                    .iter()
                    .map(|r| {
                        let c = row_columns(r);
                        let get = |k: &str| {
                            c.iter()
                                .find(|(name, _)| name.eq_ignore_ascii_case(k))
                                .map(|(_, v)| v.clone())
                                .unwrap_or_default()
                        };
                        MetaInstance {
                            host_name: get("host_name"),
                            ip: get("ip"),
                            port: get("port").trim().parse().unwrap_or(0),
                            role: get("role"),
                        }
                    })
                    .collect())
            })
        })
        .await
    }
}

#[async_trait]
impl MysqlDriver for MysqlAsync {
    async fn start_replica(&self, endpoint: &str) -> DriverResult<()> {
        let info = self.info_for(endpoint).await?;
        self.exec_sql(endpoint, info.dialect.start()).await
    }

    async fn stop_replica(&self, endpoint: &str) -> DriverResult<()> {
        let info = self.info_for(endpoint).await?;
        self.exec_sql(endpoint, info.dialect.stop()).await
    }

    async fn set_exec_mode(&self, endpoint: &str, lenient: bool) -> DriverResult<Applied> {
        let info = self.info_for(endpoint).await?;
        let var = info.exec_mode_var.clone().ok_or_else(|| {
            DriverError::refused(format!(
                "mysql `{endpoint}` has no replica apply-mode variable"
            ))
        })?;
        if !lenient {
            self.exec_sql(endpoint, format!("SET GLOBAL {var} = 'STRICT'"))
                .await?;
            return Ok(Applied {
                value: "STRICT".into(),
                note: None,
            });
        }
        match self
            .exec_sql(endpoint, format!("SET GLOBAL {var} = 'SMART'"))
            .await
        {
            Ok(()) => Ok(Applied {
                value: "SMART".into(),
                note: None,
            }),
            Err(e) if server_code(&e) == Some(ER_WRONG_VALUE_FOR_VAR) => {
                self.exec_sql(endpoint, format!("SET GLOBAL {var} = 'IDEMPOTENT'"))
                    .await?;
                Ok(Applied {
                    value: "IDEMPOTENT".into(),
                    note: Some(format!(
                        "the server refuses AliSQL's `SMART` (error {ER_WRONG_VALUE_FOR_VAR}): \
                         set `{var} = IDEMPOTENT`, its equivalent here"
                    )),
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn set_parallel_workers(&self, endpoint: &str, workers: u32) -> DriverResult<Applied> {
        let info = self.info_for(endpoint).await?;
        let var = info.parallel_var.clone().ok_or_else(|| {
            DriverError::refused(format!("mysql `{endpoint}` has no parallel-apply variable"))
        })?;
        let set = format!("SET GLOBAL {var} = {workers}");
        let running = self
            .replica_status(endpoint)
            .await?
            .is_some_and(|s| s.io_running || s.sql_running || s.io_state == "Connecting");
        let direct = if running {
            None
        } else {
            Some(self.exec_sql(endpoint, set.clone()).await)
        };
        match direct {
            Some(Ok(())) => Ok(Applied {
                value: workers.to_string(),
                note: None,
            }),
            Some(Err(e)) if server_code(&e) != Some(ER_SLAVE_MUST_STOP) => Err(e),
            _ => {
                // The server needs the replica stopped to change it (error 1198): stop,
                // set, start again, as §4.1.3 writes it.
                self.exec_sql(endpoint, info.dialect.stop()).await?;
                let r = self.exec_sql(endpoint, set).await;
                let start = self.exec_sql(endpoint, info.dialect.start()).await;
                r?;
                start?;
                Ok(Applied {
                    value: workers.to_string(),
                    note: Some(format!(
                        "`{var}` can only change with the replica stopped: stopped it, set \
                         {workers}, started it again"
                    )),
                })
            }
        }
    }

    async fn set_read_only(&self, endpoint: &str, on: bool) -> DriverResult<()> {
        self.exec_sql(
            endpoint,
            format!("SET GLOBAL read_only = {}", if on { "ON" } else { "OFF" }),
        )
        .await
    }
}

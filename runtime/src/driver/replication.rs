//! Replication words and judgements, pure: MySQL says `SLAVE` or `REPLICA`, MariaDB
//! both; columns are `Slave_*` or `Replica_*`/`Source_*`. This file picks the words for
//! a server, reads a status row in either dialect, and classifies the error as §4.1.3
//! does.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Which words a server wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dialect {
    /// `SHOW SLAVE STATUS`, `START SLAVE`: MySQL before 8.0.22, MariaDB before 10.5.1.
    Slave,
    /// `SHOW REPLICA STATUS`, `START REPLICA`: MySQL 8.0.22+, MariaDB 10.5.1+.
    Replica,
}

impl Dialect {
    /// From `SELECT VERSION()`, e.g. `10.11.6-MariaDB-0+deb12u1` or `8.0.36`.
    pub fn for_version(version: &str) -> Dialect {
        let mariadb = version.to_ascii_lowercase().contains("mariadb");
        let nums: Vec<u32> = version
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .take(3)
            .filter_map(|s| s.parse().ok())
            .collect();
        let v = (
            nums.first().copied().unwrap_or(0),
            nums.get(1).copied().unwrap_or(0),
            nums.get(2).copied().unwrap_or(0),
        );
        let new = if mariadb {
            v >= (10, 5, 1)
        } else {
            v >= (8, 0, 22)
        };
        if new {
            Dialect::Replica
        } else {
            Dialect::Slave
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Dialect::Slave => "SLAVE",
            Dialect::Replica => "REPLICA",
        }
    }

    pub fn show_status(self) -> String {
        format!("SHOW {} STATUS", self.word())
    }
    pub fn start(self) -> String {
        format!("START {}", self.word())
    }
    pub fn stop(self) -> String {
        format!("STOP {}", self.word())
    }
}

/// The §4.1.3 classes of replication error, the values of the `replica_error` subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaError {
    None,
    /// "Cannot execute the current event group in the parallel mode".
    ParallelMode,
    /// Error 1062, "Duplicate entry … for key 'PRIMARY'".
    DuplicateKey,
    Other,
}

impl ReplicaError {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicaError::None => "none",
            ReplicaError::ParallelMode => "parallel_mode",
            ReplicaError::DuplicateKey => "duplicate_key",
            ReplicaError::Other => "other",
        }
    }
}

impl fmt::Display for ReplicaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `SHOW SLAVE STATUS` / `SHOW REPLICA STATUS`, the fields §4.1.3 reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaStatus {
    pub io_running: bool,
    pub sql_running: bool,
    /// `Slave_IO_Running` can also say `Connecting`.
    pub io_state: String,
    pub last_errno: u32,
    pub last_error: String,
    pub last_io_errno: u32,
    pub last_io_error: String,
    pub last_sql_errno: u32,
    pub last_sql_error: String,
    pub seconds_behind: Option<u64>,
    pub source_host: String,
    pub source_port: Option<u16>,
    /// Binlog file and position the IO thread has read up to …
    pub read_file: String,
    pub read_pos: Option<u64>,
    /// … and those the SQL thread has applied.
    pub exec_file: String,
    pub exec_pos: Option<u64>,
    /// `Slave_SQL_Running_State`, e.g. "Slave has read all relay log; waiting for more
    /// updates".
    pub sql_state: String,
}

impl ReplicaStatus {
    /// Reads a status row given as column name → text, in either dialect.
    pub fn from_columns(cols: &BTreeMap<String, String>) -> ReplicaStatus {
        let get = |names: &[&str]| -> String {
            names
                .iter()
                .find_map(|n| cols.get(*n))
                .cloned()
                .unwrap_or_default()
        };
        let num = |names: &[&str]| -> u32 { get(names).trim().parse().unwrap_or(0) };
        let io_state = get(&["Slave_IO_Running", "Replica_IO_Running"]);
        let sql = get(&["Slave_SQL_Running", "Replica_SQL_Running"]);
        ReplicaStatus {
            io_running: io_state.eq_ignore_ascii_case("yes"),
            sql_running: sql.eq_ignore_ascii_case("yes"),
            io_state,
            last_errno: num(&["Last_Errno"]),
            last_error: get(&["Last_Error"]),
            last_io_errno: num(&["Last_IO_Errno"]),
            last_io_error: get(&["Last_IO_Error"]),
            last_sql_errno: num(&["Last_SQL_Errno"]),
            last_sql_error: get(&["Last_SQL_Error"]),
            seconds_behind: get(&["Seconds_Behind_Master", "Seconds_Behind_Source"])
                .trim()
                .parse()
                .ok(),
            source_host: get(&["Master_Host", "Source_Host"]),
            source_port: get(&["Master_Port", "Source_Port"]).trim().parse().ok(),
            read_file: get(&["Master_Log_File", "Source_Log_File"]),
            read_pos: get(&["Read_Master_Log_Pos", "Read_Source_Log_Pos"])
                .trim()
                .parse()
                .ok(),
            exec_file: get(&["Relay_Master_Log_File", "Relay_Source_Log_File"]),
            exec_pos: get(&["Exec_Master_Log_Pos", "Exec_Source_Log_Pos"])
                .trim()
                .parse()
                .ok(),
            sql_state: get(&["Slave_SQL_Running_State", "Replica_SQL_Running_State"]),
        }
    }

    /// Both threads `Yes`: the guide's "healthy".
    pub fn healthy(&self) -> bool {
        self.io_running && self.sql_running
    }

    /// Healthy, and the SQL thread has applied everything up to `file:pos` of the
    /// source's binary log (file names compare in order: they are zero-padded).
    pub fn applied_up_to(&self, file: &str, pos: u64) -> bool {
        self.healthy() && (self.exec_file.as_str(), self.exec_pos.unwrap_or(0)) >= (file, pos)
    }

    /// Healthy and idle as far as the replica alone can tell: everything read has been
    /// applied, 0 s behind, the SQL thread waiting for more. Right after `START SLAVE`
    /// this can hold before the source has sent anything (with GTID the relay log
    /// starts empty), so [`applied_up_to`](Self::applied_up_to) with the source's own
    /// position is preferred; this is the fallback when the source is unknown.
    pub fn idle(&self) -> bool {
        self.healthy()
            && self.seconds_behind == Some(0)
            && self.read_file == self.exec_file
            && self.read_pos.is_some()
            && self.read_pos == self.exec_pos
            && self
                .sql_state
                .to_ascii_lowercase()
                .contains("has read all relay log")
    }

    /// The §4.1.3 class of the current error.
    pub fn classify(&self) -> ReplicaError {
        let texts = [
            self.last_sql_error.as_str(),
            self.last_error.as_str(),
            self.last_io_error.as_str(),
        ];
        let errnos = [self.last_sql_errno, self.last_errno, self.last_io_errno];
        if errnos.iter().all(|e| *e == 0) && texts.iter().all(|t| t.trim().is_empty()) {
            return ReplicaError::None;
        }
        // An IO thread still (re)connecting after a network error (2003 cannot connect,
        // 2006 gone, 2013 lost: its source was down) retries by itself every
        // MASTER_CONNECT_RETRY seconds: not a replication error, and `wait
        // replica_healthy` sees whether it reconnects.
        if matches!(self.last_io_errno, 2003 | 2006 | 2013)
            && !self.io_state.eq_ignore_ascii_case("no")
            && self.last_sql_errno == 0
            && self.last_errno == 0
            && self.last_sql_error.trim().is_empty()
            && self.last_error.trim().is_empty()
        {
            return ReplicaError::None;
        }
        let text = texts.join("\n").to_ascii_lowercase();
        // MySQL's ER_MTS_CANT_PARALLEL is 1755; MariaDB says it in words only.
        if errnos.contains(&1755)
            || text.contains("in the parallel mode")
            || text.contains("unsupported in the parallel execution mode")
        {
            return ReplicaError::ParallelMode;
        }
        if errnos.contains(&1062) || text.contains("duplicate entry") {
            return ReplicaError::DuplicateKey;
        }
        ReplicaError::Other
    }

    /// One line for messages: threads and the error, if any.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "IO {} / SQL {}",
            if self.io_state.is_empty() {
                "No"
            } else {
                &self.io_state
            },
            if self.sql_running { "Yes" } else { "No" }
        );
        let err = [&self.last_sql_error, &self.last_error, &self.last_io_error]
            .into_iter()
            .find(|e| !e.trim().is_empty());
        if let Some(e) = err {
            let errno = [self.last_sql_errno, self.last_errno, self.last_io_errno]
                .into_iter()
                .find(|n| *n != 0)
                .unwrap_or(0);
            let short: String = e.chars().take(200).collect();
            s.push_str(&format!("; error {errno} ({}): {short}", self.classify()));
        }
        s
    }
}

/// Candidate names of the apply-mode variable, in the order they are tried.
pub const EXEC_MODE_VARS: &[&str] = &["replica_exec_mode", "slave_exec_mode"];
/// Candidate names of the parallel-apply variable. MariaDB's real one is
/// `slave_parallel_threads` (`slave_parallel_workers` is its alias from 10.5).
pub const PARALLEL_VARS: &[&str] = &[
    "replica_parallel_workers",
    "slave_parallel_threads",
    "slave_parallel_workers",
];

/// Picks the first candidate the server has.
pub fn pick_var(have: &[String], candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .find(|c| have.iter().any(|h| h.eq_ignore_ascii_case(c)))
        .map(|c| (*c).to_owned())
}

/// Whether a server speaks AliSQL (which has the `SMART` apply mode).
pub fn is_alisql(version: &str, comment: &str) -> bool {
    let both = format!("{version} {comment}").to_ascii_lowercase();
    both.contains("alisql")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn dialect_by_version() {
        assert_eq!(
            Dialect::for_version("10.11.6-MariaDB-0+deb12u1"),
            Dialect::Replica
        );
        assert_eq!(Dialect::for_version("10.3.39-MariaDB"), Dialect::Slave);
        assert_eq!(Dialect::for_version("8.0.36"), Dialect::Replica);
        assert_eq!(Dialect::for_version("8.0.21-log"), Dialect::Slave);
        assert_eq!(Dialect::for_version("5.6.16-AliSQL-log"), Dialect::Slave);
        assert_eq!(Dialect::Replica.show_status(), "SHOW REPLICA STATUS");
    }

    #[test]
    fn reads_both_column_dialects() {
        let old = ReplicaStatus::from_columns(&cols(&[
            ("Slave_IO_Running", "Yes"),
            ("Slave_SQL_Running", "Yes"),
            ("Seconds_Behind_Master", "0"),
            ("Master_Host", "127.0.0.1"),
            ("Master_Log_File", "mysql-bin.000001"),
            ("Relay_Master_Log_File", "mysql-bin.000001"),
            ("Read_Master_Log_Pos", "1234"),
            ("Exec_Master_Log_Pos", "1234"),
            (
                "Slave_SQL_Running_State",
                "Slave has read all relay log; waiting for more updates",
            ),
        ]));
        let new = ReplicaStatus::from_columns(&cols(&[
            ("Replica_IO_Running", "Yes"),
            ("Replica_SQL_Running", "Yes"),
            ("Seconds_Behind_Source", "0"),
            ("Source_Host", "127.0.0.1"),
            ("Source_Log_File", "binlog.000002"),
            ("Relay_Source_Log_File", "binlog.000002"),
            ("Read_Source_Log_Pos", "99"),
            ("Exec_Source_Log_Pos", "80"),
        ]));
        assert!(old.healthy() && new.healthy());
        assert!(old.idle());
        assert!(!new.idle(), "read 99, applied 80");
        assert!(old.applied_up_to("mysql-bin.000001", 1234));
        assert!(!old.applied_up_to("mysql-bin.000002", 4));
        assert!(!new.applied_up_to("binlog.000002", 99));
        assert_eq!(old.seconds_behind, new.seconds_behind);
        assert_eq!(old.source_host, new.source_host);
        assert_eq!(old.classify(), ReplicaError::None);
    }

    #[test]
    fn classifies_the_guide_errors() {
        let dup = ReplicaStatus::from_columns(&cols(&[
            ("Slave_IO_Running", "Yes"),
            ("Slave_SQL_Running", "No"),
            ("Last_SQL_Errno", "1062"),
            (
                "Last_SQL_Error",
                "Could not execute Write_rows_v1 event on table t.a; Duplicate entry '7' for key 'PRIMARY', Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY",
            ),
        ]));
        assert_eq!(dup.classify(), ReplicaError::DuplicateKey);
        assert!(dup.summary().contains("duplicate_key"), "{}", dup.summary());
        let par = ReplicaStatus::from_columns(&cols(&[
            ("Slave_SQL_Running", "No"),
            ("Last_Errno", "1755"),
            (
                "Last_Error",
                "Cannot execute the current event group in the parallel mode. Encountered event Gtid, relay-log name ./relay.000002",
            ),
        ]));
        assert_eq!(par.classify(), ReplicaError::ParallelMode);
        let other = ReplicaStatus::from_columns(&cols(&[
            ("Slave_SQL_Running", "No"),
            ("Last_SQL_Errno", "1146"),
            ("Last_SQL_Error", "Table 'x.y' doesn't exist"),
        ]));
        assert_eq!(other.classify(), ReplicaError::Other);
        // Its source was down: the IO thread retries by itself (§4.2 after a restart).
        let reconnecting = |io: &str| {
            ReplicaStatus::from_columns(&cols(&[
                ("Slave_IO_Running", io),
                ("Slave_SQL_Running", "Yes"),
                ("Last_IO_Errno", "2003"),
                (
                    "Last_IO_Error",
                    "error reconnecting to master 'repl@127.0.0.1:33061' - retry-time: 1  maximum-retries: 100000  message: Can't connect to server on '127.0.0.1' (111 \"Connection refused\")",
                ),
            ]))
        };
        assert_eq!(reconnecting("Connecting").classify(), ReplicaError::None);
        assert_eq!(reconnecting("No").classify(), ReplicaError::Other);
    }

    #[test]
    fn picks_variables_the_server_has() {
        let mariadb = vec![
            "slave_exec_mode".to_owned(),
            "slave_parallel_threads".to_owned(),
        ];
        assert_eq!(
            pick_var(&mariadb, EXEC_MODE_VARS).as_deref(),
            Some("slave_exec_mode")
        );
        assert_eq!(
            pick_var(&mariadb, PARALLEL_VARS).as_deref(),
            Some("slave_parallel_threads")
        );
        let mysql8 = vec![
            "replica_exec_mode".to_owned(),
            "replica_parallel_workers".to_owned(),
            "slave_parallel_workers".to_owned(),
        ];
        assert_eq!(
            pick_var(&mysql8, PARALLEL_VARS).as_deref(),
            Some("replica_parallel_workers")
        );
        assert!(is_alisql("5.6.16-AliSQL-log", ""));
        assert!(!is_alisql("10.11.6-MariaDB", "Debian 12"));
    }
}

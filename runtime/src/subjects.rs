//! What `match` and `when` decide on.
//!
//! | subject | values | read from |
//! |---|---|---|
//! | `role` | `master`, `slave` | what `lookup role` learned for the target |
//! | `replica_error` | `none`, `parallel_mode`, `duplicate_key`, `other` | the target's replica status, now (§4.1.3) |
//! | `peer_mode` | `rw`, `ro` | `read_only` of the target's peer (of the target itself when it is `peer`), now (§4.2) |
//! | `nodes_down` | `some`, `all` | containers of the target's component that are not running, now (§3.8): `all` when every one is down, else `some` (also when none is: the language's value set is closed) |
//! | anything else | — | a value learned under that name |
//!
//! Conditions: `when SUBJECT == VALUE`; `when all_down(C)` / `any_down(C)` /
//! `none_down(C)` over the instances of component C; `when FLAG`: true when a value
//! learned under that name is `true`/`yes`.

use crate::driver::MysqlRead;
use crate::executor::{Exec, Scope};
use crate::learned::key;
use crate::resolve::Instance;
use mend_compiler::plan::{Condition, Target};

/// The `peer_mode` subject of the MySQL server at `ep`: `ro` or `rw` (§4.2). The plan
/// (read-only) and the run read it the same way.
pub(crate) async fn mode_of(mysql: &dyn MysqlRead, ep: &str) -> Result<String, String> {
    let ro = mysql.read_only(ep).await.map_err(|e| e.message)?;
    Ok(if ro { "ro" } else { "rw" }.to_owned())
}

pub(crate) fn condition_text(c: &Condition) -> String {
    match c {
        Condition::Equals { subject, value } => format!("{subject} == {value}"),
        Condition::Predicate { name, argument } => format!("{name}({argument})"),
        Condition::Flag(f) => f.clone(),
    }
}

impl Exec {
    async fn one_target(&self, target: &Target, scope: &Scope) -> Result<Instance, String> {
        let mut all = self.targets(target, scope).await?;
        if all.len() == 1 {
            Ok(all.remove(0))
        } else {
            Err("a decision needs one target, not a whole component".into())
        }
    }

    pub(crate) fn mysql_of<'i>(&self, inst: &'i Instance) -> Result<&'i str, String> {
        inst.mysql.as_deref().ok_or_else(|| {
            format!(
                "`{}` has no MySQL server in the inventory (a `[mysql.*]` with `container = \"{}\"` or `component = \"{}\"`)",
                inst.name, inst.name, inst.component
            )
        })
    }

    async fn nodes_down(&self, component: &str) -> Result<String, String> {
        let spec = self
            .playbook
            .component(component)
            .ok_or_else(|| format!("component `{component}` is not in the playbook"))?;
        let all = self
            .resolver()
            .instances(spec)
            .await
            .map_err(|e| e.to_string())?;
        let down = all
            .iter()
            .filter(|i| i.container.as_ref().is_none_or(|c| !c.is_running()))
            .count();
        Ok(if down == 0 {
            "none"
        } else if down == all.len() {
            "all"
        } else {
            "some"
        }
        .to_owned())
    }

    /// The `nodes_down` subject: `all` or `some` (the compiler's closed set).
    async fn nodes_down_subject(&self, component: &str) -> Result<String, String> {
        let n = self.nodes_down(component).await?;
        Ok(if n == "all" { n } else { "some".to_owned() })
    }

    pub(crate) async fn subject(
        &self,
        subject: &str,
        target: &Target,
        scope: &Scope,
    ) -> Result<String, String> {
        let inst = self.one_target(target, scope).await?;
        match subject {
            "role" => self.learned.get(&key("role", &inst.name)).ok_or_else(|| {
                format!(
                    "the role of `{}` is not known: no `lookup role` ran for it before",
                    inst.name
                )
            }),
            "replica_error" => {
                let ep = self.mysql_of(&inst)?;
                self.settled_replica_error(ep).await
            }
            "peer_mode" => {
                let of = if *target == Target::Peer {
                    inst
                } else {
                    match &inst {
                        i if i.name == self.me.name => self.peer.clone()?,
                        i => self
                            .resolver()
                            .peer(
                                self.playbook
                                    .component(&i.component)
                                    .ok_or("component not in the playbook")?,
                                i,
                            )
                            .await
                            .map_err(|e| e.to_string())?,
                    }
                };
                mode_of(self.drivers.mysql.as_ref(), self.mysql_of(&of)?).await
            }
            "nodes_down" => self.nodes_down_subject(&inst.component).await,
            other => self
                .learned
                .get(&key(other, &inst.name))
                .or_else(|| self.learned.get(other))
                .ok_or_else(|| format!("`{other}` is not something this run knows or can read")),
        }
    }

    pub(crate) async fn condition(&self, c: &Condition, scope: &Scope) -> Result<bool, String> {
        match c {
            Condition::Equals { subject, value } => {
                Ok(self.subject(subject, &Target::SelfNode, scope).await? == *value)
            }
            Condition::Predicate { name, argument } => {
                let down = self.nodes_down(argument).await?;
                match name.as_str() {
                    "all_down" => Ok(down == "all"),
                    "any_down" => Ok(down != "none"),
                    "none_down" => Ok(down == "none"),
                    other => Err(format!("unknown condition `{other}`")),
                }
            }
            Condition::Flag(f) => {
                let v = self
                    .learned
                    .get(&key(f, &self.me.name))
                    .or_else(|| self.learned.get(f))
                    .unwrap_or_default();
                Ok(matches!(v.as_str(), "true" | "yes"))
            }
        }
    }
}

/// How long `match replica_error` waits for a replica that is still applying to
/// either fail or catch up.
const REPLICA_SETTLE: std::time::Duration = std::time::Duration::from_secs(10);

impl Exec {
    /// §4.1.3 reads `show slave status` *after* `start slave`. Right after the start,
    /// the server has cleared the last error and the SQL thread has not yet re-applied
    /// the event that failed, so one read says "no error" for a replica about to
    /// stop on the same duplicate key again. Read until the answer is settled: an
    /// error shows, the replica is idle (all it read is applied), or both threads are
    /// stopped; after [`REPLICA_SETTLE`] what is seen then is the answer.
    async fn settled_replica_error(&self, ep: &str) -> Result<String, String> {
        let start = std::time::Instant::now();
        loop {
            let status = self
                .drivers
                .mysql
                .replica_status(ep)
                .await
                .map_err(|e| e.message)?;
            let Some(st) = status else {
                return Ok("none".into());
            };
            let class = st.classify();
            let settled = class != crate::driver::replication::ReplicaError::None
                || st.idle()
                || (!st.io_running && !st.sql_running);
            if settled || start.elapsed() >= REPLICA_SETTLE {
                return Ok(class.as_str().to_owned());
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
}

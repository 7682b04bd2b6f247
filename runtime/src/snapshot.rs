//! The snapshot cache: the last config seen of every container `plan` or `run`
//! resolved, kept so that a container lost with its host can still be created again
//! with the same name, labels, env, volumes, network and IP (the guide keeps the
//! `docker run` command in Ark's scripts for the same reason, §2.4).
//!
//! Snapshots hold the containers' env, which may hold credentials: files are
//! owner-only (0600) in `<state>/snapshots/`, and are never copied into a journal.

use crate::driver::Container;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// `<state>/snapshots/NAME.json`.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    dir: PathBuf,
}

/// Writes `bytes` to `path` atomically, owner-only.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

impl SnapshotStore {
    pub fn new(state_dir: &Path) -> Self {
        SnapshotStore {
            dir: state_dir.join("snapshots"),
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{safe}.json"))
    }

    /// Keeps the container's current config.
    pub fn save(&self, c: &Container) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(c).map_err(std::io::Error::other)?;
        write_private(&self.file(&c.name), &json)
    }

    /// A snapshot by exact name.
    pub fn get(&self, name: &str) -> Option<Container> {
        let bytes = std::fs::read(self.file(name)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// A snapshot by name, IP, or ID (or a 6+ character prefix of it). With several
    /// snapshots for one IP, the most recent file wins.
    pub fn find(&self, key: &str) -> Option<Container> {
        if let Some(c) = self.get(key) {
            return Some(c);
        }
        let mut best: Option<(std::time::SystemTime, Container)> = None;
        for entry in std::fs::read_dir(&self.dir).ok()?.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let Ok(c) = serde_json::from_slice::<Container>(&bytes) else {
                continue;
            };
            let hit = c.ip.as_deref() == Some(key)
                || c.id == key
                || (key.len() >= 6 && c.id.starts_with(key));
            if hit {
                let t = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                if best.as_ref().is_none_or(|(bt, _)| t > *bt) {
                    best = Some((t, c));
                }
            }
        }
        best.map(|(_, c)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::fake::FakeWorld;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn save_and_find_by_name_ip_and_id() {
        let dir = std::env::temp_dir().join(format!("mend-snap-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let w = FakeWorld::new();
        w.add_container("task_1", "10.0.0.5", &[]);
        let c = w.container("task_1").unwrap();
        let store = SnapshotStore::new(&dir);
        store.save(&c).unwrap();
        let mode = std::fs::metadata(dir.join("snapshots/task_1.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(store.find("task_1").unwrap(), c);
        assert_eq!(store.find("10.0.0.5").unwrap(), c);
        assert_eq!(store.find(&c.id[..8]).unwrap(), c);
        assert!(store.find("10.0.0.6").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

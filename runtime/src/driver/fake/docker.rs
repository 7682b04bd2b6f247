//! The fake Docker engine.

use super::{FakeWorld, fake_id};
use crate::driver::{
    ArchiveInfo, Container, ContainerState, DockerDriver, DockerRead, DriverError, DriverResult,
    ExecOutput, archive,
};
use async_trait::async_trait;
use std::path::Path;

#[async_trait]
impl DockerRead for FakeWorld {
    async fn inspect(&self, name_or_id: &str) -> DriverResult<Option<Container>> {
        self.enter("inspect", name_or_id, false).await?;
        let s = self.lock();
        Ok(Self::find_id(&s, name_or_id).and_then(|id| s.containers.get(&id).cloned()))
    }

    async fn list(&self, selectors: &[(String, String)]) -> DriverResult<Vec<Container>> {
        self.enter("list", "", false).await?;
        let mut found: Vec<Container> = self
            .lock()
            .containers
            .values()
            .filter(|c| c.matches(selectors))
            .cloned()
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    async fn name_by_ip(&self, ip: &str, _network: Option<&str>) -> DriverResult<Option<String>> {
        self.enter("name_by_ip", ip, false).await?;
        Ok(self
            .lock()
            .containers
            .values()
            .find(|c| c.ip.as_deref() == Some(ip))
            .map(|c| c.name.clone()))
    }
}

#[async_trait]
impl DockerDriver for FakeWorld {
    async fn start(&self, id: &str) -> DriverResult<()> {
        self.enter("start", id, true).await?;
        self.with_container(id, |c| {
            c.state = ContainerState::Running;
            Ok(())
        })
    }

    async fn stop(&self, id: &str) -> DriverResult<()> {
        self.enter("stop", id, true).await?;
        self.with_container(id, |c| {
            c.state = ContainerState::Exited;
            Ok(())
        })
    }

    async fn restart(&self, id: &str) -> DriverResult<()> {
        self.enter("restart", id, true).await?;
        self.with_container(id, |c| {
            c.state = ContainerState::Running;
            Ok(())
        })
    }

    async fn remove(&self, id: &str) -> DriverResult<()> {
        self.enter("remove", id, true).await?;
        let mut s = self.lock();
        let key = Self::find_id(&s, id)
            .ok_or_else(|| DriverError::not_found(format!("no such container: {id}")))?;
        s.containers.remove(&key);
        s.files.remove(&key);
        Ok(())
    }

    async fn create(&self, from: &Container, same_ip: bool) -> DriverResult<String> {
        self.enter("create", &from.name, true).await?;
        let mut s = self.lock();
        if s.containers.values().any(|c| c.name == from.name) {
            return Err(DriverError::refused(format!(
                "Conflict. The container name \"/{}\" is already in use",
                from.name
            )));
        }
        if same_ip && s.containers.values().any(|c| c.ip == from.ip) {
            return Err(DriverError::refused("Address already in use"));
        }
        let id = fake_id(s.next_id);
        s.next_id += 1;
        let mut c = from.clone();
        c.id.clone_from(&id);
        c.state = ContainerState::Created;
        if !same_ip {
            c.ip = Some(format!("10.99.0.{}", s.next_id % 250));
        }
        s.containers.insert(id.clone(), c);
        Ok(id)
    }

    async fn exec(&self, id: &str, argv: &[String]) -> DriverResult<ExecOutput> {
        self.enter("exec", id, true).await?;
        let s = self.lock();
        let key = Self::find_id(&s, id)
            .ok_or_else(|| DriverError::not_found(format!("no such container: {id}")))?;
        let c = &s.containers[&key];
        if !c.is_running() {
            return Err(DriverError::refused(format!(
                "Container {} is not running",
                c.name
            )));
        }
        let code = s.probe_exit.get(&c.name).copied().unwrap_or(0);
        Ok(ExecOutput {
            exit_code: code,
            output: if code == 0 {
                format!("ok: {}", argv.join(" "))
            } else {
                "unhealthy".into()
            },
        })
    }

    async fn copy_out(&self, id: &str, path: &str, dest: &Path) -> DriverResult<ArchiveInfo> {
        self.enter("copy_out", id, true).await?;
        let files: Vec<(String, Vec<u8>)> = {
            let s = self.lock();
            let key = Self::find_id(&s, id)
                .ok_or_else(|| DriverError::not_found(format!("no such container: {id}")))?;
            let prefix = format!("{}/", path.trim_end_matches('/'));
            s.files
                .get(&key)
                .map(|f| {
                    f.iter()
                        .filter(|(p, _)| p.starts_with(&prefix))
                        .map(|(p, d)| (p.clone(), d.clone()))
                        .collect()
                })
                .unwrap_or_default()
        };
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).map_err(|e| DriverError::other(e.to_string()))?;
        }
        let base = Path::new(path.trim_end_matches('/'))
            .file_name()
            .map(|b| b.to_string_lossy().into_owned())
            .unwrap_or_default();
        let io = |e: std::io::Error| DriverError::other(format!("fake copy_out: {e}"));
        let partial = archive::partial_path(dest);
        let mut b = tar::Builder::new(std::fs::File::create(&partial).map_err(io)?);
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        b.append_data(&mut h, format!("{base}/"), std::io::empty())
            .map_err(io)?;
        let root = path.trim_end_matches('/');
        for (p, d) in files {
            let rel = format!("{base}{}", &p[root.len()..]);
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            h.set_size(d.len() as u64);
            b.append_data(&mut h, rel, d.as_slice()).map_err(io)?;
        }
        b.finish().map_err(io)?;
        drop(b);
        archive::finish(dest)
    }

    async fn copy_in(&self, id: &str, path: &str, src: &Path) -> DriverResult<()> {
        self.enter("copy_in", id, true).await?;
        let io = |e: std::io::Error| DriverError::other(format!("fake copy_in: {e}"));
        let parent = Path::new(path.trim_end_matches('/'))
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut ar = tar::Archive::new(std::fs::File::open(src).map_err(io)?);
        let mut got = Vec::new();
        for e in ar.entries().map_err(io)? {
            let mut e = e.map_err(io)?;
            if e.header().entry_type().is_dir() {
                continue;
            }
            let p = format!(
                "{}/{}",
                parent.trim_end_matches('/'),
                e.path().map_err(io)?.display()
            );
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut data).map_err(io)?;
            got.push((p, data));
        }
        let mut s = self.lock();
        let key = Self::find_id(&s, id)
            .ok_or_else(|| DriverError::not_found(format!("no such container: {id}")))?;
        let files = s.files.entry(key).or_default();
        for (p, d) in got {
            files.insert(p, d);
        }
        Ok(())
    }
}

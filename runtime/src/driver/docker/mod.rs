//! The Docker engine through bollard.
//!
//! Connects to the inventory's endpoint (the local socket by default, `DOCKER_HOST`, or
//! `tcp://` with TLS files) and negotiates the API version down to the engine's.

mod config;

use crate::driver::archive;
use crate::driver::{
    ArchiveInfo, Container, DockerDriver, DockerRead, DriverError, DriverErrorKind, DriverResult,
    ExecOutput,
};
use crate::inventory::DockerEndpoint;
use async_trait::async_trait;
use bollard::Docker;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder,
    ListContainersOptionsBuilder, ListNetworksOptions, RemoveContainerOptionsBuilder,
    RestartContainerOptionsBuilder, StopContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use config::create_body;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::path::Path;
use tokio::io::AsyncWriteExt;

/// Seconds a container gets to stop before it is killed (as `docker stop`'s default).
const STOP_GRACE_SECS: i32 = 10;
/// Output kept from an exec (the end of it).
const EXEC_OUTPUT_KEEP: usize = 4096;

/// The real Docker driver.
pub struct BollardDocker {
    docker: Docker,
    endpoint: String,
    network: Option<String>,
}

fn engine_err(what: &str, e: &bollard::errors::Error) -> DriverError {
    match e {
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            message,
        } => DriverError::not_found(format!("{what}: {message}")),
        bollard::errors::Error::DockerResponseServerError { message, .. } => {
            DriverError::refused(format!("{what}: {message}"))
        }
        other => DriverError::unreachable(format!("{what}: {}", super::error_chain(other))),
    }
}

impl BollardDocker {
    /// An engine error; when the engine itself could not be reached, the message
    /// says which engine (the inventory's `[docker] host`), so that the operator
    /// knows what to bring back before `mend resume`.
    fn engine_err(&self, what: &str, e: &bollard::errors::Error) -> DriverError {
        let err = engine_err(what, e);
        if err.kind == DriverErrorKind::Unreachable && !err.message.contains(&self.endpoint) {
            DriverError::unreachable(format!(
                "docker engine `{}` unreachable: {}",
                self.endpoint, err.message
            ))
        } else {
            err
        }
    }

    /// Connects and negotiates the API version.
    pub async fn connect(ep: &DockerEndpoint) -> DriverResult<Self> {
        use bollard::API_DEFAULT_VERSION;
        let describe = ep.describe();
        let unreachable = |e: bollard::errors::Error| {
            DriverError::unreachable(format!("docker `{describe}`: {}", super::error_chain(&e)))
        };
        let timeout = ep.timeout_secs;
        let docker = match (&ep.host, &ep.tls) {
            (None, _) => Docker::connect_with_defaults().map_err(unreachable)?,
            (Some(h), Some(tls)) => Docker::connect_with_ssl(
                h,
                &tls.key,
                &tls.cert,
                &tls.ca,
                timeout,
                API_DEFAULT_VERSION,
            )
            .map_err(unreachable)?,
            (Some(h), None) if h.starts_with("unix://") => {
                Docker::connect_with_unix(h, timeout, API_DEFAULT_VERSION).map_err(unreachable)?
            }
            (Some(h), None) => {
                Docker::connect_with_http(h, timeout, API_DEFAULT_VERSION).map_err(unreachable)?
            }
        };
        let docker = docker.negotiate_version().await.map_err(|e| {
            DriverError::unreachable(format!(
                "docker `{describe}`: the engine does not answer: {}",
                super::error_chain(&e)
            ))
        })?;
        Ok(BollardDocker {
            docker,
            endpoint: describe,
            network: ep.network.clone(),
        })
    }

    /// The bollard client, for tests that set up containers.
    pub fn client(&self) -> &Docker {
        &self.docker
    }

    async fn vlan_networks(&self, network: Option<&str>) -> DriverResult<Vec<String>> {
        if let Some(n) = network.or(self.network.as_deref()) {
            return Ok(vec![n.to_owned()]);
        }
        let all = self
            .docker
            .list_networks(None::<ListNetworksOptions>)
            .await
            .map_err(|e| self.engine_err(&format!("docker `{}`: network ls", self.endpoint), &e))?;
        let names: Vec<String> = all.into_iter().filter_map(|n| n.name).collect();
        let vlan: Vec<String> = names
            .iter()
            .filter(|n| n.contains("vlan"))
            .cloned()
            .collect();
        if vlan.is_empty() {
            Ok(names
                .into_iter()
                .filter(|n| !matches!(n.as_str(), "host" | "none"))
                .collect())
        } else {
            Ok(vlan)
        }
    }

    async fn image_ref(&self, from: &Container) -> String {
        // The configured name when it still means the same image, else the exact ID.
        if !from.image.is_empty()
            && let Ok(img) = self.docker.inspect_image(&from.image).await
            && (from.image_id.is_empty() || img.id.as_deref() == Some(from.image_id.as_str()))
        {
            return from.image.clone();
        }
        if from.image_id.is_empty() {
            from.image.clone()
        } else {
            from.image_id.clone()
        }
    }
}

#[async_trait]
impl DockerRead for BollardDocker {
    async fn inspect(&self, name_or_id: &str) -> DriverResult<Option<Container>> {
        match self.docker.inspect_container(name_or_id, None).await {
            Ok(c) => Ok(Some(config::container_of(c, self.network.as_deref()))),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(self.engine_err(
                &format!("docker `{}`: inspect `{name_or_id}`", self.endpoint),
                &e,
            )),
        }
    }

    async fn list(&self, selectors: &[(String, String)]) -> DriverResult<Vec<Container>> {
        let mut filters: HashMap<String, Vec<String>> = HashMap::new();
        if !selectors.is_empty() {
            filters.insert(
                "label".into(),
                selectors.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            );
        }
        let opts = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let summaries = self
            .docker
            .list_containers(Some(opts))
            .await
            .map_err(|e| self.engine_err(&format!("docker `{}`: ps", self.endpoint), &e))?;
        let ids: Vec<String> = summaries.into_iter().filter_map(|s| s.id).collect();
        let inspected = futures_util::future::join_all(ids.iter().map(|id| self.inspect(id))).await;
        let mut out = Vec::new();
        for c in inspected {
            // A container removed between `ps` and `inspect` is simply gone.
            if let Some(c) = c? {
                out.push(c);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn name_by_ip(&self, ip: &str, network: Option<&str>) -> DriverResult<Option<String>> {
        for net in self.vlan_networks(network).await? {
            let inspected = match self.docker.inspect_network(&net, None).await {
                Ok(n) => n,
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => continue,
                Err(e) => {
                    return Err(self.engine_err(
                        &format!("docker `{}`: network inspect `{net}`", self.endpoint),
                        &e,
                    ));
                }
            };
            for ep in inspected.containers.unwrap_or_default().into_values() {
                let addr = ep.ipv4_address.unwrap_or_default();
                if addr.split('/').next() == Some(ip) {
                    return Ok(ep.name);
                }
            }
            // A stopped container (a host down, §2) has no endpoint on the network, but
            // keeps its fixed IP in its config: `docker ps -a --filter network=…`.
            let filters: HashMap<String, Vec<String>> =
                [("network".to_owned(), vec![net.clone()])].into();
            let opts = ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filters)
                .build();
            let stopped = self
                .docker
                .list_containers(Some(opts))
                .await
                .map_err(|e| self.engine_err(&format!("docker `{}`: ps", self.endpoint), &e))?;
            for id in stopped.into_iter().filter_map(|s| s.id) {
                if let Some(c) = self.inspect(&id).await?
                    && !c.is_running()
                    && c.ip.as_deref() == Some(ip)
                {
                    return Ok(Some(c.name));
                }
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl DockerDriver for BollardDocker {
    async fn start(&self, id: &str) -> DriverResult<()> {
        match self.docker.start_container(id, None).await {
            // 304: already running (a start redone after the runner died, §3.2 resume).
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            r => r.map_err(|e| self.engine_err(&format!("docker start `{id}`"), &e)),
        }
    }

    async fn stop(&self, id: &str) -> DriverResult<()> {
        let opts = StopContainerOptionsBuilder::new()
            .t(STOP_GRACE_SECS)
            .build();
        match self.docker.stop_container(id, Some(opts)).await {
            // 304: already stopped.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            r => r.map_err(|e| self.engine_err(&format!("docker stop `{id}`"), &e)),
        }
    }

    async fn restart(&self, id: &str) -> DriverResult<()> {
        let opts = RestartContainerOptionsBuilder::new()
            .t(STOP_GRACE_SECS)
            .build();
        self.docker
            .restart_container(id, Some(opts))
            .await
            .map_err(|e| self.engine_err(&format!("docker restart `{id}`"), &e))
    }

    async fn remove(&self, id: &str) -> DriverResult<()> {
        let opts = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(id, Some(opts)).await {
            // 409: a removal is already under way (asked by a runner killed in the
            // middle of `recreate`, §3.2 resume): wait until it is done.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409,
                message,
            }) if message.contains("already in progress") => {
                let start = std::time::Instant::now();
                while self.inspect(id).await?.is_some() {
                    if start.elapsed() > std::time::Duration::from_secs(60) {
                        return Err(DriverError::refused(format!(
                            "docker rm `{id}`: {message}, and it is still there after 60 s"
                        )));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Ok(())
            }
            r => r.map_err(|e| self.engine_err(&format!("docker rm `{id}`"), &e)),
        }
    }

    async fn create(&self, from: &Container, same_ip: bool) -> DriverResult<String> {
        let body = create_body(from, self.image_ref(from).await, same_ip)?;
        let opts = CreateContainerOptionsBuilder::new()
            .name(&from.name)
            .build();
        let created = self
            .docker
            .create_container(Some(opts), body)
            .await
            .map_err(|e| self.engine_err(&format!("docker create `{}`", from.name), &e))?;
        Ok(created.id)
    }

    async fn exec(&self, id: &str, argv: &[String]) -> DriverResult<ExecOutput> {
        if argv.is_empty() {
            return Err(DriverError::other("exec of an empty command"));
        }
        let what = format!("docker exec `{id}` `{}`", argv.join(" "));
        let created = self
            .docker
            .create_exec(
                id,
                CreateExecOptions {
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(argv.to_vec()),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| self.engine_err(&what, &e))?;
        let mut output = Vec::new();
        match self
            .docker
            .start_exec(&created.id, None)
            .await
            .map_err(|e| self.engine_err(&what, &e))?
        {
            StartExecResults::Attached {
                output: mut out, ..
            } => {
                while let Some(chunk) = out.next().await {
                    let chunk = chunk.map_err(|e| self.engine_err(&what, &e))?;
                    output.extend_from_slice(chunk.as_ref());
                    if output.len() > 4 * EXEC_OUTPUT_KEEP {
                        output.drain(..output.len() - EXEC_OUTPUT_KEEP);
                    }
                }
            }
            StartExecResults::Detached => {}
        }
        let inspect = self
            .docker
            .inspect_exec(&created.id)
            .await
            .map_err(|e| self.engine_err(&what, &e))?;
        if output.len() > EXEC_OUTPUT_KEEP {
            output.drain(..output.len() - EXEC_OUTPUT_KEEP);
        }
        Ok(ExecOutput {
            exit_code: inspect.exit_code.unwrap_or(-1),
            output: String::from_utf8_lossy(&output).into_owned(),
        })
    }

    async fn copy_out(&self, id: &str, path: &str, dest: &Path) -> DriverResult<ArchiveInfo> {
        let what = format!("docker cp `{id}:{path}`");
        if let Some(dir) = dest.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(|e| {
                DriverError::local(format!("{what}: cannot create `{}`: {e}", dir.display()))
            })?;
        }
        let partial = archive::partial_path(dest);
        // The state directory, not the container: a full or read-only disk here is
        // mend's fault to fix, never a reason to try the next backup source.
        let io = |e: std::io::Error| {
            DriverError::local(format!(
                "{what}: writing the backup `{}`: {e}",
                partial.display()
            ))
        };
        let mut file = tokio::fs::File::create(&partial).await.map_err(io)?;
        let opts = DownloadFromContainerOptionsBuilder::new()
            .path(path)
            .build();
        let mut stream = self.docker.download_from_container(id, Some(opts));
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    drop(file);
                    let _ = tokio::fs::remove_file(&partial).await;
                    return Err(self.engine_err(&what, &e));
                }
            };
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
        drop(file);
        let dest = dest.to_owned();
        tokio::task::spawn_blocking(move || archive::finish(&dest))
            .await
            .map_err(|e| DriverError::other(format!("{what}: {e}")))?
    }

    async fn copy_in(&self, id: &str, path: &str, src: &Path) -> DriverResult<()> {
        let what = format!("docker cp into `{id}:{path}`");
        let upload = src.with_extension("upload.tar");
        {
            let (src, upload, path) = (src.to_owned(), upload.clone(), path.to_owned());
            tokio::task::spawn_blocking(move || archive::reroot(&src, &path, &upload))
                .await
                .map_err(|e| DriverError::other(format!("{what}: {e}")))??;
        }
        let file = tokio::fs::File::open(&upload)
            .await
            .map_err(|e| DriverError::other(format!("{what}: {e}")))?;
        let body = bollard::body_try_stream(tokio_util::io::ReaderStream::new(file));
        let opts = UploadToContainerOptionsBuilder::new().path("/").build();
        let r = self
            .docker
            .upload_to_container(id, Some(opts), body)
            .await
            .map_err(|e| self.engine_err(&what, &e));
        let _ = tokio::fs::remove_file(&upload).await;
        r
    }
}

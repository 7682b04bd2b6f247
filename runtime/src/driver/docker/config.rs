//! Between the engine's container config and [`Container`]: reading an inspect, and
//! the create request that makes a container again from its old config.

use crate::driver::{Container, ContainerState, DriverError, DriverResult};
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, EndpointIpamConfig, EndpointSettings,
    HostConfig, NetworkingConfig, RestartPolicy, RestartPolicyNameEnum,
};
use std::collections::{BTreeMap, HashMap};

/// A container as inspected, with its fixed IP on `vlan` when it is attached there.
pub(super) fn container_of(c: ContainerInspectResponse, vlan: Option<&str>) -> Container {
    let id = c.id.unwrap_or_default();
    let name = c
        .name
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_owned();
    let config = c.config.unwrap_or_default();
    let host = c.host_config.unwrap_or_default();
    let state = c
        .state
        .and_then(|s| s.status)
        .map_or(ContainerState::Unknown, |s| {
            ContainerState::parse(s.as_ref())
        });
    let networks = c
        .network_settings
        .and_then(|n| n.networks)
        .unwrap_or_default();
    let short = &id[..id.len().min(12)];
    // The network of the fixed IP: the inventory's VLAN if attached, else the
    // network mode, else the first one with an address.
    let pick = vlan
        .filter(|n| networks.contains_key(*n))
        .map(str::to_owned)
        .or_else(|| {
            host.network_mode
                .clone()
                .filter(|m| networks.contains_key(m))
        })
        .or_else(|| {
            let mut names: Vec<&String> = networks.keys().collect();
            names.sort();
            names.into_iter().next().cloned()
        });
    let (ip, aliases) = pick
        .as_ref()
        .and_then(|n| networks.get(n))
        .map(|ep| {
            let fixed = ep
                .ipam_config
                .as_ref()
                .and_then(|i| i.ipv4_address.clone())
                .filter(|s| !s.is_empty());
            let current = ep.ip_address.clone().filter(|s| !s.is_empty());
            let aliases = ep
                .aliases
                .clone()
                .unwrap_or_default()
                .into_iter()
                .filter(|a| a != short && a != &name)
                .collect();
            (fixed.or(current), aliases)
        })
        .unwrap_or((None, Vec::new()));
    let hostname = config.hostname.filter(|h| !h.is_empty() && h != short);
    Container {
        image: config.image.unwrap_or_default(),
        image_id: c.image.unwrap_or_default(),
        state,
        labels: config
            .labels
            .unwrap_or_default()
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        env: config.env.unwrap_or_default(),
        cmd: config.cmd,
        entrypoint: config.entrypoint,
        working_dir: config.working_dir.filter(|w| !w.is_empty()),
        user: config.user.filter(|u| !u.is_empty()),
        hostname,
        stop_signal: config.stop_signal,
        binds: host.binds.unwrap_or_default(),
        volumes: config.volumes.unwrap_or_default(),
        network: pick,
        ip,
        aliases,
        restart_policy: host
            .restart_policy
            .as_ref()
            .and_then(|r| r.name)
            .map(|n| n.to_string())
            .filter(|n| !n.is_empty()),
        restart_retries: host
            .restart_policy
            .and_then(|r| r.maximum_retry_count)
            .filter(|n| *n > 0),
        memory: host.memory.filter(|m| *m > 0),
        init: host.init,
        id,
        name,
    }
}

/// The create request that makes `from` again: same name (given apart), labels, env,
/// command, binds, volumes, network, restart policy, memory — and the IP when
/// `same_ip`.
pub(super) fn create_body(
    from: &Container,
    image: String,
    same_ip: bool,
) -> DriverResult<ContainerCreateBody> {
    let mut endpoints = HashMap::new();
    if let Some(net) = &from.network {
        endpoints.insert(
            net.clone(),
            EndpointSettings {
                ipam_config: if same_ip {
                    Some(EndpointIpamConfig {
                        ipv4_address: from.ip.clone(),
                        ..Default::default()
                    })
                } else {
                    None
                },
                aliases: (!from.aliases.is_empty()).then(|| from.aliases.clone()),
                ..Default::default()
            },
        );
    }
    if same_ip && from.ip.is_none() {
        return Err(DriverError::other(format!(
            "cannot keep the IP of `{}`: its config names none",
            from.name
        )));
    }
    let restart_policy = from.restart_policy.as_deref().map(|p| RestartPolicy {
        name: Some(match p {
            "always" => RestartPolicyNameEnum::ALWAYS,
            "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
            "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
            "no" => RestartPolicyNameEnum::NO,
            _ => RestartPolicyNameEnum::EMPTY,
        }),
        maximum_retry_count: from.restart_retries,
    });
    let body = ContainerCreateBody {
        image: Some(image),
        hostname: from.hostname.clone(),
        user: from.user.clone(),
        env: Some(from.env.clone()),
        cmd: from.cmd.clone(),
        entrypoint: from.entrypoint.clone(),
        working_dir: from.working_dir.clone(),
        labels: Some(from.labels.clone().into_iter().collect()),
        volumes: (!from.volumes.is_empty()).then(|| from.volumes.clone()),
        stop_signal: from.stop_signal.clone(),
        host_config: Some(HostConfig {
            binds: (!from.binds.is_empty()).then(|| from.binds.clone()),
            network_mode: from.network.clone(),
            restart_policy,
            memory: from.memory,
            init: from.init,
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(endpoints),
        }),
        ..Default::default()
    };
    Ok(body)
}

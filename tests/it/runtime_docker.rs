//! The Docker driver against the real engine, on an `--internal` network the test
//! creates (and removes), with containers of the lab's image (`MEND_LAB_IMAGE`, built
//! by `scripts/lab up images`).

use crate::runtime_lab::{STORE, Sandbox, Scratch};
use mend_runtime::driver::{ContainerState, DockerDriver, DockerRead, DriverErrorKind};

#[tokio::test]
async fn docker_driver_on_a_test_network() {
    let test = "runtime_docker::docker_driver_on_a_test_network";
    let Some(mut sb) = Sandbox::new(test, "drv").await else {
        return;
    };
    let (ip_a, ip_b) = (sb.ip(11), sb.ip(12));
    let a = sb.broker("rt-drv-a", &ip_a, "host1", 100_000).await;
    let b = sb.broker("rt-drv-b", &ip_b, "host2", 50_000).await;
    let d = &sb.docker;

    let listed = d
        .list(&[("mend.test.net".into(), sb.net.clone())])
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        [a.as_str(), b.as_str()]
    );
    let old = d.inspect(&a).await.unwrap().unwrap();
    assert_eq!(old.ip.as_deref(), Some(ip_a.as_str()));
    assert_eq!(old.network.as_deref(), Some(sb.net.as_str()));
    assert_eq!(old.restart_policy.as_deref(), Some("always"));
    assert_eq!(old.memory, Some(64 * 1024 * 1024));
    assert_eq!(d.inspect(&old.id[..12]).await.unwrap().unwrap().name, a);
    assert!(
        d.inspect("mend-rt-no-such-container")
            .await
            .unwrap()
            .is_none()
    );
    // §5.2: IP → name through the network.
    assert_eq!(
        d.name_by_ip(&ip_b, Some(&sb.net)).await.unwrap().as_deref(),
        Some(b.as_str())
    );
    assert_eq!(d.name_by_ip(&sb.ip(99), Some(&sb.net)).await.unwrap(), None);

    // §5.1: the probe from the label, and exec without a shell.
    sb.wait_healthy(&a).await;
    let code = d
        .exec(&a, &["sh".into(), "-c".into(), "exit 3".into()])
        .await
        .unwrap();
    assert_eq!(code.exit_code, 3);
    let echo = d
        .exec(&a, &["echo".into(), "a;b $HOME `id`".into()])
        .await
        .unwrap();
    assert_eq!(echo.output.trim(), "a;b $HOME `id`", "no shell in between");

    // Lifecycle.
    d.stop(&b).await.unwrap();
    assert_eq!(
        d.inspect(&b).await.unwrap().unwrap().state,
        ContainerState::Exited
    );
    d.stop(&b).await.unwrap();
    d.start(&b).await.unwrap();
    d.restart(&b).await.unwrap();
    assert!(d.inspect(&b).await.unwrap().unwrap().is_running());

    // §3.2: copy the store out, lose the container, create it again with the same IP
    // (not started), restore, start: same files, same IP.
    let sums = sb.store_sums(&a).await;
    let scratch = Scratch::new("docker-drv");
    let tar = scratch.0.join("store.tar");
    let info = d.copy_out(&a, STORE, &tar).await.unwrap();
    assert!(info.entries >= 5, "{info:?}");
    d.remove(&a).await.unwrap();
    assert!(d.inspect(&a).await.unwrap().is_none());
    let e = d
        .copy_out(&a, STORE, &scratch.0.join("gone.tar"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::NotFound, "{e}");
    let new_id = d.create(&old, true).await.unwrap();
    let created = d.inspect(&a).await.unwrap().unwrap();
    assert_eq!(created.id, new_id);
    assert_eq!(created.state, ContainerState::Created);
    assert_eq!(created.ip, old.ip);
    assert_eq!(created.labels, old.labels);
    assert_eq!(created.env, old.env);
    assert_eq!(
        (created.restart_policy.clone(), created.memory),
        (old.restart_policy.clone(), old.memory)
    );
    d.copy_in(&a, STORE, &tar).await.unwrap();
    d.start(&a).await.unwrap();
    assert_eq!(sb.store_sums(&a).await, sums, "store byte-identical");
    assert_eq!(
        d.name_by_ip(&ip_a, Some(&sb.net)).await.unwrap().as_deref(),
        Some(a.as_str())
    );
    sb.wait_healthy(&a).await;
}

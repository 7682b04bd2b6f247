//! The Docker driver over `tcp://` with mutual TLS (the inventory's `tls_ca`,
//! `tls_cert`, `tls_key`), against the real engine: the test makes a CA, a server and a
//! client certificate with `openssl`, and puts a TLS listener on loopback in front of
//! the engine's socket (stunnel, `requireCert`, connecting to /var/run/docker.sock:
//! what `dockerd --tlsverify -H tcp://…` does for a remote engine; socat's
//! `OPENSSL-LISTEN` refuses a resumed session, "session id context uninitialized",
//! which the Rust client attempts on its second connection). The engine itself
//! is not reconfigured: other tests share it.

use crate::runtime_lab::{Lab, Scratch, unavailable};
use mend_runtime::driver::docker::BollardDocker;
use mend_runtime::driver::{DockerRead, DriverError, DriverErrorKind};
use mend_runtime::inventory::{DockerEndpoint, TlsFiles};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SOCKET: &str = "/var/run/docker.sock";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA of its own, `NAME-ca.pem` and `NAME-ca.key` in `dir` (also for
/// `runtime_mysql_tls`).
pub(crate) fn ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN=mend-test-{name}-ca"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &format!("{name}-ca.key"),
            "-out",
            &format!("{name}-ca.pem"),
        ],
    );
}

fn leaf(dir: &Path, ca: &str, leaf: &str, ext: &str) {
    std::fs::write(dir.join(format!("{leaf}.ext")), ext).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            &format!("/CN={leaf}"),
            "-keyout",
            &format!("{leaf}.key"),
            "-out",
            &format!("{leaf}.csr"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{leaf}.csr"),
            "-CA",
            &format!("{ca}-ca.pem"),
            "-CAkey",
            &format!("{ca}-ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &format!("{leaf}.ext"),
            "-out",
            &format!("{leaf}.pem"),
        ],
    );
}

const SERVER_EXT: &str = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n";
const CLIENT_EXT: &str =
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";

/// The TLS listener; killed when dropped.
struct Listener(Child);

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn listen(dir: &Path, port: u16) -> Listener {
    let conf = dir.join("stunnel.conf");
    let d = dir.display();
    std::fs::write(
        &conf,
        format!(
            "foreground = yes\npid =\noutput = {d}/stunnel.log\n[docker]\naccept = 127.0.0.1:{port}\n\
             connect = {SOCKET}\ncert = {d}/server.pem\nkey = {d}/server.key\n\
             CAfile = {d}/good-ca.pem\nverifyChain = yes\nrequireCert = yes\n"
        ),
    )
    .unwrap();
    let child = Command::new("stunnel")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("stunnel");
    let l = Listener(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return l;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("stunnel did not listen on 127.0.0.1:{port}");
}

fn endpoint(port: u16, dir: &Path, ca: &str, client: &str) -> DockerEndpoint {
    DockerEndpoint {
        host: Some(format!("tcp://127.0.0.1:{port}")),
        tls: Some(TlsFiles {
            ca: dir.join(format!("{ca}-ca.pem")),
            cert: dir.join(format!("{client}.pem")),
            key: dir.join(format!("{client}.key")),
        }),
        timeout_secs: 10,
        ..DockerEndpoint::default()
    }
}

/// `tool` is an executable on `PATH`.
fn have(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

/// The engine at `ep` is refused (at connect or at the first call), and the error
/// names it: `what` was not let through.
async fn refused(ep: &DockerEndpoint, port: u16, what: &str) -> DriverError {
    let e = match BollardDocker::connect(ep).await {
        Err(e) => e,
        Ok(d) => d
            .list(&[])
            .await
            .expect_err(&format!("{what} was let through")),
    };
    assert_eq!(e.kind, DriverErrorKind::Unreachable, "{e}");
    assert!(
        e.message.contains(&format!("tcp://127.0.0.1:{port}")),
        "names the engine: {e}"
    );
    e
}

#[tokio::test]
async fn docker_over_tcp_with_mutual_tls() {
    let test = "runtime_docker_tls::docker_over_tcp_with_mutual_tls";
    let lab = Lab::load();
    if !lab.has(test, &["MEND_LAB_NETWORK"]) {
        return;
    }
    if !Path::new(SOCKET).exists() || !have("stunnel") || !have("openssl") {
        unavailable(
            test,
            "needs the engine's socket, stunnel and openssl (`scripts/lab up`)",
        );
        return;
    }
    let scratch = Scratch::new("docker-tls");
    let dir: PathBuf = scratch.0.clone();
    ca(&dir, "good");
    ca(&dir, "other");
    leaf(&dir, "good", "server", SERVER_EXT);
    leaf(&dir, "good", "client", CLIENT_EXT);
    leaf(&dir, "other", "stranger", CLIENT_EXT);
    let port = crate::runtime_lab::free_port();
    let _listener = listen(&dir, port);

    // Through TLS, the same engine: the lab's network is seen, as over the socket.
    let d = BollardDocker::connect(&endpoint(port, &dir, "good", "client"))
        .await
        .expect("connect over tcp:// with TLS");
    let local = BollardDocker::connect(&DockerEndpoint::default())
        .await
        .expect("the local socket");
    let label = [("mend.lab".to_owned(), "1".to_owned())];
    let over_tls: Vec<String> = d
        .list(&label)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    let over_socket: Vec<String> = local
        .list(&label)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert!(!over_tls.is_empty(), "the lab's containers, over TLS");
    assert_eq!(over_tls, over_socket);
    assert!(
        d.inspect("mend-tls-no-such-container")
            .await
            .unwrap()
            .is_none()
    );

    // A client certificate from a CA the engine does not trust: refused, and said so.
    refused(
        &endpoint(port, &dir, "good", "stranger"),
        port,
        "a stranger's certificate",
    )
    .await;
    // An engine whose certificate the client's CA did not sign: not trusted.
    let e = refused(
        &endpoint(port, &dir, "other", "client"),
        port,
        "an unknown server",
    )
    .await;
    eprintln!("refused as it should be: {e}");
}

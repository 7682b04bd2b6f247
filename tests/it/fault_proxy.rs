//! A fault-injecting proxy for `runtime_faults`: it sits between `mend` and a real
//! service (the Docker engine's Unix socket, MariaDB or ZooKeeper on loopback) so that
//! a test can cut *its own* link mid-run without stopping the shared service that
//! other tests and people use.
//!
//! - [`Proxy::down`]: new connections are refused (the listener is closed; a Unix
//!   socket file stays, so `connect` gets `ECONNREFUSED`, as from a dead engine) and
//!   every open connection is shut down.
//! - [`Proxy::up`]: listens again on the same address.
//! - [`Proxy::arm`]: the next client chunk that matches a predicate cuts the link:
//!   the chunk is optionally forwarded first, the server's answer is held back (the
//!   client never sees it), an action runs (e.g. `KILL CONNECTION` from a root
//!   session), then the proxy goes down. That is how a connection dies *mid-query*.
//!
//! Plain threads and blocking sockets: a proxy is a few connections at a time.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One side of a proxied connection.
trait Conn: Read + Write + Send {
    fn clone_conn(&self) -> std::io::Result<Box<dyn Conn>>;
    fn shut(&self);
}

impl Conn for TcpStream {
    fn clone_conn(&self) -> std::io::Result<Box<dyn Conn>> {
        Ok(Box::new(self.try_clone()?))
    }
    fn shut(&self) {
        let _ = self.shutdown(Shutdown::Both);
    }
}

impl Conn for UnixStream {
    fn clone_conn(&self) -> std::io::Result<Box<dyn Conn>> {
        Ok(Box::new(self.try_clone()?))
    }
    fn shut(&self) {
        let _ = self.shutdown(Shutdown::Both);
    }
}

/// Where the proxy listens and where it forwards to.
#[derive(Clone, Debug)]
pub(crate) enum Addr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    fn bind(addr: &Addr) -> std::io::Result<Listener> {
        Ok(match addr {
            Addr::Tcp(a) => {
                let l = TcpListener::bind(a)?;
                l.set_nonblocking(true)?;
                Listener::Tcp(l)
            }
            Addr::Unix(p) => {
                let _ = std::fs::remove_file(p);
                let l = UnixListener::bind(p)?;
                l.set_nonblocking(true)?;
                Listener::Unix(l)
            }
        })
    }

    fn accept(&self) -> std::io::Result<Box<dyn Conn>> {
        match self {
            Listener::Tcp(l) => {
                let (s, _) = l.accept()?;
                s.set_nonblocking(false)?;
                Ok(Box::new(s))
            }
            Listener::Unix(l) => {
                let (s, _) = l.accept()?;
                s.set_nonblocking(false)?;
                Ok(Box::new(s))
            }
        }
    }
}

fn connect(addr: &Addr) -> std::io::Result<Box<dyn Conn>> {
    Ok(match addr {
        Addr::Tcp(a) => Box::new(TcpStream::connect_timeout(a, Duration::from_secs(5))?),
        Addr::Unix(p) => Box::new(UnixStream::connect(p)?),
    })
}

/// Looks at a client → server chunk.
pub(crate) type ChunkTest = Box<dyn Fn(&[u8]) -> bool + Send + Sync>;
/// Acts on the server's first chunk; says what it did.
pub(crate) type ChunkAction = Box<dyn Fn(&[u8]) -> String + Send + Sync>;
/// Both halves of a proxied connection.
type ConnPair = (Box<dyn Conn>, Box<dyn Conn>);

/// What an armed proxy waits for, and does.
pub(crate) struct Trigger {
    /// Fires on a client → server chunk.
    pub(crate) matches: ChunkTest,
    /// Forward the matching chunk to the server before cutting (the request is then
    /// really in flight when the link dies).
    pub(crate) forward: bool,
    /// Runs when it fires, with the first chunk the server sent on that connection
    /// (MariaDB's greeting carries the connection id); its text is kept for the test.
    pub(crate) action: ChunkAction,
}

#[derive(Default)]
struct Shared {
    down: AtomicBool,
    listening: AtomicBool,
    stop: AtomicBool,
    conns: Mutex<Vec<ConnPair>>,
    trigger: Mutex<Option<Arc<Trigger>>>,
    /// What the trigger's action said when it fired.
    fired: Mutex<Option<String>>,
}

impl Shared {
    fn cut_all(&self) {
        let mut conns = self.conns.lock().unwrap();
        for (a, b) in conns.drain(..) {
            a.shut();
            b.shut();
        }
    }
}

/// A running proxy; stopped (and its connections cut) on drop.
pub(crate) struct Proxy {
    pub(crate) listen: Addr,
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Listens on `listen` (a TCP port 0 is replaced by the one the kernel gave) and
    /// forwards to `upstream`.
    pub(crate) fn start(listen: Addr, upstream: Addr) -> Proxy {
        let first = Listener::bind(&listen).expect("the proxy binds");
        let listen = match (&first, listen) {
            (Listener::Tcp(l), Addr::Tcp(_)) => Addr::Tcp(l.local_addr().expect("local addr")),
            (_, other) => other,
        };
        let shared = Arc::new(Shared::default());
        shared.listening.store(true, Ordering::SeqCst);
        let (sh, addr) = (shared.clone(), listen.clone());
        let thread = std::thread::spawn(move || accept_loop(Some(first), &addr, &upstream, &sh));
        Proxy {
            listen,
            shared,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT` of a TCP proxy.
    pub(crate) fn tcp(&self) -> SocketAddr {
        match &self.listen {
            Addr::Tcp(a) => *a,
            Addr::Unix(p) => panic!("{} is a Unix socket", p.display()),
        }
    }

    /// Refuses new connections and cuts the open ones.
    pub(crate) fn down(&self) {
        self.shared.down.store(true, Ordering::SeqCst);
        self.wait_listening(false);
        self.shared.cut_all();
    }

    /// Listens again, on the same address.
    pub(crate) fn up(&self) {
        *self.shared.trigger.lock().unwrap() = None;
        self.shared.down.store(false, Ordering::SeqCst);
        self.wait_listening(true);
    }

    /// Cuts the link at the next client chunk `trigger` matches (see the module doc).
    pub(crate) fn arm(&self, trigger: Trigger) {
        *self.shared.trigger.lock().unwrap() = Some(Arc::new(trigger));
    }

    /// What the trigger's action said, once it has fired. Waits for it (up to 10 s):
    /// the run under test may end before the action returns, e.g. when a `KILL
    /// CONNECTION` has already cut the link while the `mysql` client that sent it is
    /// still exiting.
    pub(crate) fn fired(&self) -> Option<String> {
        let start = Instant::now();
        loop {
            let said = self.shared.fired.lock().unwrap().clone();
            if said.is_some() || start.elapsed() > Duration::from_secs(10) {
                return said;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn wait_listening(&self, want: bool) {
        let start = Instant::now();
        while self.shared.listening.load(Ordering::SeqCst) != want {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the proxy on {:?} did not go {}",
                self.listen,
                if want { "up" } else { "down" }
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.cut_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Addr::Unix(p) = &self.listen {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn accept_loop(mut listener: Option<Listener>, listen: &Addr, upstream: &Addr, sh: &Arc<Shared>) {
    while !sh.stop.load(Ordering::SeqCst) {
        let down = sh.down.load(Ordering::SeqCst);
        if down && listener.is_some() {
            // Dropping the listener closes it: connects are refused from now on.
            listener = None;
            sh.listening.store(false, Ordering::SeqCst);
        }
        if !down && listener.is_none() {
            match Listener::bind(listen) {
                Ok(l) => {
                    listener = Some(l);
                    sh.listening.store(true, Ordering::SeqCst);
                }
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
            }
        }
        let Some(l) = &listener else {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        match l.accept() {
            Ok(client) => match connect(upstream) {
                Ok(server) => pipe(client, server, sh),
                Err(_) => client.shut(),
            },
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Two pumps for one connection; both ends registered so that `down` can cut them.
fn pipe(client: Box<dyn Conn>, server: Box<dyn Conn>, sh: &Arc<Shared>) {
    let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
        client.clone_conn(),
        server.clone_conn(),
        client.clone_conn(),
        server.clone_conn(),
    ) else {
        return;
    };
    sh.conns.lock().unwrap().push((c3, s3));
    let held = Arc::new(AtomicBool::new(false));
    let greeting = Arc::new(Mutex::new(Vec::<u8>::new()));
    // server → client: the first chunk is kept; nothing passes once held.
    {
        let (held, greeting) = (held.clone(), greeting.clone());
        let (mut from, mut to) = (server, c2);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                {
                    let mut g = greeting.lock().unwrap();
                    if g.is_empty() {
                        g.extend_from_slice(&buf[..n]);
                    }
                }
                if held.load(Ordering::SeqCst) {
                    continue;
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            from.shut();
            to.shut();
        });
    }
    // client → server, watching for the trigger.
    let sh = sh.clone();
    let (mut from, mut to) = (client, s2);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            let armed = sh.trigger.lock().unwrap().clone();
            if let Some(t) = armed.filter(|t| (t.matches)(chunk)) {
                *sh.trigger.lock().unwrap() = None;
                held.store(true, Ordering::SeqCst);
                if t.forward {
                    let _ = to.write_all(chunk);
                    // Let the server take the request before the link dies.
                    std::thread::sleep(Duration::from_millis(50));
                }
                let g = greeting.lock().unwrap().clone();
                let said = (t.action)(&g);
                *sh.fired.lock().unwrap() = Some(said);
                sh.down.store(true, Ordering::SeqCst);
                // Closed before the cut, so that a reconnect is refused, not served.
                let start = Instant::now();
                while sh.listening.load(Ordering::SeqCst)
                    && start.elapsed() < Duration::from_secs(2)
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
                sh.cut_all();
                from.shut();
                to.shut();
                return;
            }
            if to.write_all(chunk).is_err() {
                break;
            }
        }
        from.shut();
        to.shut();
    });
}

/// MariaDB's greeting (protocol 10): after the 4-byte packet header, the protocol
/// byte, the server version (NUL-terminated), then the connection id (4 bytes LE).
pub(crate) fn mysql_connection_id(greeting: &[u8]) -> Option<u32> {
    let body = greeting.get(4..)?;
    if body.first() != Some(&10) {
        return None;
    }
    let nul = body.iter().skip(1).position(|b| *b == 0)? + 1;
    let id = body.get(nul + 1..nul + 5)?;
    Some(u32::from_le_bytes(id.try_into().ok()?))
}

/// A MySQL `COM_QUERY` packet whose text contains `needle`.
pub(crate) fn is_mysql_query(chunk: &[u8], needle: &str) -> bool {
    chunk.get(4) == Some(&0x03)
        && chunk
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// A ZooKeeper read request (exists 3, getData 4, getChildren 8, getChildren2 12):
/// length (4), xid (4), type (4), big-endian. Pings (type 11) and the connect
/// request (no type field at that place) do not match.
pub(crate) fn is_zk_read(chunk: &[u8]) -> bool {
    chunk
        .get(8..12)
        .map(|t| i32::from_be_bytes(t.try_into().expect("4 bytes")))
        .is_some_and(|t| matches!(t, 3 | 4 | 8 | 12))
}

#[test]
fn parses_a_mariadb_greeting() {
    let mut g = vec![0x5b, 0, 0, 0, 10];
    g.extend_from_slice(b"5.5.5-10.11.6-MariaDB\0");
    g.extend_from_slice(&1234u32.to_le_bytes());
    g.extend_from_slice(b"rest");
    assert_eq!(mysql_connection_id(&g), Some(1234));
    assert_eq!(mysql_connection_id(&[1, 0, 0, 0, 9]), None);
    let q = [&[20u8, 0, 0, 0, 3][..], b"SET GLOBAL read_only = ON"].concat();
    assert!(is_mysql_query(&q, "read_only"));
    assert!(!is_mysql_query(&q, "gtid"));
    let zk_get = [0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 4];
    let zk_ping = [0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11];
    assert!(is_zk_read(&zk_get) && !is_zk_read(&zk_ping));
}

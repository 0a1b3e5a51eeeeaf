//! Real connections: servers that listen in the pods on their container
//! ports for the whole run (as the pods' programs would), and a client
//! that opens one connection (TCP), sends one datagram (UDP) or one echo
//! request (ICMP) from its namespace and says how it went.

use std::io::{ErrorKind, Read};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use super::capture::now;
use super::ns::in_netns;

/// What a UDP client sends and the server echoes back, so the capture can
/// tell a request from a reply whatever NAT did to the ports.
pub const ASK: &[u8] = b"podpath-lab?";
pub const ANSWER: &[u8] = b"podpath-lab!";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
}

/// A connection a server took: where, when, to which address and from
/// which.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    pub ts: u128,
    pub place: String,
    pub local: SocketAddr,
    pub peer: SocketAddr,
}

/// The servers of the lab, stopped when dropped.
#[derive(Debug)]
pub struct Servers {
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Served>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Servers {
    pub fn new() -> Servers {
        Servers { stop: Arc::new(AtomicBool::new(false)), log: Arc::default(), threads: Vec::new() }
    }

    /// Listens on `port` in the namespace at `path` until the lab ends;
    /// returns once the socket is bound.
    pub fn listen(&mut self, path: &str, place: &str, proto: Proto, ip: Ipv4Addr, port: u16) -> Result<(), String> {
        let (stop, log, at) = (self.stop.clone(), self.log.clone(), place.to_owned());
        let (ready, bound) = mpsc::channel();
        let handle = in_netns(path, move || match proto {
            Proto::Tcp => serve_tcp(port, ip, &at, &stop, &log, &ready),
            Proto::Udp => serve_udp(port, ip, &at, &stop, &log, &ready),
            Proto::Icmp => drop(ready.send(Ok(()))),
        });
        self.threads.push(handle);
        bound.recv_timeout(Duration::from_secs(5)).map_err(|e| format!("{place}: {e}"))?
    }

    /// What the servers took between two instants.
    pub fn between(&self, from: u128, to: u128) -> Vec<Served> {
        let log = self.log.lock().expect("no server panicked holding the log");
        log.iter().filter(|s| s.ts >= from && s.ts <= to).cloned().collect()
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

type Log = Arc<Mutex<Vec<Served>>>;

fn serve_tcp(
    port: u16,
    ip: Ipv4Addr,
    place: &str,
    stop: &AtomicBool,
    log: &Log,
    ready: &mpsc::Sender<Result<(), String>>,
) {
    let listener = match TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)) {
        Ok(l) => l,
        Err(e) => return drop(ready.send(Err(format!("{place}: tcp {port}: {e}")))),
    };
    let _ = listener.set_nonblocking(true);
    let _ = ready.send(Ok(()));
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, peer)) => {
                let local = stream.local_addr().unwrap_or(SocketAddr::V4(SocketAddrV4::new(ip, port)));
                log.lock().expect("log").push(Served { ts: now(), place: place.to_owned(), local, peer });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

fn serve_udp(
    port: u16,
    ip: Ipv4Addr,
    place: &str,
    stop: &AtomicBool,
    log: &Log,
    ready: &mpsc::Sender<Result<(), String>>,
) {
    let socket = match UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)) {
        Ok(s) => s,
        Err(e) => return drop(ready.send(Err(format!("{place}: udp {port}: {e}")))),
    };
    let _ = socket.set_read_timeout(Some(Duration::from_millis(20)));
    let _ = ready.send(Ok(()));
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::Relaxed) {
        if let Ok((n, peer)) = socket.recv_from(&mut buf) {
            if buf[..n].starts_with(ASK) {
                let local = SocketAddr::V4(SocketAddrV4::new(ip, port));
                log.lock().expect("log").push(Served { ts: now(), place: place.to_owned(), local, peer });
                let _ = socket.send_to(ANSWER, peer);
            }
        }
    }
}

/// How one attempt went, as the client saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Connected, or answered: the address the answer came from.
    Answered(SocketAddr),
    /// Refused at once (a TCP reset, an ICMP port unreachable).
    Refused,
    /// No route, or an ICMP unreachable other than for the port.
    Unreachable(String),
    /// Nothing came back in time.
    TimedOut,
}

impl Outcome {
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Answered(_) => "answered",
            Outcome::Refused => "refused",
            Outcome::Unreachable(_) => "unreachable",
            Outcome::TimedOut => "timed out",
        }
    }
}

/// One attempt from the namespace at `path` to `dst`: how it went, and
/// the client's own address and port as its socket had them (for ICMP the
/// echo identifier stands for the port).
pub fn attempt(path: &str, proto: Proto, dst: SocketAddrV4, timeout: Duration) -> (Outcome, Option<SocketAddr>) {
    in_netns(path, move || match proto {
        Proto::Tcp => tcp(dst, timeout),
        Proto::Udp => udp(dst, timeout),
        Proto::Icmp => icmp(*dst.ip(), timeout),
    })
    .join()
    .unwrap_or_else(|_| (Outcome::Unreachable("the client thread panicked".into()), None))
}

fn failed(e: &std::io::Error) -> Outcome {
    match e.kind() {
        ErrorKind::ConnectionRefused => Outcome::Refused,
        ErrorKind::TimedOut | ErrorKind::WouldBlock => Outcome::TimedOut,
        _ => Outcome::Unreachable(e.to_string()),
    }
}

/// A connection; where it failed, the local address is that of a socket
/// bound the same way first (the kernel picks the port at connect).
fn tcp(dst: SocketAddrV4, timeout: Duration) -> (Outcome, Option<SocketAddr>) {
    let run = || -> std::io::Result<(Outcome, Option<SocketAddr>)> {
        let s = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        s.bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)).into())?;
        let outcome = match s.connect_timeout(&SocketAddr::V4(dst).into(), timeout) {
            Ok(()) => Outcome::Answered(s.peer_addr()?.as_socket().unwrap_or(SocketAddr::V4(dst))),
            Err(e) => failed(&e),
        };
        Ok((outcome, s.local_addr()?.as_socket()))
    };
    run().unwrap_or_else(|e| (failed(&e), None))
}

fn udp(dst: SocketAddrV4, timeout: Duration) -> (Outcome, Option<SocketAddr>) {
    let run = || -> std::io::Result<(Outcome, Option<SocketAddr>)> {
        let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
        s.connect(dst)?;
        let local = s.local_addr().ok();
        s.set_read_timeout(Some(timeout))?;
        s.send(ASK)?;
        let mut buf = [0u8; 64];
        let outcome = match s.recv(&mut buf) {
            Ok(n) if buf[..n].starts_with(ANSWER) => Outcome::Answered(SocketAddr::V4(dst)),
            Ok(_) => Outcome::TimedOut,
            Err(e) => failed(&e),
        };
        Ok((outcome, local))
    };
    run().unwrap_or_else(|e| (failed(&e), None))
}

/// An echo request on a raw socket; the reply (type 0) with our
/// identifier, or an unreachable (type 3) quoting our request.
fn icmp(dst: Ipv4Addr, timeout: Duration) -> (Outcome, Option<SocketAddr>) {
    let id = (std::process::id() as u16) ^ 0x5eed;
    let local = Some(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, id)));
    (icmp_echo(dst, id, timeout), local)
}

fn icmp_echo(dst: Ipv4Addr, id: u16, timeout: Duration) -> Outcome {
    let run = || -> std::io::Result<Outcome> {
        let mut s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))?;
        let mut echo = vec![8, 0, 0, 0, (id >> 8) as u8, id as u8, 0, 1];
        echo.extend_from_slice(ASK);
        let sum = checksum(&echo);
        echo[2..4].copy_from_slice(&sum.to_be_bytes());
        s.send_to(&echo, &SocketAddr::V4(SocketAddrV4::new(dst, 0)).into())?;
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 1500];
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            s.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
            let n = match s.read(&mut buf) {
                Ok(n) => n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                Err(e) => return Err(e),
            };
            let ihl = usize::from(buf[0] & 0x0f) * 4;
            let (from, icmp) = (Ipv4Addr::new(buf[12], buf[13], buf[14], buf[15]), &buf[ihl..n]);
            match icmp.first() {
                Some(0) if icmp.len() >= 8 && u16::from_be_bytes([icmp[4], icmp[5]]) == id => {
                    return Ok(Outcome::Answered(SocketAddr::V4(SocketAddrV4::new(from, 0))));
                }
                Some(3) if icmp.len() >= 8 + 20 + 8 => {
                    let inner = &icmp[8..];
                    let off = usize::from(inner[0] & 0x0f) * 4;
                    if inner.get(off + 4..off + 6) == Some(&id.to_be_bytes()[..]) {
                        return Ok(if icmp[1] == 3 {
                            Outcome::Refused
                        } else {
                            Outcome::Unreachable(format!("ICMP unreachable code {} from {from}", icmp[1]))
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(Outcome::TimedOut)
    };
    run().unwrap_or_else(|e| failed(&e))
}

/// The Internet checksum (RFC 1071).
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

//! What crossed each interface: one tcpdump per interface writing a pcap
//! file (nanosecond timestamps, a frame as soon as it is seen; never in
//! promiscuous mode, which would have a bridge pass up copies of the frames
//! it switches and show them as crossing it), read back
//! between two instants and parsed as far as the comparison needs —
//! Ethernet, IPv4, TCP, UDP, ICMP, and VXLAN with the frame inside.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::ns::tool;

/// Nanoseconds since the epoch, the clock tcpdump stamps frames with.
pub fn now() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_nanos()
}

/// A tunnel's outer headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outer {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub vni: u32,
    pub port: u16,
}

/// One IPv4 packet as an interface saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub ts: u128,
    /// Where: `pod:NS/NAME`, `node:NAME` or `outside`.
    pub place: String,
    pub dev: String,
    pub outer: Option<Outer>,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub proto: u8,
    pub sport: u16,
    pub dport: u16,
    /// TCP flags, or the ICMP type.
    pub flags: u8,
    pub payload: Vec<u8>,
}

/// One running tcpdump.
#[derive(Debug)]
struct Tap {
    place: String,
    dev: String,
    file: PathBuf,
    child: Child,
}

/// Every interface of the lab, captured.
#[derive(Debug)]
pub struct Captures {
    taps: Vec<Tap>,
    vxlan_ports: Vec<u16>,
}

impl Captures {
    /// Starts one tcpdump per (namespace, place, interface) and waits until
    /// each has its file open.
    pub fn start(
        dir: &std::path::Path,
        ifaces: &[(String, String, String)],
        vxlan_ports: Vec<u16>,
    ) -> Result<Captures, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let mut taps = Vec::new();
        for (i, (netns, place, dev)) in ifaces.iter().enumerate() {
            let file = dir.join(format!("{i:03}.pcap"));
            let child = Command::new(tool("ip"))
                .args(["netns", "exec", netns])
                .arg(tool("tcpdump"))
                .args(["-i", dev, "-n", "-p", "-U", "--immediate-mode", "-s", "400", "-Z", "root"])
                .args(["--time-stamp-precision", "nano", "-w"])
                .arg(&file)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("tcpdump: {e}"))?;
            taps.push(Tap { place: place.clone(), dev: dev.clone(), file, child });
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        for tap in &mut taps {
            while std::fs::metadata(&tap.file).map_or(true, |m| m.len() < 24) {
                if let Ok(Some(status)) = tap.child.try_wait() {
                    return Err(format!("tcpdump on {} {} exited: {status}", tap.place, tap.dev));
                }
                if Instant::now() > deadline {
                    return Err(format!("tcpdump on {} {} did not start", tap.place, tap.dev));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        // The file is open before the socket sees frames: a moment more.
        std::thread::sleep(Duration::from_millis(200));
        Ok(Captures { taps, vxlan_ports })
    }

    /// Every IPv4 frame seen between two instants, in the order seen.
    pub fn between(&self, from: u128, to: u128) -> Vec<Frame> {
        let mut frames = Vec::new();
        for tap in &self.taps {
            let Ok(bytes) = std::fs::read(&tap.file) else { continue };
            for (ts, data) in records(&bytes) {
                if ts < from || ts > to {
                    continue;
                }
                if let Some(f) = parse(data, &self.vxlan_ports) {
                    frames.push(Frame { ts, place: tap.place.clone(), dev: tap.dev.clone(), ..f });
                }
            }
        }
        podpath_core::order::sort_by_key(&mut frames, |f| f.ts);
        frames
    }
}

impl Drop for Captures {
    fn drop(&mut self) {
        for tap in &mut self.taps {
            let _ = tap.child.kill();
            let _ = tap.child.wait();
        }
    }
}

/// The records of a pcap file with nanosecond timestamps (little-endian,
/// as tcpdump writes it here): each frame with its time.
fn records(bytes: &[u8]) -> Vec<(u128, &[u8])> {
    let mut out = Vec::new();
    if bytes.len() < 24 || bytes[..4] != [0x4d, 0x3c, 0xb2, 0xa1] {
        return out;
    }
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let (sec, nsec, len) = (u32_at(bytes, at), u32_at(bytes, at + 4), u32_at(bytes, at + 8) as usize);
        if at + 16 + len > bytes.len() {
            break; // still being written
        }
        out.push((u128::from(sec) * 1_000_000_000 + u128::from(nsec), &bytes[at + 16..at + 16 + len]));
        at += 16 + len;
    }
    out
}

/// An Ethernet frame carrying IPv4, with a VXLAN frame inside opened up.
fn parse(eth: &[u8], vxlan_ports: &[u16]) -> Option<Frame> {
    if eth.len() < 14 || eth[12..14] != [0x08, 0x00] {
        return None;
    }
    let f = ipv4(&eth[14..])?;
    if f.proto == 17 && vxlan_ports.contains(&f.dport) && f.payload.len() >= 8 + 14 {
        let vni = u32::from_be_bytes([0, f.payload[4], f.payload[5], f.payload[6]]);
        let outer = Outer { src: f.src, dst: f.dst, vni, port: f.dport };
        let inner = parse(&f.payload[8..], &[])?;
        return Some(Frame { outer: Some(outer), ..inner });
    }
    Some(f)
}

fn ipv4(ip: &[u8]) -> Option<Frame> {
    if ip.len() < 20 || ip[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]])).min(ip.len());
    let l4 = ip.get(ihl..total)?;
    let addr = |i: usize| Ipv4Addr::new(ip[i], ip[i + 1], ip[i + 2], ip[i + 3]);
    let port = |i: usize| l4.get(i..i + 2).map_or(0, |p| u16::from_be_bytes([p[0], p[1]]));
    let (sport, dport, flags, payload) = match ip[9] {
        6 if l4.len() >= 20 => {
            let off = usize::from(l4[12] >> 4) * 4;
            (port(0), port(2), l4[13], l4.get(off..).unwrap_or_default().to_vec())
        }
        17 if l4.len() >= 8 => (port(0), port(2), 0, l4[8..].to_vec()),
        // ICMP: the type as flags, the echo identifier as the source port.
        1 if l4.len() >= 8 => (port(4), 0, l4[0], l4[8..].to_vec()),
        _ => (0, 0, 0, Vec::new()),
    };
    Some(Frame {
        ts: 0,
        place: String::new(),
        dev: String::new(),
        outer: None,
        src: addr(12),
        dst: addr(16),
        ttl: ip[8],
        proto: ip[9],
        sport,
        dport,
        flags,
        payload,
    })
}

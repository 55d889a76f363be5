//! What the process holds right now, read from `/proc/self`: open file
//! descriptors, how many of them are sockets, the resident set size and the
//! CPU time spent so far.
//! Linux only; elsewhere every gauge reads 0.

/// Open file descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

/// Open descriptors that are sockets (TCP connections, both ends when the
/// peer is in this process too, and listeners).
pub fn open_sockets() -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

/// Resident set size in KiB (`VmRSS` of `/proc/self/status`).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time this process (every thread) has spent, user and system
/// (`utime` + `stime` of `/proc/self/stat`, in clock ticks of 10 ms: the
/// kernel's `USER_HZ` is 100 on the platforms this runs on).
pub fn process_cpu() -> std::time::Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // The command name may hold spaces; the fields after it are plain.
            let after_name = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = after_name.split_whitespace().collect();
            // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
            let user: u64 = fields.get(11)?.parse().ok()?;
            let system: u64 = fields.get(12)?.parse().ok()?;
            Some(user + system)
        })
        .unwrap_or(0);
    std::time::Duration::from_millis(ticks * 10)
}

/// The three gauges at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Open descriptors.
    pub fds: usize,
    /// Of which sockets.
    pub sockets: usize,
    /// Resident memory, KiB.
    pub rss_kib: u64,
}

impl Snapshot {
    /// Reads the gauges now.
    pub fn now() -> Self {
        Self {
            fds: open_fds(),
            sockets: open_sockets(),
            rss_kib: rss_kib(),
        }
    }
}

impl std::fmt::Display for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} fds ({} sockets), RSS {:.1} MiB",
            self.fds,
            self.sockets,
            self.rss_kib as f64 / 1024.0
        )
    }
}

/// The machine's load averages (`/proc/loadavg`), for the reports.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// Established TCP connections of this process that touch one of `ports`:
/// for each port, (client ends connected to it, server ends accepted on it).
pub fn connections_at(ports: &[u16]) -> Vec<(u16, usize, usize)> {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .filter_map(|t| {
                    t.to_string_lossy()
                        .strip_prefix("socket:[")
                        .map(|s| s.trim_end_matches(']').to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    let mut counts: Vec<(u16, usize, usize)> = ports.iter().map(|p| (*p, 0, 0)).collect();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 10 || cols[3] != "01" || !inodes.contains(cols[9]) {
                continue;
            }
            let port = |addr: &str| {
                addr.rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
            };
            let (local, remote) = (port(cols[1]), port(cols[2]));
            for entry in &mut counts {
                if remote == Some(entry.0) {
                    entry.1 += 1;
                }
                if local == Some(entry.0) {
                    entry.2 += 1;
                }
            }
        }
    }
    counts
}

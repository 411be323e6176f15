//! How close the process is to its memory limit. A listing of full pages that never ends (or a
//! directory larger than the pod was given memory for) would otherwise grow the process until the
//! kernel kills it, which stops every tenant's sync; a listing stops instead, with a message
//! saying how much memory the operator has and uses, once the process holds more than
//! [`LISTING_MEMORY_SHARE`] of its cgroup's limit.

use std::sync::OnceLock;

/// The share of the memory limit past which no listing reads another page.
pub const LISTING_MEMORY_SHARE: f64 = 0.85;

/// What the process holds and may hold, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryUse {
    /// Resident memory (`VmRSS`).
    pub resident: u64,
    /// The cgroup's memory limit.
    pub limit: u64,
}

impl MemoryUse {
    /// Whether the process holds more than [`LISTING_MEMORY_SHARE`] of its limit.
    pub fn over_listing_budget(&self) -> bool {
        self.resident as f64 > self.limit as f64 * LISTING_MEMORY_SHARE
    }
}

/// The process's memory use now, when it runs under a cgroup memory limit (Linux); `None`
/// without a limit or where it cannot be read.
pub fn current() -> Option<MemoryUse> {
    static LIMIT: OnceLock<Option<u64>> = OnceLock::new();
    let limit = (*LIMIT.get_or_init(cgroup_limit))?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    Some(MemoryUse {
        resident: resident_of(&status)?,
        limit,
    })
}

/// `VmRSS` of a `/proc/PID/status` text, in bytes.
pub fn resident_of(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

/// A limit as a cgroup file holds it: bytes, or `max` (v2) or a near-`i64::MAX` value (v1) for none.
pub fn limit_of(text: &str) -> Option<u64> {
    let bytes: u64 = text.trim().parse().ok()?;
    (bytes < 1 << 60).then_some(bytes)
}

/// The memory limit of the process's cgroup: v2 `memory.max`, else v1 `memory.limit_in_bytes`,
/// at the process's own cgroup path (from `/proc/self/cgroup`) or at the mount's root (a container
/// with its own cgroup namespace).
fn cgroup_limit() -> Option<u64> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mut files = Vec::new();
    for line in own.lines() {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next(), fields.next(), fields.next().unwrap_or(""));
        match controllers {
            Some("") => files.push(format!("/sys/fs/cgroup{path}/memory.max")),
            Some(list) if list.split(',').any(|c| c == "memory") => {
                files.push(format!("/sys/fs/cgroup/memory{path}/memory.limit_in_bytes"));
            }
            _ => {}
        }
    }
    files.push("/sys/fs/cgroup/memory.max".into());
    files.push("/sys/fs/cgroup/memory/memory.limit_in_bytes".into());
    files.iter().find_map(|file| {
        std::fs::read_to_string(file)
            .ok()
            .and_then(|text| limit_of(&text))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_memory_is_read_from_the_status_file() {
        let status = "Name:\tdialpad-teams\nVmPeak:\t  300000 kB\nVmRSS:\t  123456 kB\nThreads:\t9\n";
        assert_eq!(resident_of(status), Some(123_456 * 1024));
        assert_eq!(resident_of("Name:\tx\n"), None);
    }

    #[test]
    fn a_cgroup_limit_is_bytes_and_max_or_the_v1_ceiling_is_none() {
        assert_eq!(limit_of("268435456\n"), Some(256 << 20));
        assert_eq!(limit_of("max\n"), None);
        assert_eq!(limit_of("9223372036854771712\n"), None);
    }

    #[test]
    fn listings_stop_past_the_budget_share_of_the_limit() {
        let limit = 256 << 20;
        let at = |resident: u64| MemoryUse { resident, limit };
        assert!(!at(200 << 20).over_listing_budget());
        assert!(at(220 << 20).over_listing_budget(), "past 85% of 256 MiB");
    }
}

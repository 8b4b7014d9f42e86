//! What the host and the tasks' processes use, as Mesos reads it: the `system/*` metrics
//! (libprocess's `System` process: load averages, CPUs, memory) and the CPU times and
//! resident memory of a task's processes (the posix isolators' `ResourceStatistics`).
//! Linux reads `/proc` and `sysinfo(2)`; elsewhere the portable calls, or zero.

use std::collections::HashMap;

/// The host, for the `system/*` metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct System {
    pub load_1min: f64,
    pub load_5min: f64,
    pub load_15min: f64,
    pub cpus_total: f64,
    pub mem_total_bytes: f64,
    pub mem_free_bytes: f64,
}

pub fn system() -> System {
    let mut loads = [0f64; 3];
    // SAFETY: getloadavg writes at most 3 doubles into the array it is given.
    let n = unsafe { libc::getloadavg(loads.as_mut_ptr(), 3) };
    if n < 3 {
        loads = [0.0; 3];
    }
    // SAFETY: sysconf only reads its argument.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    let (total, free) = memory();
    System {
        load_1min: loads[0],
        load_5min: loads[1],
        load_15min: loads[2],
        cpus_total: cpus.max(0) as f64,
        mem_total_bytes: total,
        mem_free_bytes: free,
    }
}

/// Total and free memory, as stout's `os::memory` gives them (`sysinfo(2)` on Linux).
#[cfg(target_os = "linux")]
fn memory() -> (f64, f64) {
    // SAFETY: sysinfo fills the struct it is given; all-zero is a valid starting value.
    let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
    if unsafe { libc::sysinfo(&mut info) } != 0 {
        return (0.0, 0.0);
    }
    let unit = f64::from(info.mem_unit.max(1));
    (info.totalram as f64 * unit, info.freeram as f64 * unit)
}

/// Elsewhere: the physical pages `sysconf` knows of; free memory is not portable (zero).
#[cfg(not(target_os = "linux"))]
fn memory() -> (f64, f64) {
    // SAFETY: sysconf only reads its argument.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    ((pages.max(0) as f64) * (size.max(0) as f64), 0.0)
}

/// CPU times and resident memory of a process group: what a task's processes use.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub cpus_user_time_secs: f64,
    pub cpus_system_time_secs: f64,
    pub mem_rss_bytes: u64,
}

/// What each process group uses, by group id, read in one pass over the processes.
#[cfg(target_os = "linux")]
pub fn usage_by_group() -> HashMap<u32, Usage> {
    // SAFETY: sysconf only reads its argument.
    let (ticks, page) = unsafe {
        (
            libc::sysconf(libc::_SC_CLK_TCK),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let ticks = if ticks > 0 { ticks as f64 } else { 100.0 };
    let page = page.max(0) as u64;
    let mut out: HashMap<u32, Usage> = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        // A process may end between the listing and the read; it is skipped.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some((group, usage)) = parse_stat(&stat, ticks, page) {
            let total = out.entry(group).or_default();
            total.cpus_user_time_secs += usage.cpus_user_time_secs;
            total.cpus_system_time_secs += usage.cpus_system_time_secs;
            total.mem_rss_bytes += usage.mem_rss_bytes;
        }
    }
    out
}

/// Elsewhere other processes' usage is not read: every group uses zero.
#[cfg(not(target_os = "linux"))]
pub fn usage_by_group() -> HashMap<u32, Usage> {
    HashMap::new()
}

/// `/proc/<pid>/stat`: the process group (field 5), utime and stime (14, 15, in clock
/// ticks) and rss (24, in pages). The command name (field 2) is in parentheses and may
/// hold spaces, so fields are counted after its closing parenthesis.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_stat(stat: &str, ticks: f64, page: u64) -> Option<(u32, Usage)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so field n is at index n - 3.
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    let group = u32::try_from(field(5)?).ok()?;
    Some((
        group,
        Usage {
            cpus_user_time_secs: field(14)? as f64 / ticks,
            cpus_system_time_secs: field(15)? as f64 / ticks,
            mem_rss_bytes: field(24)?.saturating_mul(page),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_with_spaces_in_the_name() {
        let line = "4242 (sleep (x) y) S 1 4242 4242 0 -1 4194304 95 0 0 0 150 50 0 0 20 0 1 0 \
                    1234 5000000 300 18446744073709551615";
        let (group, usage) = parse_stat(line, 100.0, 4096).unwrap_or_default();
        assert_eq!(group, 4242);
        assert_eq!(usage.cpus_user_time_secs, 1.5);
        assert_eq!(usage.cpus_system_time_secs, 0.5);
        assert_eq!(usage.mem_rss_bytes, 300 * 4096);
        assert_eq!(parse_stat("garbage", 100.0, 4096), None);
    }

    #[test]
    fn the_host_has_cpus_and_memory() {
        let s = system();
        assert!(s.cpus_total >= 1.0);
        assert!(s.mem_total_bytes > 0.0);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_group_uses_memory() {
        // SAFETY: getpgrp has no arguments and cannot fail.
        let group = unsafe { libc::getpgrp() } as u32;
        let usage = usage_by_group();
        assert!(usage.get(&group).is_some_and(|u| u.mem_rss_bytes > 0));
    }
}

//! What the figures were measured on, and what a process used (Linux `/proc`).

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cores: usize,
    /// 1-minute load average when the run started.
    pub load_1m: f64,
    pub memory_gib: f64,
}

impl Machine {
    pub fn now() -> Machine {
        let load_1m = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
            .unwrap_or(f64::NAN);
        let memory_gib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
            .map_or(f64::NAN, |kb| kb / 1024.0 / 1024.0);
        Machine {
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            load_1m,
            memory_gib,
        }
    }
}

/// CPU time (user + system) and peak resident memory of a process.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ProcessUsage {
    pub cpu_seconds: f64,
    pub peak_rss_mib: f64,
}

/// Reads `/proc/<pid>`; `None` where that is not available.
pub fn process_usage(pid: u32) -> Option<ProcessUsage> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on (x86_64 and aarch64).
    let cpu_seconds = ticks / 100.0;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let peak_kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(ProcessUsage {
        cpu_seconds,
        peak_rss_mib: peak_kib / 1024.0,
    })
}

//! The server process's CPU time and resident memory, from `/proc/<pid>`.

use anyhow::Context;

/// Kernel clock ticks per second for `/proc/<pid>/stat` times; 100 on every mainstream Linux.
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// User + system CPU seconds used so far.
    pub cpu_seconds: f64,
    /// Resident set size, bytes.
    pub rss_bytes: u64,
}

pub fn sample(pid: u32) -> anyhow::Result<Sample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("no process {pid}"))?;
    // The command name (field 2) may contain spaces; fields after its closing parenthesis are
    // plain. utime and stime are fields 14 and 15, i.e. 12th and 13th after the ')'.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let cpu_seconds = (ticks(11) + ticks(12)) / TICKS_PER_SECOND;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss_kb = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .unwrap_or(0);
    Ok(Sample {
        cpu_seconds,
        rss_bytes: rss_kb * 1024,
    })
}

/// The sum over several server processes (the nodes of one deployment).
pub fn sample_all(pids: &[u32]) -> anyhow::Result<Sample> {
    let mut total = Sample {
        cpu_seconds: 0.0,
        rss_bytes: 0,
    };
    for pid in pids {
        let one = sample(*pid)?;
        total.cpu_seconds += one.cpu_seconds;
        total.rss_bytes += one.rss_bytes;
    }
    Ok(total)
}

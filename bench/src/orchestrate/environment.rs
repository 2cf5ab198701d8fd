//! Facts about where a run happens, for the manifest: host, CPUs, coldfront version, git revision.

use std::time::SystemTime;

use crate::resultset::HostInfo;

pub(crate) fn host_info() -> HostInfo {
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    HostInfo {
        hostname,
        os: std::env::consts::OS.to_string(),
        arch: std::env::consts::ARCH.to_string(),
        cpus: online_cpus(),
        generator_cpus: generator_cpus(),
    }
}

/// CPUs this process may run on (its affinity mask, as `taskset` sets it).
pub(crate) fn generator_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn online_cpus() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if n > 0 {
        n as usize
    } else {
        generator_cpus()
    }
}

/// The git revision of the working directory's repository, if there is one.
pub(crate) fn git_revision() -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

pub(crate) fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

//! Facts about where a run happens, for the manifest: host, CPUs, coldfront version, git
//! revision; and the process's file-descriptor limit, raised for the run.

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

/// The git revision coldfront was built from (`build.rs`), wherever it runs; `None` when it
/// was built outside a git checkout.
pub(crate) fn git_revision() -> Option<String> {
    option_env!("COLDFRONT_GIT_REVISION").map(str::to_owned)
}

pub(crate) fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// File descriptors coldfront keeps for itself beyond the load's connections: result files,
/// logs, the database sampler, child processes' pipes, the runtime.
pub(crate) const RESERVED_FILES: u64 = 128;

/// Raises the soft limit on open files to the hard limit (what `ulimit -n` may be raised to
/// without privileges) and returns the limit now in force.
pub(crate) fn raise_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write one rlimit through valid pointers.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
    }
    limit.rlim_cur
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revision_is_the_checkouts_at_build_time() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let output = std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success());
        let Some(output) = output else {
            assert_eq!(git_revision(), None, "no git, no revision");
            return;
        };
        let head = String::from_utf8(output.stdout).unwrap();
        assert_eq!(git_revision().as_deref(), Some(head.trim()));
    }
}

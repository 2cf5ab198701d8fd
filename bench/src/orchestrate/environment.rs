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

/// The git revision coldfront was built from (`build.rs`), wherever it runs; `None` when it
/// was built outside a git checkout.
pub(crate) fn git_revision() -> Option<String> {
    option_env!("COLDFRONT_GIT_REVISION").map(str::to_owned)
}

pub(crate) fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
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

//! Facts about where a run happens, for the manifest: host, CPUs, coldfront version, git
//! revision; and the process's file-descriptor limit, raised for the run.

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

/// The CPUs this process may run on, by number (its affinity mask).
pub(crate) fn affinity_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity fills it and CPU_ISSET
    // only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return (0..generator_cpus()).collect();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
            .collect()
    }
}

/// `--generator-cpus LIST`: CPU numbers and ranges as `taskset -c` takes them (`0`, `0,2`,
/// `1-3`), each one this process may run on, none twice.
pub(crate) fn parse_cpu_list(list: &str, allowed: &[usize]) -> Result<Vec<usize>, String> {
    let mut cpus = Vec::new();
    for item in list.split(',').map(str::trim) {
        let number = |text: &str| {
            text.parse::<usize>()
                .map_err(|_| format!("`{item}` is not a CPU number or a range like 2-3"))
        };
        let (first, last) = match item.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(item)?, number(item)?),
        };
        if first > last {
            return Err(format!("`{item}`: a range runs from low to high"));
        }
        for cpu in first..=last {
            if !allowed.contains(&cpu) {
                return Err(format!(
                    "CPU {cpu} is not one this process may run on ({})",
                    cpu_list_text(allowed)
                ));
            }
            if cpus.contains(&cpu) {
                return Err(format!("CPU {cpu} is listed twice"));
            }
            cpus.push(cpu);
        }
    }
    Ok(cpus)
}

/// `0-3,6` for people.
fn cpu_list_text(cpus: &[usize]) -> String {
    cpus.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
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

pub(crate) use crate::resultset::rfc3339;

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

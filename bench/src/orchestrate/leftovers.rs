//! Where throwaway clusters live, and cleaning up after a coldfront that could not: every
//! cluster directory sits in one coldfront-owned directory per user (`$TMPDIR/coldfront-<uid>`)
//! with an `owner` file naming the process that made it (its PID and start time, so a reused
//! PID is not mistaken for it). A run killed with SIGKILL cannot remove its cluster; the next
//! cluster started (by `run` or `serve`) removes every directory whose owner is gone and whose
//! server is no longer running.

use std::path::{Path, PathBuf};

/// The file in a cluster directory that names its owner: `<pid> <start time in clock ticks>`.
const OWNER_FILE: &str = "owner";
/// Cluster directories' name prefix.
pub(crate) const CLUSTER_PREFIX: &str = "coldfront-pg-";

/// `$TMPDIR/coldfront-<uid>`, created if missing.
pub(crate) fn clusters_root() -> std::io::Result<PathBuf> {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let root = std::env::temp_dir().join(format!("coldfront-{uid}"));
    std::fs::create_dir_all(&root)?;
    Ok(root)
}

/// Marks `dir` as this process's.
pub(crate) fn claim(dir: &Path) -> std::io::Result<()> {
    let me = std::process::id();
    let started = start_time(me).unwrap_or(0);
    std::fs::write(dir.join(OWNER_FILE), format!("{me} {started}\n"))
}

/// Removes the cluster directories in `root` whose owner has exited and whose server has
/// stopped; returns how many. A directory without a readable owner file is left alone (it may
/// be a cluster still being made).
pub(crate) fn sweep(root: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(root) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let dir = entry.path();
        let is_cluster = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(CLUSTER_PREFIX));
        if is_cluster && abandoned(&dir) && std::fs::remove_dir_all(&dir).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Whether `dir`'s owner is gone and its server is not running.
fn abandoned(dir: &Path) -> bool {
    let Ok(owner) = std::fs::read_to_string(dir.join(OWNER_FILE)) else {
        return false;
    };
    let mut fields = owner.split_whitespace().map(str::parse::<u64>);
    let (Some(Ok(pid)), Some(Ok(started))) = (fields.next(), fields.next()) else {
        return false;
    };
    let owner_alive = start_time(pid as u32).is_some_and(|now| now == started);
    let server_alive = std::fs::read_to_string(dir.join("data/postmaster.pid"))
        .ok()
        .and_then(|text| text.lines().next()?.trim().parse::<u32>().ok())
        .is_some_and(|pid| start_time(pid).is_some());
    !owner_alive && !server_alive
}

/// A process's start time (clock ticks after boot, field 22 of `/proc/PID/stat`); `None` when
/// there is no such process.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its end.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_abandoned_only_when_its_owner_is_gone() {
        let root = tempfile::tempdir().unwrap();
        let mine = root.path().join(format!("{CLUSTER_PREFIX}mine"));
        let gone = root.path().join(format!("{CLUSTER_PREFIX}gone"));
        let reused = root.path().join(format!("{CLUSTER_PREFIX}reused"));
        let unowned = root.path().join(format!("{CLUSTER_PREFIX}unowned"));
        let other = root.path().join("something-else");
        for dir in [&mine, &gone, &reused, &unowned, &other] {
            std::fs::create_dir(dir).unwrap();
        }
        claim(&mine).unwrap();
        // A child that has exited and been waited for: its PID names no process now.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        std::fs::write(gone.join(OWNER_FILE), format!("{dead} 1\n")).unwrap();
        // This process's PID with another start time: the PID was reused.
        std::fs::write(
            reused.join(OWNER_FILE),
            format!("{} 1\n", std::process::id()),
        )
        .unwrap();
        std::fs::write(other.join(OWNER_FILE), format!("{dead} 1\n")).unwrap();
        assert_eq!(sweep(root.path()), 2);
        assert!(mine.exists() && unowned.exists() && other.exists());
        assert!(!gone.exists() && !reused.exists());
    }

    #[test]
    fn start_times_come_from_proc() {
        let me = start_time(std::process::id()).unwrap();
        assert!(me > 0);
        assert_eq!(start_time(u32::MAX), None);
    }
}

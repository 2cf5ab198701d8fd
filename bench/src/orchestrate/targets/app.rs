//! Command targets before they start: the program exists, `prepare` has run (once for a given
//! state of the application's directory), and `[database] init_sql` is applied to the target's
//! database.
//!
//! `prepare` runs in the application's directory with coldfront's own environment (not the
//! target's `env`: `NODE_ENV=production` would make `npm ci` skip the build tools). Its output
//! goes to `.coldfront-prepare.log` there, and the target's log starts with it. It is skipped
//! when `.coldfront-prepare.stamp` there holds the stamp of the current state: the command
//! line, and the name, size and modification time of every file of the directory outside
//! `node_modules` and dot-directories, taken after the last successful `prepare` (so its own
//! outputs count as the state it left).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Instant, UNIX_EPOCH};

use coldfront_targets::command::{find_on_path, is_executable, log_tail};

use crate::scenario::AppPlan;

/// The stamp file in the application's directory.
pub(crate) const STAMP_FILE: &str = ".coldfront-prepare.stamp";
/// `prepare`'s output, in the application's directory.
pub(crate) const PREPARE_LOG: &str = ".coldfront-prepare.log";
/// Files beyond this many make the stamp "always run".
const MAX_STAMPED_FILES: usize = 50_000;

/// The application's directory (the scenario's directory when `cwd` is not given).
pub(crate) fn cwd(app: &AppPlan) -> &Path {
    app.settings.cwd.as_deref().unwrap_or(Path::new("."))
}

/// Checks that the program of `argv` can be started from `cwd` (a path to an executable file,
/// or a name found on `PATH`): the reason when it cannot.
pub(crate) fn program_problem(argv: &[String], cwd: &Path) -> Option<String> {
    let program = argv.first()?;
    let found = if program.contains('/') {
        Some(cwd.join(program)).filter(|path| is_executable(path))
    } else {
        find_on_path(program, &std::env::var_os("PATH").unwrap_or_default())
    };
    match found {
        Some(_) => None,
        None if program.contains('/') => Some(format!(
            "`{program}` is not an executable file (from {})",
            cwd.display()
        )),
        None => Some(format!("`{program}` is not found on PATH")),
    }
}

/// What `prepare` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Prepared {
    /// Nothing to run.
    Nothing,
    /// The stamp was unchanged.
    UpToDate,
    /// It ran, successfully, for this long.
    Ran(std::time::Duration),
}

/// Runs the application's `prepare` unless its stamp is unchanged; the error names the
/// command and the cause, with the tail of its output.
pub(crate) async fn prepare(app: &AppPlan) -> Result<Prepared, String> {
    let Some(program) = app.prepare.first() else {
        return Ok(Prepared::Nothing);
    };
    let dir = cwd(app).to_path_buf();
    let command_line = app.prepare.join(" ");
    if let Some(problem) = program_problem(&app.prepare, &dir) {
        return Err(format!("prepare `{command_line}`: {problem}"));
    }
    let stamp_path = dir.join(STAMP_FILE);
    let current = {
        let (dir, argv) = (dir.clone(), app.prepare.clone());
        tokio::task::spawn_blocking(move || stamp(&dir, &argv))
            .await
            .ok()
            .flatten()
    };
    if current.is_some() && std::fs::read_to_string(&stamp_path).ok() == current {
        return Ok(Prepared::UpToDate);
    }
    let _ = std::fs::remove_file(&stamp_path);
    let log_path = dir.join(PREPARE_LOG);
    let log = std::fs::File::create(&log_path)
        .map_err(|e| format!("prepare `{command_line}`: {}: {e}", log_path.display()))?;
    let started = Instant::now();
    let status = tokio::process::Command::new(program)
        .args(&app.prepare[1..])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .kill_on_drop(true)
        .status()
        .await
        .map_err(|e| format!("prepare `{command_line}` in {}: {e}", dir.display()))?;
    if !status.success() {
        return Err(format!(
            "prepare `{command_line}` in {} failed ({status}); the end of its output \
             ({}):\n{}",
            dir.display(),
            log_path.display(),
            log_tail(&log_path, 20)
        ));
    }
    let took = started.elapsed();
    let (argv, stamp_dir) = (app.prepare.clone(), dir.clone());
    if let Ok(Some(stamp)) = tokio::task::spawn_blocking(move || stamp(&stamp_dir, &argv)).await {
        let _ = std::fs::write(&stamp_path, stamp);
    }
    Ok(Prepared::Ran(took))
}

/// The stamp of `dir`'s state for `argv` (see the module doc), or `None` when the directory
/// cannot be read or has too many files.
fn stamp(dir: &Path, argv: &[String]) -> Option<String> {
    let mut entries = Vec::new();
    collect(dir, Path::new(""), &mut entries)?;
    entries.sort();
    let mut hash = Fnv::default();
    for part in argv {
        hash.write(part.as_bytes());
        hash.write(&[0]);
    }
    for (path, size, modified) in &entries {
        hash.write(path.as_os_str().as_encoded_bytes());
        hash.write(&size.to_le_bytes());
        hash.write(&modified.to_le_bytes());
    }
    Some(format!("{:016x} {} files\n", hash.0, entries.len()))
}

/// Every file under `dir/relative` outside `node_modules` and dot-entries: its relative path,
/// size and modification time (ns).
fn collect(dir: &Path, relative: &Path, out: &mut Vec<(PathBuf, u64, u128)>) -> Option<()> {
    for entry in std::fs::read_dir(dir.join(relative)).ok()? {
        let entry = entry.ok()?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') || name == "node_modules" {
            continue;
        }
        let path = relative.join(&name);
        let meta = entry.metadata().ok()?;
        if meta.is_dir() {
            collect(dir, &path, out)?;
        } else {
            let modified = meta
                .modified()
                .ok()
                .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |since| since.as_nanos());
            out.push((path, meta.len(), modified));
        }
        if out.len() > MAX_STAMPED_FILES {
            return None;
        }
    }
    Some(())
}

/// FNV-1a, 64 bits: a stable hash (the standard library's may change between releases).
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Runs the SQL file `file` on `url` (the application role's database), once, before the
/// target starts.
pub(crate) async fn init_sql(url: &str, file: &Path) -> Result<(), String> {
    let sql = std::fs::read_to_string(file)
        .map_err(|e| format!("[database] init_sql {}: {e}", file.display()))?;
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("[database] init_sql: connecting to {url}: {e}"))?;
    let connection = tokio::spawn(connection);
    let result = client.batch_execute(&sql).await.map_err(|e| {
        let detail = e
            .as_db_error()
            .map_or_else(|| e.to_string(), |db| db.message().to_owned());
        format!("[database] init_sql {}: {detail}", file.display())
    });
    drop(client);
    let _ = connection.await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_follows_the_command_and_the_files_but_not_node_modules() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package-lock.json"), "{}").unwrap();
        std::fs::create_dir(dir.path().join("node_modules")).unwrap();
        let argv = vec!["npm".to_owned(), "ci".to_owned()];
        let first = stamp(dir.path(), &argv).unwrap();
        assert!(first.ends_with(" 1 files\n"), "{first}");
        std::fs::write(dir.path().join("node_modules/x.js"), "1").unwrap();
        std::fs::write(dir.path().join(STAMP_FILE), "x").unwrap();
        assert_eq!(stamp(dir.path(), &argv).unwrap(), first);
        let other = vec!["npm".to_owned(), "install".to_owned()];
        assert_ne!(stamp(dir.path(), &other).unwrap(), first);
        std::fs::create_dir(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/route.js"), "export {}").unwrap();
        assert_ne!(stamp(dir.path(), &argv).unwrap(), first);
    }

    #[test]
    fn programs_are_found_on_path_or_by_path() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(program_problem(&["sh".into()], dir.path()), None);
        let missing = program_problem(&["no-such-program-x".into()], dir.path()).unwrap();
        assert_eq!(missing, "`no-such-program-x` is not found on PATH");
        std::fs::write(dir.path().join("run.sh"), "#!/bin/sh\n").unwrap();
        let not_executable = program_problem(&["./run.sh".into()], dir.path()).unwrap();
        assert!(
            not_executable.contains("is not an executable file"),
            "{not_executable}"
        );
    }
}

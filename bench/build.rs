//! Records the git revision coldfront is built from, so a result set names it even when the
//! binary runs outside its checkout (`COLDFRONT_GIT_REVISION`, absent without git or a
//! repository).

use std::path::Path;
use std::process::Command;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let git_dir = root.join(".git");
    if git_dir.is_dir() {
        for watched in ["HEAD", "refs", "packed-refs"] {
            let path = git_dir.join(watched);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    let revision = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(&root)
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_string())
        .filter(|revision| !revision.is_empty());
    if let Some(revision) = revision {
        println!("cargo:rustc-env=COLDFRONT_GIT_REVISION={revision}");
    }
}

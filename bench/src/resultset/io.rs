//! The one place result-set files are written: whole files atomically (write a temporary file
//! in the same directory, fsync, rename), and streamed files under a temporary name that is
//! renamed into place when they are complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` so that readers see the old file or the new one, never a part.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".coldfront-")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A file written as the run goes, visible under its final name only once finished.
pub(crate) struct StreamedFile {
    writer: BufWriter<File>,
    partial: PathBuf,
    path: PathBuf,
}

impl StreamedFile {
    pub(crate) fn create(path: &Path) -> std::io::Result<Self> {
        let partial = partial_path(path);
        let file = File::create(&partial)?;
        Ok(StreamedFile {
            writer: BufWriter::new(file),
            partial,
            path: path.to_path_buf(),
        })
    }

    pub(crate) fn writer(&mut self) -> &mut BufWriter<File> {
        &mut self.writer
    }

    /// Flushes what was written so far to the kernel (so a killed run keeps it).
    pub(crate) fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }

    /// Flushes, syncs and renames the file to its final name.
    pub(crate) fn finish(mut self) -> std::io::Result<()> {
        self.writer.flush()?;
        self.writer.get_ref().sync_all()?;
        std::fs::rename(&self.partial, &self.path)
    }
}

/// `dir/name.partial` for `dir/name`.
pub(crate) fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

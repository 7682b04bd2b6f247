//! Local tar files of a container's directory: completeness and re-rooting.
//!
//! The engine's archive API hands out a directory as a tar whose entries start with the
//! directory's base name (`store/…` for `/home/admin/store`). Uploading that tar back
//! needs the destination's parent to exist in the container, which a freshly created
//! container of an image without it lacks ("Could not find the file /home"). So restore
//! re-roots the tar at `/` (`home/admin/store/…`) and uploads it to `/`: the engine
//! creates the missing parents.
//!
//! A backup is complete when its final file exists: it is written as `NAME.partial`,
//! read back entry by entry, flushed to disk, and only then renamed.

use super::{ArchiveInfo, DriverError, DriverResult};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The temporary name a backup is written under.
pub fn partial_path(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(".partial");
    PathBuf::from(s)
}

/// Reads a tar to its end; returns its size and entry count.
pub fn check(path: &Path) -> DriverResult<ArchiveInfo> {
    let file = File::open(path)
        .map_err(|e| DriverError::not_found(format!("cannot open `{}`: {e}", path.display())))?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut ar = tar::Archive::new(BufReader::new(file));
    let mut entries = 0u64;
    let iter = ar
        .entries()
        .map_err(|e| DriverError::other(format!("`{}` is not a tar: {e}", path.display())))?;
    for entry in iter {
        let mut entry = entry.map_err(|e| {
            DriverError::other(format!("`{}` is truncated or corrupt: {e}", path.display()))
        })?;
        // Reading the data proves the file holds all of it.
        std::io::copy(&mut entry, &mut std::io::sink())
            .map_err(|e| DriverError::other(format!("`{}` is truncated: {e}", path.display())))?;
        entries += 1;
    }
    if entries == 0 {
        return Err(DriverError::other(format!(
            "`{}` holds no entries",
            path.display()
        )));
    }
    Ok(ArchiveInfo {
        path: path.to_owned(),
        bytes,
        entries,
    })
}

/// Makes a written `dest.partial` the complete backup `dest`: check, flush, rename.
pub fn finish(dest: &Path) -> DriverResult<ArchiveInfo> {
    let partial = partial_path(dest);
    let mut info = check(&partial)?;
    File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| DriverError::local(format!("cannot flush `{}`: {e}", partial.display())))?;
    std::fs::rename(&partial, dest)
        .map_err(|e| DriverError::local(format!("cannot rename to `{}`: {e}", dest.display())))?;
    if let Some(dir) = dest.parent() {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    dest.clone_into(&mut info.path);
    Ok(info)
}

/// A complete backup at `dest`, if there is one (used when reconciling a backup that
/// was in flight when the runner died).
pub fn complete(dest: &Path) -> Option<ArchiveInfo> {
    if dest.is_file() {
        check(dest).ok()
    } else {
        None
    }
}

/// The parent of a container directory, relative: `/home/admin/store` → `home/admin`.
fn parent_rel(container_dir: &str) -> PathBuf {
    let trimmed = container_dir.trim_end_matches('/');
    let parent = Path::new(trimmed).parent().unwrap_or(Path::new("/"));
    parent.strip_prefix("/").unwrap_or(parent).to_owned()
}

/// Writes `out`: the tar `src` (entries `store/…`) with every entry moved under the
/// parent of `container_dir`, so that it can be uploaded to `/`.
pub fn reroot(src: &Path, container_dir: &str, out: &Path) -> DriverResult<()> {
    let prefix = parent_rel(container_dir);
    let io = |e: std::io::Error| DriverError::other(format!("re-rooting `{}`: {e}", src.display()));
    let file = File::open(src).map_err(io)?;
    let mut ar = tar::Archive::new(BufReader::new(file));
    let mut builder = tar::Builder::new(BufWriter::new(File::create(out).map_err(io)?));
    builder.follow_symlinks(false);
    for entry in ar.entries().map_err(io)? {
        let mut entry = entry.map_err(io)?;
        let path = prefix.join(entry.path().map_err(io)?);
        let mut header = entry.header().clone();
        let kind = header.entry_type();
        if kind.is_hard_link() {
            // Hard links name another entry of the archive: move the target too.
            let target = entry
                .link_name()
                .map_err(io)?
                .map(|t| prefix.join(t))
                .unwrap_or_default();
            builder
                .append_link(&mut header, &path, &target)
                .map_err(io)?;
        } else if kind.is_symlink() {
            let target = entry
                .link_name()
                .map_err(io)?
                .unwrap_or_default()
                .into_owned();
            builder
                .append_link(&mut header, &path, &target)
                .map_err(io)?;
        } else if kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
            || kind.is_gnu_longlink()
        {
            // The tar crate folds these into the next entry's path.
        } else {
            builder
                .append_data(&mut header, &path, &mut entry)
                .map_err(io)?;
        }
    }
    let mut w = builder.into_inner().map_err(io)?;
    w.flush().map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mend-archive-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn make_tar(path: &Path) {
        let mut b = tar::Builder::new(File::create(path).unwrap());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        b.append_data(&mut h, "store/", std::io::empty()).unwrap();
        let data = b"commitlog bytes";
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, "store/commitlog/0000", &data[..])
            .unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "store/latest", "commitlog/0000")
            .unwrap();
        b.finish().unwrap();
    }

    #[test]
    fn finish_checks_and_renames() {
        let d = tmp("finish");
        let dest = d.join("b.tar");
        make_tar(&partial_path(&dest));
        assert!(complete(&dest).is_none());
        let info = finish(&dest).unwrap();
        assert_eq!(info.entries, 3);
        assert!(complete(&dest).is_some());
        assert!(!partial_path(&dest).exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn truncated_tar_is_not_complete() {
        let d = tmp("trunc");
        let dest = d.join("b.tar");
        make_tar(&dest);
        let bytes = std::fs::read(&dest).unwrap();
        std::fs::write(&dest, &bytes[..700]).unwrap();
        assert!(complete(&dest).is_none());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn reroot_moves_entries_under_the_parent() {
        let d = tmp("reroot");
        let src = d.join("b.tar");
        make_tar(&src);
        let out = d.join("up.tar");
        reroot(&src, "/home/admin/store", &out).unwrap();
        let mut ar = tar::Archive::new(File::open(&out).unwrap());
        let names: Vec<String> = ar
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "home/admin/store/",
                "home/admin/store/commitlog/0000",
                "home/admin/store/latest"
            ]
        );
        assert_eq!(parent_rel("/store"), PathBuf::from(""));
        std::fs::remove_dir_all(&d).unwrap();
    }
}

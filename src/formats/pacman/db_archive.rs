//! The repo database (`{repo}.db`, `{repo}.files`) as a tar.gz made of independent gzip members:
//! one member per package holding its `{name}-{version}/` directory, and one last member holding
//! the tar's end. gzip allows members to be concatenated and libarchive (so pacman) reads them as
//! one stream, so replacing one package's entry means re-compressing only that entry, never
//! re-reading the others. Members are deterministic: the same input gives the same bytes.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use tar::{EntryType, Header};

use crate::error::{Error, Result};

const BLOCK: usize = 512;

/// One gzip member holding tar headers and data (no end-of-archive blocks) for the directory
/// `{dir}/`, `{dir}/desc` and, when given, `{dir}/files`: directories 0755 and files 0644, owned
/// by root (uid/gid 0), GNU format (long names as `././@LongLink` entries), `mtime` on each.
pub fn entry_member(dir: &str, desc: &[u8], files: Option<&[u8]>, mtime: u64) -> Vec<u8> {
    let mut tar = Vec::new();
    append(
        &mut tar,
        &format!("{dir}/"),
        EntryType::Directory,
        b"",
        mtime,
    );
    append(
        &mut tar,
        &format!("{dir}/desc"),
        EntryType::Regular,
        desc,
        mtime,
    );
    if let Some(files) = files {
        append(
            &mut tar,
            &format!("{dir}/files"),
            EntryType::Regular,
            files,
            mtime,
        );
    }
    gzip(&tar)
}

/// The gzip member holding the tar's end (two zero blocks), last in every database.
pub fn end_member() -> Vec<u8> {
    gzip(&[0; 2 * BLOCK])
}

/// The `desc` inside one member made by [`entry_member`].
pub fn desc_of_member(member: &[u8]) -> Result<Vec<u8>> {
    let broken = |err: &dyn std::fmt::Display| {
        Error::internal(format!("broken pacman repo database member: {err}"))
    };
    let mut archive = tar::Archive::new(GzDecoder::new(member));
    for entry in archive.entries().map_err(|e| broken(&e))? {
        let mut entry = entry.map_err(|e| broken(&e))?;
        let is_desc = entry
            .path_bytes()
            .rsplit(|&b| b == b'/')
            .next()
            .is_some_and(|name| name == b"desc");
        if is_desc {
            let mut desc = Vec::new();
            entry.read_to_end(&mut desc).map_err(|e| broken(&e))?;
            return Ok(desc);
        }
    }
    Err(broken(&"no desc"))
}

/// Appends one entry, preceded by a GNU long-name entry when the path does not fit the header.
fn append(tar: &mut Vec<u8>, path: &str, kind: EntryType, data: &[u8], mtime: u64) {
    let name_field = 100;
    if path.len() > name_field {
        let mut long = path.as_bytes().to_vec();
        long.push(0);
        push_entry(tar, b"././@LongLink", EntryType::GNULongName, &long, 0);
    }
    let name = &path.as_bytes()[..path.len().min(name_field)];
    push_entry(tar, name, kind, data, mtime);
}

fn push_entry(tar: &mut Vec<u8>, name: &[u8], kind: EntryType, data: &[u8], mtime: u64) {
    let mut header = Header::new_gnu();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_entry_type(kind);
    header.set_mode(if kind == EntryType::Directory {
        0o755
    } else {
        0o644
    });
    header.set_uid(0);
    header.set_gid(0);
    header
        .set_username("root")
        .and_then(|()| header.set_groupname("root"))
        .expect("short names fit the header");
    header.set_size(data.len() as u64);
    header.set_mtime(mtime);
    header.set_cksum();
    tar.extend_from_slice(header.as_bytes());
    tar.extend_from_slice(data);
    tar.resize(tar.len().next_multiple_of(BLOCK), 0);
}

/// A gzip member with no name and mtime 0 in its header, so equal input gives equal bytes.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::pacman::package_file::tests::run;

    #[test]
    fn concatenated_members_read_as_one_tar() {
        let tmp = tempfile::tempdir().unwrap();
        let long = format!("{}-1.0-1", "x".repeat(120));
        let mut db = entry_member(
            "foo-1.0-1",
            b"%NAME%\nfoo\n\n",
            Some(b"%FILES%\n"),
            1_700_000_000,
        );
        db.extend(entry_member(
            &long,
            b"%NAME%\nlong\n\n",
            None,
            1_700_000_001,
        ));
        db.extend(end_member());
        let db_path = tmp.path().join("test.db.tar.gz");
        std::fs::write(&db_path, &db).unwrap();

        let listing =
            String::from_utf8(run("bsdtar", &["-tvf", "test.db.tar.gz"], tmp.path())).unwrap();
        let lines: Vec<&str> = listing.lines().collect();
        assert_eq!(lines.len(), 5, "{listing}");
        for (line, (mode, name)) in lines.iter().zip([
            ("drwxr-xr-x", "foo-1.0-1/".to_string()),
            ("-rw-r--r--", "foo-1.0-1/desc".into()),
            ("-rw-r--r--", "foo-1.0-1/files".into()),
            ("drwxr-xr-x", format!("{long}/")),
            ("-rw-r--r--", format!("{long}/desc")),
        ]) {
            assert!(line.starts_with(mode), "{line}");
            assert!(
                line.contains(" root ") && line.ends_with(&format!(" {name}")),
                "{line}"
            );
        }

        let out = tmp.path().join("out");
        std::fs::create_dir(&out).unwrap();
        run("bsdtar", &["-xf", "../test.db.tar.gz"], &out);
        let read = |p: &str| std::fs::read(out.join(p)).unwrap();
        assert_eq!(read("foo-1.0-1/desc"), b"%NAME%\nfoo\n\n");
        assert_eq!(read("foo-1.0-1/files"), b"%FILES%\n");
        assert_eq!(read(&format!("{long}/desc")), b"%NAME%\nlong\n\n");
        let mtime = std::fs::metadata(out.join("foo-1.0-1/desc"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(
            mtime,
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000)
        );
    }

    #[test]
    fn members_are_deterministic_and_desc_round_trips() {
        let member = entry_member("a-1-1", b"%NAME%\na\n\n", Some(b"%FILES%\nusr/\n"), 5);
        assert_eq!(
            member,
            entry_member("a-1-1", b"%NAME%\na\n\n", Some(b"%FILES%\nusr/\n"), 5)
        );
        assert_eq!(desc_of_member(&member).unwrap(), b"%NAME%\na\n\n");
        let long = "y".repeat(300);
        let member = entry_member(&long, b"long desc", None, 5);
        assert_eq!(desc_of_member(&member).unwrap(), b"long desc");
        assert!(desc_of_member(&end_member()).is_err());
        assert!(desc_of_member(b"not gzip").is_err());
    }
}

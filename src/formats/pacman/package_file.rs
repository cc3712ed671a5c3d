//! Reading an uploaded package (`.pkg.tar.zst`, `.xz`, `.gz`, or a plain tar) in one streaming
//! pass: the compression is told by its magic bytes, not by a file name, the tar is walked entry
//! by entry and never unpacked, and only `.PKGINFO` is kept in memory. Every entry's path is
//! checked, since the file list ends up in the `.files` database that `pacman -F` shows.

use std::io::{self, Read};

use flate2::read::MultiGzDecoder;
use lzma_rust2::XzReader;
use tar::{Archive, EntryType};

use super::pkginfo::PkgInfo;
use crate::error::{Error, Result};

/// A `.PKGINFO` is a few KiB; anything this large is not one.
const MAX_PKGINFO: u64 = 1 << 20;
/// Far beyond any real package (the largest in Arch have ~200,000 files), well below what
/// would exhaust memory with the path list.
const MAX_ENTRIES: usize = 1_000_000;
/// The largest xz dictionary decoded (`xz -9` uses 64 MiB); a crafted header could ask for 1.5 GiB.
const XZ_MEM_LIMIT_KIB: u32 = 256 * 1024;

/// What an uploaded package says about itself.
#[derive(Debug)]
pub struct PackageContents {
    pub info: PkgInfo,
    /// The `files` entry of the `.files` database: every path but the top-level dot files,
    /// directories with a trailing `/`, sorted bytewise, no duplicates.
    pub files: Vec<String>,
}

/// Detects the compression from the magic bytes (zstd, xz, gzip; plain tar too) and reads the
/// tar: `.PKGINFO` must be present and at most 1 MiB; `files` is the list repo-add writes
/// (`bsdtar -tf pkg --exclude='^.*' | LC_ALL=C sort -u`). Absolute paths, `..` elements, control
/// characters and backslashes are refused, as is anything that does not decompress or read as a
/// tar to its end (so a truncated upload fails). Errors are 422s: hand in bytes already received.
pub fn read_package(reader: impl Read) -> Result<PackageContents> {
    let mut decoded = decompress(reader)?;
    let contents = read_tar(&mut decoded, MAX_ENTRIES)?;
    // Reading to the end makes the decoder check its trailer (checksums, a cut-off stream).
    io::copy(&mut decoded, &mut io::sink()).map_err(not_a_package)?;
    Ok(contents)
}

fn not_a_package(err: impl std::fmt::Display) -> Error {
    Error::unprocessable(format!("not a pacman package: {err}"))
}

/// Wraps the reader in the decoder its first bytes call for.
fn decompress<'a>(mut reader: impl Read + 'a) -> Result<Box<dyn Read + 'a>> {
    // A tar header's "ustar" magic sits at offset 257.
    let mut head = Vec::with_capacity(262);
    (&mut reader)
        .take(262)
        .read_to_end(&mut head)
        .map_err(not_a_package)?;
    let codec = Codec::detect(&head)
        .ok_or_else(|| not_a_package("not a tar compressed with zstd, xz or gzip"))?;
    let reader = io::Cursor::new(head).chain(reader);
    Ok(match codec {
        // zstd's default window limit (128 MiB) holds makepkg's `--ultra -20`, refuses `--long=31`.
        Codec::Zstd => Box::new(zstd::stream::read::Decoder::new(reader).map_err(not_a_package)?),
        Codec::Xz => Box::new(XzReader::new_mem_limit(reader, true, XZ_MEM_LIMIT_KIB)),
        Codec::Gzip => Box::new(MultiGzDecoder::new(reader)),
        Codec::Tar => Box::new(reader),
    })
}

/// The compressions pacman packages come in (makepkg's default is zstd), and none at all.
enum Codec {
    Zstd,
    Xz,
    Gzip,
    Tar,
}

impl Codec {
    fn detect(head: &[u8]) -> Option<Codec> {
        if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Codec::Zstd)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some(Codec::Xz)
        } else if head.starts_with(&[0x1f, 0x8b]) {
            Some(Codec::Gzip)
        } else if head.get(257..262) == Some(b"ustar") {
            Some(Codec::Tar)
        } else {
            None
        }
    }
}

fn read_tar(decoded: &mut dyn Read, max_entries: usize) -> Result<PackageContents> {
    let mut archive = Archive::new(decoded);
    let mut pkginfo = None;
    let mut files = Vec::new();
    let mut count = 0;
    for entry in archive.entries().map_err(not_a_package)? {
        let mut entry = entry.map_err(not_a_package)?;
        let kind = entry.header().entry_type();
        if matches!(kind, EntryType::XGlobalHeader | EntryType::XHeader) {
            continue;
        }
        count += 1;
        if count > max_entries {
            return Err(Error::unprocessable(format!(
                "package has more than {max_entries} entries"
            )));
        }
        let path = checked_path(&entry.path_bytes())?;
        if path == ".PKGINFO" {
            if pkginfo.is_some() {
                return Err(Error::unprocessable("package has two .PKGINFO"));
            }
            if kind != EntryType::Regular || entry.size() > MAX_PKGINFO {
                return Err(Error::unprocessable(
                    ".PKGINFO is not a regular file of at most 1 MiB",
                ));
            }
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .map_err(|err| Error::unprocessable(format!(".PKGINFO is unreadable: {err}")))?;
            pkginfo = Some(text);
        } else if !path.starts_with('.') {
            let mut path = path;
            if kind == EntryType::Directory && !path.ends_with('/') {
                path.push('/');
            }
            files.push(path);
        }
    }
    let pkginfo = pkginfo.ok_or_else(|| not_a_package("no .PKGINFO"))?;
    files.sort_unstable();
    files.dedup();
    Ok(PackageContents {
        info: PkgInfo::parse(&pkginfo)?,
        files,
    })
}

/// An entry's path as text, refused when it could point outside the package's root or hides
/// characters a listing would not show.
fn checked_path(bytes: &[u8]) -> Result<String> {
    let refuse = |why: &str| {
        Err(Error::unprocessable(format!(
            "package entry {:?} {why}",
            String::from_utf8_lossy(bytes)
        )))
    };
    let Ok(path) = std::str::from_utf8(bytes) else {
        return refuse("is not UTF-8");
    };
    if path.is_empty() {
        return refuse("has an empty path");
    }
    if path.starts_with('/') {
        return refuse("is an absolute path");
    }
    if path.split('/').any(|element| element == "..") {
        return refuse("has a '..' element");
    }
    if path.contains('\\') {
        return refuse("has a backslash");
    }
    if path.chars().any(char::is_control) {
        return refuse("has a control character");
    }
    Ok(path.to_owned())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::path::Path;
    use std::process::{Command, Stdio};

    /// Runs a tool the tests need; fails (never skips) when it is not installed.
    pub(in crate::formats::pacman) fn run(program: &str, args: &[&str], dir: &Path) -> Vec<u8> {
        let out = Command::new(program)
            .args(args)
            .current_dir(dir)
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|err| panic!("{program} must be installed to run this test: {err}"));
        assert!(out.status.success(), "{program} {args:?} failed");
        out.stdout
    }

    /// Makes a package tree (`.PKGINFO`, `.BUILDINFO`, `.MTREE`, then `files`) in `dir` and packs
    /// it as makepkg does into `out`, compressed by `compress` ("" for a plain tar).
    pub(in crate::formats::pacman) fn make_package(
        dir: &Path,
        pkginfo: &str,
        files: &[&str],
        out: &Path,
        compress: &str,
    ) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(".PKGINFO"), pkginfo).unwrap();
        std::fs::write(dir.join(".BUILDINFO"), "format = 2\n").unwrap();
        std::fs::write(dir.join(".MTREE"), "#mtree\n").unwrap();
        for file in files {
            let path = dir.join(file);
            if file.ends_with('/') {
                std::fs::create_dir_all(path).unwrap();
            } else {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, format!("content of {file}\n")).unwrap();
            }
        }
        let mut top: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| !name.starts_with('.'))
            .collect();
        top.sort();
        let mut args = [
            "--uid",
            "0",
            "--gid",
            "0",
            "-cf",
            "-",
            ".PKGINFO",
            ".BUILDINFO",
            ".MTREE",
        ]
        .to_vec();
        args.extend(top.iter().map(String::as_str));
        let tar = run("bsdtar", &args, dir);
        let bytes = if compress.is_empty() {
            tar
        } else {
            let mut child = Command::new(compress)
                .arg("-c")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap_or_else(|err| panic!("{compress} must be installed: {err}"));
            let mut stdin = child.stdin.take().unwrap();
            let writer = std::thread::spawn(move || io::Write::write_all(&mut stdin, &tar));
            let out = child.wait_with_output().unwrap();
            writer.join().unwrap().unwrap();
            assert!(out.status.success());
            out.stdout
        };
        std::fs::write(out, bytes).unwrap();
    }

    const PKGINFO: &str = "pkgname = hello\npkgver = 1.0-1\narch = x86_64\nsize = 42\n";
    const TREE: &[&str] = &[
        "usr/bin/hello",
        "usr/share/doc/hello/README",
        "usr/share/hello/.hidden",
        "usr/lib/empty/",
    ];

    /// What `bsdtar -tf pkg --exclude='^.*' | LC_ALL=C sort -u` prints for a package.
    fn bsdtar_listing(pkg: &Path) -> Vec<String> {
        let out = run(
            "bsdtar",
            &["--exclude=^.*", "-tf", pkg.to_str().unwrap()],
            pkg.parent().unwrap(),
        );
        let mut lines: Vec<String> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        lines.sort();
        lines.dedup();
        lines
    }

    fn err(result: Result<PackageContents>) -> String {
        match result {
            Err(Error::Unprocessable(msg)) => msg,
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn reads_every_compression() {
        let tmp = tempfile::tempdir().unwrap();
        for (compress, ext) in [("zstd", "zst"), ("xz", "xz"), ("gzip", "gz"), ("", "")] {
            let pkg = tmp.path().join(format!("hello.pkg.tar.{ext}"));
            make_package(&tmp.path().join("tree"), PKGINFO, TREE, &pkg, compress);
            let contents = read_package(std::fs::File::open(&pkg).unwrap()).unwrap();
            assert_eq!(contents.info.name, "hello");
            assert_eq!(contents.info.size, 42);
            assert_eq!(
                contents.files,
                [
                    "usr/",
                    "usr/bin/",
                    "usr/bin/hello",
                    "usr/lib/",
                    "usr/lib/empty/",
                    "usr/share/",
                    "usr/share/doc/",
                    "usr/share/doc/hello/",
                    "usr/share/doc/hello/README",
                    "usr/share/hello/",
                    "usr/share/hello/.hidden",
                ],
                "{compress}"
            );
            assert_eq!(contents.files, bsdtar_listing(&pkg), "{compress}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_package() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = tmp.path().join("tree");
        let pkg = tmp.path().join("p.pkg.tar.zst");
        make_package(&tree, PKGINFO, TREE, &pkg, "zstd");
        let bytes = std::fs::read(&pkg).unwrap();

        let msg = err(read_package(&bytes[..bytes.len() - 40]));
        assert!(msg.starts_with("not a pacman package: "), "{msg}");
        let msg = err(read_package(&bytes[..bytes.len() / 2]));
        assert!(msg.starts_with("not a pacman package: "), "{msg}");

        let noise: Vec<u8> = (0..5000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let msg = err(read_package(&noise[..]));
        assert!(msg.starts_with("not a pacman package: not a tar"), "{msg}");
        let msg = err(read_package(&[0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3][..]));
        assert!(msg.starts_with("not a pacman package: "), "{msg}");
        let msg = err(read_package(&b""[..]));
        assert!(msg.starts_with("not a pacman package: "), "{msg}");

        // A valid tar without .PKGINFO.
        let tar = run("bsdtar", &["-cf", "-", "usr"], &tree);
        let msg = err(read_package(&tar[..]));
        assert_eq!(msg, "not a pacman package: no .PKGINFO");

        // A valid package whose .PKGINFO lacks a required key.
        make_package(&tree, "pkgname = hello\narch = any\n", TREE, &pkg, "zstd");
        let msg = err(read_package(std::fs::File::open(&pkg).unwrap()));
        assert!(msg.contains("no pkgver"), "{msg}");
    }

    /// A tar holding `.PKGINFO` then one entry whose name is written raw into the header,
    /// as the `tar` crate's builder refuses to write such names itself.
    fn tar_with_entry(name: &[u8], kind: EntryType) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_ustar();
        header.set_size(PKGINFO.len() as u64);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, ".PKGINFO", PKGINFO.as_bytes())
            .unwrap();
        let mut header = tar::Header::new_ustar();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_entry_type(kind);
        header.set_size(0);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append(&header, io::empty()).unwrap();
        builder.into_inner().unwrap()
    }

    #[test]
    fn refuses_unsafe_paths() {
        for (name, why) in [
            (&b"../etc/passwd"[..], "has a '..' element"),
            (b"usr/../../x", "has a '..' element"),
            (b"/abs", "is an absolute path"),
            (b"usr\\bin", "has a backslash"),
            (b"usr/a\nb", "has a control character"),
            (b"usr/a\x1bb", "has a control character"),
            (b"usr/\xff", "is not UTF-8"),
        ] {
            let msg = err(read_package(&tar_with_entry(name, EntryType::Regular)[..]));
            assert!(
                msg.starts_with("package entry ") && msg.ends_with(why),
                "{msg}"
            );
        }
        let ok = read_package(&tar_with_entry(b"usr/a..b/c", EntryType::Regular)[..]).unwrap();
        assert_eq!(ok.files, ["usr/a..b/c"]);
        let dir = read_package(&tar_with_entry(b"usr", EntryType::Directory)[..]).unwrap();
        assert_eq!(dir.files, ["usr/"]);
    }

    #[test]
    fn caps_the_number_of_entries() {
        let tar = tar_with_entry(b"usr/a", EntryType::Regular);
        assert_eq!(read_tar(&mut &tar[..], 2).unwrap().files, ["usr/a"]);
        let Err(Error::Unprocessable(msg)) = read_tar(&mut &tar[..], 1) else {
            panic!("expected a 422");
        };
        assert_eq!(msg, "package has more than 1 entries");
    }

    #[test]
    fn refuses_oversized_or_odd_pkginfo() {
        let mut builder = tar::Builder::new(Vec::new());
        let big = vec![b'#'; (MAX_PKGINFO + 1) as usize];
        let mut header = tar::Header::new_ustar();
        header.set_size(big.len() as u64);
        builder
            .append_data(&mut header, ".PKGINFO", &big[..])
            .unwrap();
        let msg = err(read_package(&builder.into_inner().unwrap()[..]));
        assert!(msg.contains("at most 1 MiB"), "{msg}");

        let mut builder = tar::Builder::new(Vec::new());
        for _ in 0..2 {
            let mut header = tar::Header::new_ustar();
            header.set_size(PKGINFO.len() as u64);
            builder
                .append_data(&mut header, ".PKGINFO", PKGINFO.as_bytes())
                .unwrap();
        }
        let msg = err(read_package(&builder.into_inner().unwrap()[..]));
        assert_eq!(msg, "package has two .PKGINFO");
    }
}

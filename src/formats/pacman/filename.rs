//! What a file name in an arch-repo asks for (Vieter's three behaviours of
//! `GET /{repo}/{arch}/{filename}`): the database, a package file or its signature, or one
//! package's `desc` by `name-version`. Package file names are `{name}-{pkgver}-{pkgrel}-{arch}`
//! followed by `.pkg.tar` and the compression's extension; names may hold `-`, the three fields
//! after them cannot, so the name is whatever precedes the last three.

/// A package file's name, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageFileName<'a> {
    pub name: &'a str,
    /// `[epoch:]pkgver-pkgrel`.
    pub version: &'a str,
    pub arch: &'a str,
}

/// Which of an arch-repo's two databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Database {
    /// `.db`: every package's `desc`.
    Packages,
    /// `.files`: every package's `desc` and `files`.
    Files,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested<'a> {
    Database(Database),
    Package {
        file: PackageFileName<'a>,
        /// The detached signature `{file}.sig` rather than the package.
        signature: bool,
    },
    /// One package's `desc` from the database, by `{name}-{pkgver}-{pkgrel}`.
    Desc {
        name: &'a str,
        version: &'a str,
    },
}

/// What `filename` asks for; None when it can name nothing (a package name that does not split).
pub fn classify(filename: &str) -> Option<Requested<'_>> {
    for (suffix, database) in [
        (".db", Database::Packages),
        (".db.tar.gz", Database::Packages),
        (".files", Database::Files),
        (".files.tar.gz", Database::Files),
    ] {
        if filename.len() > suffix.len() && filename.ends_with(suffix) {
            return Some(Requested::Database(database));
        }
    }
    if filename.contains(".pkg") {
        let (package, signature) = match filename.strip_suffix(".sig") {
            Some(package) => (package, true),
            None => (filename, false),
        };
        return Some(Requested::Package {
            file: parse_package(package)?,
            signature,
        });
    }
    let (name, version) = split_name_version(filename)?;
    Some(Requested::Desc { name, version })
}

/// Splits a package file name (`foo-bar-1:2.0-1-x86_64.pkg.tar.zst`).
pub fn parse_package(filename: &str) -> Option<PackageFileName<'_>> {
    let (stem, extension) = filename.split_once(".pkg.tar")?;
    if !matches!(
        extension,
        "" | ".zst" | ".xz" | ".gz" | ".bz2" | ".lz4" | ".lzo" | ".Z"
    ) {
        return None;
    }
    let (name_version, arch) = stem.rsplit_once('-')?;
    let (name, version) = split_name_version(name_version)?;
    (!arch.is_empty()).then_some(PackageFileName {
        name,
        version,
        arch,
    })
}

/// `{name}-{pkgver}-{pkgrel}` into the name and `pkgver-pkgrel`.
fn split_name_version(text: &str) -> Option<(&str, &str)> {
    let (rest, pkgrel) = text.rsplit_once('-')?;
    let (name, pkgver) = rest.rsplit_once('-')?;
    if name.is_empty() || pkgver.is_empty() || pkgrel.is_empty() {
        return None;
    }
    Some((name, &text[name.len() + 1..]))
}

/// The extension a package file gets from its content's compression (as makepkg names them).
pub fn extension_of(content_start: &[u8]) -> &'static str {
    match content_start {
        [0x28, 0xb5, 0x2f, 0xfd, ..] => ".zst",
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => ".xz",
        [0x1f, 0x8b, ..] => ".gz",
        _ => "",
    }
}

/// The name makepkg gives a package file.
pub fn package_file_name(name: &str, version: &str, arch: &str, extension: &str) -> String {
    format!("{name}-{version}-{arch}.pkg.tar{extension}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn databases_by_any_base_name() {
        for (file, db) in [
            ("bur.db", Database::Packages),
            ("bur.db.tar.gz", Database::Packages),
            ("other.files", Database::Files),
            ("x.files.tar.gz", Database::Files),
        ] {
            assert_eq!(classify(file), Some(Requested::Database(db)), "{file}");
        }
        assert_eq!(classify(".db"), None);
    }

    #[test]
    fn package_files_split_from_the_right() {
        assert_eq!(
            classify("tuxedo-keyboard-3.0.10-1-x86_64.pkg.tar.zst"),
            Some(Requested::Package {
                file: PackageFileName {
                    name: "tuxedo-keyboard",
                    version: "3.0.10-1",
                    arch: "x86_64"
                },
                signature: false
            })
        );
        assert_eq!(
            classify("grub-2:2.12-2-x86_64.pkg.tar.zst.sig"),
            Some(Requested::Package {
                file: PackageFileName {
                    name: "grub",
                    version: "2:2.12-2",
                    arch: "x86_64"
                },
                signature: true
            })
        );
        assert!(parse_package("a-1-1-any.pkg.tar").is_some());
        assert!(parse_package("a-1-1-any.pkg.tar.xz").is_some());
        for bad in [
            "a-1-any.pkg.tar.zst",
            "-1-1-any.pkg.tar.zst",
            "a-1-1-.pkg.tar.zst",
            "a-1-1-any.pkg.tar.exe",
            "a-1-1-any.pkg",
        ] {
            assert_eq!(parse_package(bad), None, "{bad}");
        }
        assert_eq!(classify("a-1-any.pkg.tar.zst"), None);
    }

    #[test]
    fn anything_else_is_a_desc_by_name_and_version() {
        assert_eq!(
            classify("vieter-0.3.0_alpha.2-1"),
            Some(Requested::Desc {
                name: "vieter",
                version: "0.3.0_alpha.2-1"
            })
        );
        assert_eq!(
            classify("lib32-glibc-1:2.38-7"),
            Some(Requested::Desc {
                name: "lib32-glibc",
                version: "1:2.38-7"
            })
        );
        assert_eq!(classify("vieter"), None);
        assert_eq!(classify("vieter-1"), None);
    }

    #[test]
    fn extensions_follow_the_compression() {
        assert_eq!(extension_of(&[0x28, 0xb5, 0x2f, 0xfd, 1]), ".zst");
        assert_eq!(extension_of(b"\xfd7zXZ\0\0"), ".xz");
        assert_eq!(extension_of(&[0x1f, 0x8b, 8]), ".gz");
        assert_eq!(extension_of(b".PKGINFO"), "");
        assert_eq!(
            package_file_name("a", "1.0-1", "any", ".zst"),
            "a-1.0-1-any.pkg.tar.zst"
        );
    }
}

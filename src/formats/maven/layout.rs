//! The Maven repository layout under `/api/packages/{owner}/maven/`: which path names which
//! thing, and what a file's name says (build of a SNAPSHOT, classifier, extension). Every
//! segment is decoded and checked here, so no name, version or file reaching the registry can
//! climb out of its place (`..`, an encoded `/`, a backslash). Pure.

use percent_encoding::percent_decode_str;

use super::version::is_snapshot;
use crate::error::{Error, Result};

/// A group and artifact; stored as the package name `group:artifact`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coords {
    pub group: String,
    pub artifact: String,
}

impl Coords {
    pub fn package(&self) -> String {
        format!("{}:{}", self.group, self.artifact)
    }

    /// The path of the artifact's folder, e.g. `com/example/lib`.
    pub fn path(&self) -> String {
        format!("{}/{}", self.group.replace('.', "/"), self.artifact)
    }

    /// The coordinates a package name `group:artifact` stands for.
    pub fn from_package(name: &str) -> Result<Coords> {
        let (group, artifact) = name.split_once(':').ok_or_else(|| {
            Error::invalid(format!(
                "a Maven package is named group:artifact, not {name:?}"
            ))
        })?;
        for part in group.split('.') {
            check_id("group", part)?;
        }
        check_id("artifact", artifact)?;
        Ok(Coords {
            group: group.to_string(),
            artifact: artifact.to_string(),
        })
    }
}

/// A checksum file's algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl Checksum {
    pub const ALL: [Checksum; 4] = [
        Checksum::Md5,
        Checksum::Sha1,
        Checksum::Sha256,
        Checksum::Sha512,
    ];

    pub fn extension(self) -> &'static str {
        match self {
            Checksum::Md5 => "md5",
            Checksum::Sha1 => "sha1",
            Checksum::Sha256 => "sha256",
            Checksum::Sha512 => "sha512",
        }
    }

    /// `name` without a checksum extension, and which one it had.
    pub fn split(name: &str) -> (&str, Option<Checksum>) {
        for checksum in Checksum::ALL {
            if let Some(base) = name
                .strip_suffix(checksum.extension())
                .and_then(|b| b.strip_suffix('.'))
            {
                return (base, Some(checksum));
            }
        }
        (name, None)
    }
}

pub const METADATA: &str = "maven-metadata.xml";

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `{group path}/{artifact}/maven-metadata.xml[.checksum]`
    ArtifactMetadata {
        coords: Coords,
        checksum: Option<Checksum>,
    },
    /// `{group path}/{artifact}/{x-SNAPSHOT}/maven-metadata.xml[.checksum]`
    SnapshotMetadata {
        coords: Coords,
        version: String,
        checksum: Option<Checksum>,
    },
    /// `{group path}/{artifact}/{version}/{file}[.checksum]`
    File {
        coords: Coords,
        version: String,
        file: String,
        checksum: Option<Checksum>,
    },
    /// `{group path}/{artifact}/` (a folder listing)
    Listing { coords: Coords },
}

/// The target of `path` (still percent-encoded, without the repository prefix); `Ok(None)` when
/// it names nothing (404), an error when a segment is not allowed (400).
pub fn parse(path: &str) -> Result<Option<Target>> {
    let mut segments = Vec::new();
    for raw in path.split('/') {
        let decoded = percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| Error::invalid(format!("path segment {raw:?} is not UTF-8")))?;
        if decoded.contains(['/', '\\']) || decoded == "." || decoded == ".." {
            return Err(Error::invalid(format!(
                "path segment {decoded:?} is not allowed"
            )));
        }
        segments.push(decoded.into_owned());
    }
    let n = segments.len();
    if n < 3 || segments[..n - 1].iter().any(String::is_empty) {
        return Ok(None);
    }
    let last = &segments[n - 1];
    let coords_before = |end: usize| -> Result<Coords> {
        let group = &segments[..end - 1];
        for part in group {
            check_id("group", part)?;
        }
        check_id("artifact", &segments[end - 1])?;
        Ok(Coords {
            group: group.join("."),
            artifact: segments[end - 1].clone(),
        })
    };
    if last.is_empty() {
        return Ok(Some(Target::Listing {
            coords: coords_before(n - 1)?,
        }));
    }
    let (base, checksum) = Checksum::split(last);
    if base == METADATA {
        if n >= 4 && is_snapshot(&segments[n - 2]) {
            let version = segments[n - 2].clone();
            check_version(&version)?;
            return Ok(Some(Target::SnapshotMetadata {
                coords: coords_before(n - 2)?,
                version,
                checksum,
            }));
        }
        return Ok(Some(Target::ArtifactMetadata {
            coords: coords_before(n - 1)?,
            checksum,
        }));
    }
    if n < 4 {
        return Ok(None);
    }
    let version = segments[n - 2].clone();
    check_version(&version)?;
    check_file(base)?;
    Ok(Some(Target::File {
        coords: coords_before(n - 2)?,
        version,
        file: base.to_string(),
        checksum,
    }))
}

const MAX_LEN: usize = 255;

fn check_chars(kind: &str, value: &str, extra: &[char]) -> Result<()> {
    if value.is_empty() || value.len() > MAX_LEN {
        return Err(Error::invalid(format!(
            "{kind} must be 1 to {MAX_LEN} characters"
        )));
    }
    if value == "." || value == ".." {
        return Err(Error::invalid(format!("{kind} must not be {value:?}")));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c) || extra.contains(&c);
    if let Some(bad) = value.chars().find(|&c| !allowed(c)) {
        return Err(Error::invalid(format!(
            "{kind} {value:?} contains {bad:?}; Maven ids use letters, digits, '.', '_' and '-'"
        )));
    }
    Ok(())
}

/// A group segment or artifact id (Maven's id pattern `[A-Za-z0-9_\-.]+`).
pub fn check_id(kind: &str, value: &str) -> Result<()> {
    check_chars(kind, value, &[])
}

/// A version folder: Maven's id characters and `+` (build metadata some projects use).
pub fn check_version(version: &str) -> Result<()> {
    check_chars("version", version, &['+'])
}

/// A file name: the version's characters plus `~` (nothing that could leave its folder).
fn check_file(file: &str) -> Result<()> {
    check_chars("file name", file, &['+', '~'])
}

/// A SNAPSHOT build, from its file name: `yyyyMMdd.HHmmss` and its build number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub timestamp: String,
    pub number: u32,
}

impl Build {
    /// The version a build's files carry: `1.0-20261201.101010-2` for `1.0-SNAPSHOT`.
    pub fn version(&self, snapshot: &str) -> String {
        let base = snapshot.strip_suffix("SNAPSHOT").unwrap_or(snapshot);
        format!("{base}{}-{}", self.timestamp, self.number)
    }
}

/// What a file name says within its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    /// The build, for a SNAPSHOT's timestamped file.
    pub build: Option<Build>,
    /// Empty for the main artifact.
    pub classifier: String,
    /// `jar`, `pom`, `module`, `jar.asc`, `tar.gz`, …
    pub extension: String,
}

/// Reads `{artifact}-{version}[-{classifier}].{extension}`, where a SNAPSHOT's version may be a
/// build's (`1.0-20261201.101010-2`); anything else is refused, naming the expected form.
pub fn parse_file_name(artifact: &str, version: &str, file: &str) -> Result<FileName> {
    let refuse = || {
        Error::invalid(format!(
            "file name {file:?} must be {artifact}-{version}[-classifier].extension"
        ))
    };
    let rest = file
        .strip_prefix(artifact)
        .and_then(|r| r.strip_prefix('-'))
        .ok_or_else(refuse)?;
    let (build, rest) = match rest.strip_prefix(version) {
        Some(rest) => (None, rest),
        None if is_snapshot(version) => {
            let base = version.strip_suffix("SNAPSHOT").unwrap_or(version);
            let rest = rest.strip_prefix(base).ok_or_else(refuse)?;
            let (build, rest) = split_build(rest).ok_or_else(refuse)?;
            (Some(build), rest)
        }
        None => return Err(refuse()),
    };
    let (classifier, extension) = if let Some(ext) = rest.strip_prefix('.') {
        ("", ext)
    } else if let Some(tail) = rest.strip_prefix('-') {
        tail.split_once('.').ok_or_else(refuse)?
    } else {
        return Err(refuse());
    };
    if extension.is_empty()
        || extension.starts_with('.')
        || extension.ends_with('.')
        || rest.starts_with('-') && classifier.is_empty()
    {
        return Err(refuse());
    }
    Ok(FileName {
        build,
        classifier: classifier.to_string(),
        extension: extension.to_string(),
    })
}

/// `20261201.101010-2…` → the build and what follows it.
fn split_build(text: &str) -> Option<(Build, &str)> {
    let timestamp = text.get(..15)?;
    let (date, time) = timestamp.split_once('.')?;
    if date.len() != 8
        || time.len() != 6
        || !(date.bytes().chain(time.bytes())).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let rest = text[15..].strip_prefix('-')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let number = rest[..digits].parse().ok()?;
    Some((
        Build {
            timestamp: timestamp.to_string(),
            number,
        },
        &rest[digits..],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coords(group: &str, artifact: &str) -> Coords {
        Coords {
            group: group.into(),
            artifact: artifact.into(),
        }
    }

    #[test]
    fn files_metadata_and_listings() {
        assert_eq!(
            parse("com/example/lib/1.0/lib-1.0.jar").unwrap(),
            Some(Target::File {
                coords: coords("com.example", "lib"),
                version: "1.0".into(),
                file: "lib-1.0.jar".into(),
                checksum: None,
            })
        );
        assert_eq!(
            parse("com/example/lib/1.0/lib-1.0.pom.sha512").unwrap(),
            Some(Target::File {
                coords: coords("com.example", "lib"),
                version: "1.0".into(),
                file: "lib-1.0.pom".into(),
                checksum: Some(Checksum::Sha512),
            })
        );
        assert_eq!(
            parse("com/example/lib/maven-metadata.xml.sha1").unwrap(),
            Some(Target::ArtifactMetadata {
                coords: coords("com.example", "lib"),
                checksum: Some(Checksum::Sha1),
            })
        );
        assert_eq!(
            parse("org/lib/1.0-SNAPSHOT/maven-metadata.xml").unwrap(),
            Some(Target::SnapshotMetadata {
                coords: coords("org", "lib"),
                version: "1.0-SNAPSHOT".into(),
                checksum: None,
            })
        );
        assert_eq!(
            parse("com/example/lib/").unwrap(),
            Some(Target::Listing {
                coords: coords("com.example", "lib")
            })
        );
        assert_eq!(parse("lib/1.0").unwrap(), None);
        assert_eq!(parse("a//lib/1.0/x").unwrap(), None);
    }

    #[test]
    fn traversal_is_refused_in_every_segment() {
        for path in [
            "../lib/1.0/lib-1.0.jar",
            "com/%2e%2e/1.0/lib-1.0.jar",
            "com/lib/../lib-1.0.jar",
            "com/lib/1.0/..",
            "com/lib/1.0/%2e%2e",
            "com/lib%2f..%2fx/1.0/lib-1.0.jar",
            "com/lib/1.0/a%5c..%5cb",
            "com/li:b/1.0/x.jar",
            "com/lib/1.0%00/x.jar",
        ] {
            assert!(parse(path).is_err(), "{path}");
        }
    }

    #[test]
    fn file_names() {
        let main = parse_file_name("lib", "1.0", "lib-1.0.jar").unwrap();
        assert_eq!(
            (main.classifier.as_str(), main.extension.as_str()),
            ("", "jar")
        );
        let sources = parse_file_name("lib", "1.0", "lib-1.0-sources.jar.asc").unwrap();
        assert_eq!(sources.classifier, "sources");
        assert_eq!(sources.extension, "jar.asc");
        let build =
            parse_file_name("lib", "1.0-SNAPSHOT", "lib-1.0-20261201.101010-2-tests.jar").unwrap();
        assert_eq!(
            build.build,
            Some(Build {
                timestamp: "20261201.101010".into(),
                number: 2
            })
        );
        assert_eq!(build.classifier, "tests");
        assert_eq!(
            build.build.unwrap().version("1.0-SNAPSHOT"),
            "1.0-20261201.101010-2"
        );
        let plain = parse_file_name("lib", "1.0-SNAPSHOT", "lib-1.0-SNAPSHOT.pom").unwrap();
        assert_eq!(plain.build, None);
        for bad in [
            "other-1.0.jar",
            "lib-1.1.jar",
            "lib-1.0",
            "lib-1.0.",
            "lib-1.0-.jar",
            "lib-1.0x.jar",
        ] {
            assert!(parse_file_name("lib", "1.0", bad).is_err(), "{bad}");
        }
        assert!(parse_file_name("lib", "1.0-SNAPSHOT", "lib-1.0-2026.1-1.jar").is_err());
    }

    #[test]
    fn package_names() {
        let c = Coords::from_package("com.example:lib").unwrap();
        assert_eq!(c.path(), "com/example/lib");
        assert_eq!(c.package(), "com.example:lib");
        assert!(Coords::from_package("lib").is_err());
        assert!(Coords::from_package("com..x:lib").is_err());
    }
}

//! The distribution spec's grammar, as pure functions: repository names (`{owner}/{image…}`),
//! references (a tag or a digest), digests, and which endpoint a path under `/v2/` names. Names
//! can have any number of segments, so the router hands the whole path here instead of matching
//! segments itself.

use std::fmt;

use super::errors::{Code, OciError};

/// Longest repository name distribution accepts.
const MAX_NAME: usize = 255;
/// Longest tag (the spec's `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`).
const MAX_TAG: usize = 128;

/// A repository: its first segment is the owner, the rest the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    pub owner: String,
    pub image: String,
}

impl Repo {
    /// Checks `name` against the spec's grammar: segments of lower-case letters and digits,
    /// joined inside a segment by one `.`, one or two `_`, or any run of `-`; at least an owner
    /// and an image.
    pub fn parse(name: &str) -> Result<Repo, OciError> {
        let invalid = |why: &str| OciError::new(Code::NameInvalid, format!("{name:?}: {why}"));
        if name.len() > MAX_NAME {
            return Err(invalid("longer than 255 characters"));
        }
        if !name.split('/').all(valid_component) {
            return Err(invalid(
                "each segment must be lower-case letters and digits, joined by '.', '_', '__' or '-'",
            ));
        }
        match name.split_once('/') {
            Some((owner, image)) => Ok(Repo {
                owner: owner.to_string(),
                image: image.to_string(),
            }),
            None => Err(invalid("a repository is {owner}/{image}")),
        }
    }

    pub fn name(&self) -> String {
        format!("{}/{}", self.owner, self.image)
    }
}

fn valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(alnum) || !bytes.last().is_some_and(alnum) {
        return false;
    }
    // Between runs of letters and digits: '.', '_', '__' or a run of '-'.
    let mut separator = String::new();
    for &b in bytes {
        if alnum(&b) {
            if !matches!(separator.as_str(), "" | "." | "_" | "__") && !is_dashes(&separator) {
                return false;
            }
            separator.clear();
        } else if matches!(b, b'.' | b'_' | b'-') {
            separator.push(b as char);
        } else {
            return false;
        }
    }
    true
}

fn is_dashes(s: &str) -> bool {
    s.bytes().all(|b| b == b'-')
}

/// The digest algorithms the registry accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }
}

/// A content digest, `algorithm:hex`. The blob store addresses content by SHA-256; SHA-512
/// digests are resolved through the SHA-512 recorded with the blob (`content::stored_sha256`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    pub algorithm: Algorithm,
    /// Lower-case hex.
    pub hex: String,
}

impl Digest {
    pub fn parse(value: &str) -> Result<Digest, OciError> {
        let invalid = |why: &str| OciError::new(Code::DigestInvalid, format!("{value:?}: {why}"));
        let (algorithm, encoded) = value
            .split_once(':')
            .ok_or_else(|| invalid("a digest is algorithm:hex"))?;
        let (algorithm, len) = match algorithm {
            "sha256" => (Algorithm::Sha256, 64),
            "sha512" => (Algorithm::Sha512, 128),
            _ => return Err(invalid("the algorithm is sha256 or sha512")),
        };
        let hex = encoded.len() == len
            && encoded
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex {
            return Err(invalid(&format!(
                "{} takes {len} lower-case hex digits",
                algorithm.name()
            )));
        }
        Ok(Digest {
            algorithm,
            hex: encoded.to_string(),
        })
    }

    /// The SHA-256 digest of `bytes` (how the registry names what it stores).
    pub fn of(bytes: &[u8]) -> Digest {
        Digest {
            algorithm: Algorithm::Sha256,
            hex: crate::blobs::digest::sha256_hex(bytes),
        }
    }

    /// Whether `bytes` have this digest.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        let actual = match self.algorithm {
            Algorithm::Sha256 => crate::blobs::digest::sha256_hex(bytes),
            Algorithm::Sha512 => crate::blobs::digest::sha512_hex(bytes),
        };
        actual == self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

/// What a manifest is asked by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Tag(String),
    Digest(Digest),
}

impl Reference {
    pub fn parse(value: &str) -> Result<Reference, OciError> {
        if value.contains(':') {
            return Digest::parse(value).map(Reference::Digest);
        }
        if is_tag(value) {
            Ok(Reference::Tag(value.to_string()))
        } else {
            Err(OciError::new(
                Code::ManifestInvalid,
                format!("{value:?} is neither a tag nor a digest"),
            ))
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Tag(tag) => f.write_str(tag),
            Reference::Digest(digest) => digest.fmt(f),
        }
    }
}

pub fn is_tag(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_TAG
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The endpoints under `/v2/{name}/…`, with the name and the last segment as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint<'a> {
    Manifest { name: &'a str, reference: &'a str },
    Blob { name: &'a str, digest: &'a str },
    Uploads { name: &'a str },
    Upload { name: &'a str, id: &'a str },
    Tags { name: &'a str },
    Referrers { name: &'a str, digest: &'a str },
}

/// Which endpoint `path` (what follows `/v2/`) names, read from its end, since the name before
/// it may have any number of segments (and may itself contain `blobs` or `manifests`).
pub fn endpoint(path: &str) -> Option<Endpoint<'_>> {
    let path = path.strip_suffix('/').unwrap_or(path);
    let (rest, last) = path.rsplit_once('/')?;
    let (name, marker) = rest.rsplit_once('/').unwrap_or(("", rest));
    let found = match (marker, last) {
        ("tags", "list") => Endpoint::Tags { name },
        ("blobs", "uploads") => Endpoint::Uploads { name },
        ("uploads", id) => {
            let name = name.strip_suffix("/blobs")?;
            Endpoint::Upload { name, id }
        }
        ("manifests", reference) => Endpoint::Manifest { name, reference },
        ("blobs", digest) => Endpoint::Blob { name, digest },
        ("referrers", digest) => Endpoint::Referrers { name, digest },
        _ => return None,
    };
    let name = match &found {
        Endpoint::Manifest { name, .. }
        | Endpoint::Blob { name, .. }
        | Endpoint::Uploads { name }
        | Endpoint::Upload { name, .. }
        | Endpoint::Tags { name }
        | Endpoint::Referrers { name, .. } => name,
    };
    (!name.is_empty()).then_some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_grammar() {
        for ok in [
            "acme/app",
            "acme/a/b/c",
            "acme/my-app",
            "acme/my--app",
            "acme/my_app",
            "acme/my__app",
            "acme/v1.2",
            "a0/b9",
        ] {
            Repo::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
        }
        for bad in [
            "app",
            "Acme/app",
            "acme/App",
            "acme/app/",
            "/acme/app",
            "acme//app",
            "acme/-app",
            "acme/app-",
            "acme/a___b",
            "acme/a..b",
            "acme/a._b",
            "acme/a b",
            "acme/ä",
            "",
        ] {
            let err = Repo::parse(bad).unwrap_err();
            assert_eq!(err.code, Code::NameInvalid, "{bad}");
        }
        let long = format!("acme/{}", "a".repeat(251));
        assert!(Repo::parse(&long).is_err());
        assert!(Repo::parse(&long[..255]).is_ok());
    }

    #[test]
    fn repo_splits_owner_and_image() {
        let repo = Repo::parse("acme/tools/builder").unwrap();
        assert_eq!(repo.owner, "acme");
        assert_eq!(repo.image, "tools/builder");
        assert_eq!(repo.name(), "acme/tools/builder");
    }

    #[test]
    fn digests() {
        let hex = "a".repeat(64);
        let parsed = Digest::parse(&format!("sha256:{hex}")).unwrap();
        assert_eq!(parsed.algorithm, Algorithm::Sha256);
        assert_eq!(parsed.hex, hex);
        let sha512 = format!("sha512:{}", "b".repeat(128));
        let parsed = Digest::parse(&sha512).unwrap();
        assert_eq!(parsed.algorithm, Algorithm::Sha512);
        assert_eq!(parsed.to_string(), sha512);
        let upper = format!("sha256:{}", "A".repeat(64));
        let short512 = format!("sha512:{}", "b".repeat(64));
        for bad in [
            "sha256:abc",
            "sha256",
            "md5:abc",
            &upper,
            "sha256:",
            &short512,
        ] {
            assert_eq!(Digest::parse(bad).unwrap_err().code, Code::DigestInvalid);
        }
        let empty512 = "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
                        47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
        assert!(Digest::parse(empty512).unwrap().matches(b""));
        assert!(!Digest::parse(empty512).unwrap().matches(b"x"));
        assert!(Digest::of(b"x").matches(b"x"));
        assert_eq!(
            Digest::of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn references() {
        assert_eq!(
            Reference::parse("v1.0_rc-1").unwrap(),
            Reference::Tag("v1.0_rc-1".into())
        );
        assert!(matches!(
            Reference::parse(&format!("sha256:{}", "0".repeat(64))),
            Ok(Reference::Digest(_))
        ));
        assert!(is_tag(&"t".repeat(128)));
        assert!(!is_tag(&"t".repeat(129)));
        for bad in [".hidden", "-x", "a/b", "", "a+b"] {
            assert!(!is_tag(bad), "{bad}");
        }
        assert_eq!(
            Reference::parse("sha256:nope").unwrap_err().code,
            Code::DigestInvalid
        );
    }

    #[test]
    fn endpoints_are_read_from_the_end() {
        use Endpoint::*;
        let cases = [
            (
                "acme/app/manifests/latest",
                Some(Manifest {
                    name: "acme/app",
                    reference: "latest",
                }),
            ),
            ("acme/a/b/tags/list", Some(Tags { name: "acme/a/b" })),
            (
                "acme/app/blobs/sha256:x",
                Some(Blob {
                    name: "acme/app",
                    digest: "sha256:x",
                }),
            ),
            (
                "acme/app/blobs/uploads/",
                Some(Uploads { name: "acme/app" }),
            ),
            ("acme/app/blobs/uploads", Some(Uploads { name: "acme/app" })),
            (
                "acme/app/blobs/uploads/abc",
                Some(Upload {
                    name: "acme/app",
                    id: "abc",
                }),
            ),
            (
                "acme/blobs/manifests/1",
                Some(Manifest {
                    name: "acme/blobs",
                    reference: "1",
                }),
            ),
            (
                "acme/manifests/blobs/d",
                Some(Blob {
                    name: "acme/manifests",
                    digest: "d",
                }),
            ),
            (
                "acme/app/referrers/d",
                Some(Referrers {
                    name: "acme/app",
                    digest: "d",
                }),
            ),
            ("manifests/latest", None),
            ("acme/app/other/x", None),
            ("acme", None),
            ("blobs/uploads/abc", None),
        ];
        for (path, expected) in cases {
            assert_eq!(endpoint(path), expected, "{path}");
        }
    }
}

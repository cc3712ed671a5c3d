//! Gitea's package routes, `/api/packages/{owner}/{format}/…`, which every Gitea-dialect format
//! (npm, Maven, NuGet, Go, Generic) serves: the owner named in the path and what follows the
//! format's segment, read the same way for all of them.

use crate::error::{Error, Result};
use crate::model::owners::check_owner_name;

/// A request path under `/api/packages/{owner}/{format}`.
#[derive(Debug, PartialEq, Eq)]
pub struct PackagePath<'a> {
    /// The owner, percent-decoded and a valid owner name.
    pub owner: String,
    /// What follows `{format}/`, still percent-encoded; empty for the format's root (with or
    /// without its trailing slash).
    pub rest: &'a str,
}

/// Splits `path` for `format`; anything else (another format, an owner name that cannot exist)
/// is not found, as a path no route serves.
pub fn split<'a>(path: &'a str, format: &str) -> Result<PackagePath<'a>> {
    let not_found = || Error::not_found(format!("{path} not found"));
    let (owner, after_owner) = path
        .strip_prefix("/api/packages/")
        .and_then(|p| p.split_once('/'))
        .ok_or_else(not_found)?;
    let rest = match after_owner.strip_prefix(format) {
        Some("") => "",
        Some(rest) => rest.strip_prefix('/').ok_or_else(not_found)?,
        None => return Err(not_found()),
    };
    let owner = percent_encoding::percent_decode_str(owner)
        .decode_utf8()
        .map_err(|_| not_found())?
        .into_owned();
    check_owner_name(&owner).map_err(|_| not_found())?;
    Ok(PackagePath { owner, rest })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(path: &str, format: &str) -> Option<(String, String)> {
        split(path, format)
            .ok()
            .map(|p| (p.owner, p.rest.to_string()))
    }

    #[test]
    fn the_rest_follows_the_owner_and_the_format() {
        let of = |owner: &str, rest: &str| Some((owner.to_string(), rest.to_string()));
        assert_eq!(
            parts("/api/packages/npm/npm/npm/-/npm-1.0.0.tgz", "npm"),
            of("npm", "npm/-/npm-1.0.0.tgz")
        );
        assert_eq!(
            parts("/api/packages/acme/npm/@acme%2Fgreet", "npm"),
            of("acme", "@acme%2Fgreet")
        );
        assert_eq!(parts("/api/packages/acme/nuget", "nuget"), of("acme", ""));
        assert_eq!(parts("/api/packages/acme/nuget/", "nuget"), of("acme", ""));
        assert_eq!(
            parts("/api/packages/ac%6De/go/x/@v/list", "go"),
            of("acme", "x/@v/list")
        );
    }

    #[test]
    fn other_formats_and_impossible_owners_are_not_found() {
        for (path, format) in [
            ("/api/packages/acme/generic/x", "npm"),
            ("/api/packages/acme/nugetx/y", "nuget"),
            ("/api/packages/acme", "npm"),
            ("/api/v1/owners/acme/npm/x", "npm"),
            ("/api/packages/a%2Fb/npm/x", "npm"),
            ("/api/packages/%FF/npm/x", "npm"),
        ] {
            let err = split(path, format).unwrap_err();
            assert!(matches!(err, Error::NotFound(_)), "{path}: {err}");
        }
    }
}

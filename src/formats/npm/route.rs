//! Which npm registry endpoint a path under `/api/packages/{owner}/npm` names. npm's URLs do not
//! fit a route table: a scoped name arrives as one segment (`@scope%2fname`, any case of `%2F`,
//! sometimes `%40` for `@`) or as two (`@scope/name` in tarball URLs), and `{id}/{x}` is a version,
//! a tag or `-rev`. So the path is read here, from its raw (still encoded) form. Pure.

use percent_encoding::percent_decode_str;

/// An endpoint, with the package name decoded (not yet checked against npm's name rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/-/ping`
    Ping,
    /// `/-/whoami`
    Whoami,
    /// `/-/user/org.couchdb.user:{name}` (`npm login` / `adduser`)
    User(String),
    /// `/-/v1/search`
    Search,
    /// `/-/npm/v1/security/advisories/bulk` and `…/audits/quick`
    Audit,
    /// `/-/package` (the seed's publish form: the name comes from the body)
    PublishAnywhere,
    /// `/-/package/{id}/dist-tags`
    DistTags(String),
    /// `/-/package/{id}/dist-tags/{tag}` and `{id}/-disttag/{tag}`
    DistTag(String, String),
    /// `{id}`
    Package(String),
    /// `{id}/-rev/{rev}`: npm's unpublish (a PUT of the remaining document, or DELETE of all)
    PackageRev(String),
    /// `{id}/{version or tag}`
    Version(String, String),
    /// `{id}/-/{file}` and `{id}/-/{version}/{file}`, and with `/-rev/{rev}` (unpublish)
    Tarball {
        name: String,
        file: String,
        /// The version the seed's longer URL names.
        version: Option<String>,
    },
}

/// The endpoint `path` (what follows `/npm`, e.g. `/@acme%2Fgreet/-/greet-1.0.0.tgz`) names;
/// `None` when it names none (404).
pub fn parse(path: &str) -> Option<Target> {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|s| percent_decode_str(s).decode_utf8().map(|d| d.into_owned()))
        .collect::<Result<_, _>>()
        .ok()?;
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        ["-", "ping"] => Some(Target::Ping),
        ["-", "whoami"] => Some(Target::Whoami),
        ["-", "user", user] => user
            .strip_prefix("org.couchdb.user:")
            .map(|name| Target::User(name.to_string())),
        ["-", "v1", "search"] => Some(Target::Search),
        ["-", "npm", "v1", "security", "advisories", "bulk"]
        | ["-", "npm", "v1", "security", "audits", "quick"] => Some(Target::Audit),
        ["-", "package"] => Some(Target::PublishAnywhere),
        ["-", "package", rest @ ..] => {
            let (name, rest) = split_name(rest)?;
            match rest {
                ["dist-tags"] => Some(Target::DistTags(name)),
                ["dist-tags", tag] => Some(Target::DistTag(name, tag.to_string())),
                _ => None,
            }
        }
        ["-", ..] | [""] | [] => None,
        all => {
            let (name, rest) = split_name(all)?;
            let tarball = |file: &str, version: Option<&str>| Target::Tarball {
                name: name.clone(),
                file: file.to_string(),
                version: version.map(str::to_string),
            };
            match rest {
                [] => Some(Target::Package(name)),
                ["-rev", _] => Some(Target::PackageRev(name)),
                ["-disttag", tag] => Some(Target::DistTag(name, tag.to_string())),
                ["-", file] | ["-", file, "-rev", _] if !file.is_empty() => {
                    Some(tarball(file, None))
                }
                ["-", version, file] if !file.is_empty() => Some(tarball(file, Some(version))),
                [version] if !version.is_empty() && !version.starts_with('-') => {
                    Some(Target::Version(name, version.to_string()))
                }
                _ => None,
            }
        }
    }
}

/// The package name at the start of decoded segments, and the segments after it: `@scope/name`
/// (one decoded segment holding `/`, or two segments) or a bare name.
fn split_name<'a, 'b>(segments: &'a [&'b str]) -> Option<(String, &'a [&'b str])> {
    match segments {
        [first, rest @ ..] if first.starts_with('@') && first.contains('/') => {
            Some((first.to_string(), rest))
        }
        [scope, name, rest @ ..] if scope.starts_with('@') => {
            Some((format!("{scope}/{name}"), rest))
        }
        [name, rest @ ..] if !name.is_empty() => Some((name.to_string(), rest)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(name: &str) -> Option<Target> {
        Some(Target::Package(name.to_string()))
    }

    #[test]
    fn packuments_scoped_in_every_spelling() {
        assert_eq!(parse("/greet"), package("greet"));
        for spelling in [
            "/@acme%2fgreet",
            "/@acme%2Fgreet",
            "/%40acme%2Fgreet",
            "/@acme/greet",
        ] {
            assert_eq!(parse(spelling), package("@acme/greet"), "{spelling}");
        }
        // Decoded, then checked by the name rules (which refuse it).
        assert_eq!(parse("/%2e%2e"), package(".."));
    }

    #[test]
    fn versions_tags_and_tarballs() {
        let version = |n: &str, v: &str| Some(Target::Version(n.into(), v.into()));
        assert_eq!(parse("/greet/1.0.0"), version("greet", "1.0.0"));
        assert_eq!(
            parse("/@acme%2fgreet/latest"),
            version("@acme/greet", "latest")
        );
        assert_eq!(
            parse("/@acme/greet/latest"),
            version("@acme/greet", "latest")
        );
        let tarball = |n: &str, f: &str, v: Option<&str>| {
            Some(Target::Tarball {
                name: n.into(),
                file: f.into(),
                version: v.map(Into::into),
            })
        };
        assert_eq!(
            parse("/@acme/greet/-/greet-1.0.0.tgz"),
            tarball("@acme/greet", "greet-1.0.0.tgz", None)
        );
        assert_eq!(
            parse("/@acme%2Fgreet/-/greet-1.0.0.tgz"),
            tarball("@acme/greet", "greet-1.0.0.tgz", None)
        );
        assert_eq!(
            parse("/greet/-/1.0.0/greet-1.0.0.tgz"),
            tarball("greet", "greet-1.0.0.tgz", Some("1.0.0"))
        );
        assert_eq!(
            parse("/greet/-/greet-1.0.0.tgz/-rev/3-abc"),
            tarball("greet", "greet-1.0.0.tgz", None)
        );
        assert_eq!(
            parse("/@acme/greet/-rev/2-x"),
            Some(Target::PackageRev("@acme/greet".into()))
        );
    }

    #[test]
    fn tools_and_dist_tags() {
        assert_eq!(parse("/-/ping"), Some(Target::Ping));
        assert_eq!(parse("/-/whoami"), Some(Target::Whoami));
        assert_eq!(
            parse("/-/user/org.couchdb.user:alice"),
            Some(Target::User("alice".into()))
        );
        assert_eq!(parse("/-/v1/search"), Some(Target::Search));
        assert_eq!(
            parse("/-/npm/v1/security/audits/quick"),
            Some(Target::Audit)
        );
        assert_eq!(
            parse("/-/npm/v1/security/advisories/bulk"),
            Some(Target::Audit)
        );
        assert_eq!(parse("/-/package"), Some(Target::PublishAnywhere));
        assert_eq!(
            parse("/-/package/@acme%2fgreet/dist-tags"),
            Some(Target::DistTags("@acme/greet".into()))
        );
        assert_eq!(
            parse("/-/package/greet/dist-tags/beta"),
            Some(Target::DistTag("greet".into(), "beta".into()))
        );
        assert_eq!(
            parse("/@acme/greet/-disttag/beta"),
            Some(Target::DistTag("@acme/greet".into(), "beta".into()))
        );
    }

    #[test]
    fn nothing_else() {
        for path in [
            "",
            "/",
            "/-/nope",
            "/-/user/alice",
            "/greet/-/",
            "/greet/a/b",
            "/greet/-x",
            "/%ff",
            "/-/package/greet/other",
        ] {
            assert_eq!(parse(path), None, "{path}");
        }
    }
}

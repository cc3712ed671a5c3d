//! How each format names its packages and orders and matches its versions: the pure rules the
//! core needs to handle a package of any format (customer grants, collections, freezes, token
//! scopes, listings) without knowing the format. A format hands its rules to the core through
//! `Format::rules`; `Rulebook` holds them all, by format name.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::glob::glob_matches;
use crate::model::package_ref::PackageRef;
use crate::model::packages::Version;

/// A format's naming and versioning rules. Only `format` is required: the defaults suit a format
/// whose names are plain visible text and whose versions have no order beyond publication.
pub trait PackageRules: Send + Sync {
    /// The format's name in the model (`packages.format`).
    fn format(&self) -> &'static str;

    /// The stored form of a package name an admin typed (npm and Composer lower-case, NuGet
    /// case-insensitive ids, …); an error says what is wrong with it.
    fn normalize_name(&self, name: &str) -> Result<String> {
        let name = name.trim();
        if name.is_empty() || name.len() > 255 {
            return Err(Error::invalid("package name must be 1 to 255 characters"));
        }
        crate::text::check_visible("package name", name)?;
        Ok(name.to_string())
    }

    /// A grant's version constraint. The default is the format-neutral one: `*` (every version)
    /// or a glob over version names (`2.0.0`, `1.4.*`).
    fn version_range(&self, constraint: &str) -> Result<Arc<dyn VersionRange>> {
        Ok(Arc::new(GlobRange::parse(constraint)?))
    }

    /// The newest release among a package's versions, by the ecosystem's version order
    /// (listings show it); `None` leaves them the version published last.
    fn latest_release(&self, _versions: &[Version]) -> Option<String> {
        None
    }

    /// The owner whose packages of this format the customer API names by their bare name
    /// (`{"package": "vendor/name"}`): Cargoman's documented grant shape predates other formats.
    /// At most one format claims bare names.
    fn bare_name_owner(&self) -> Option<&'static str> {
        None
    }
}

/// The rules of a format that keeps every default.
pub struct PlainRules(pub &'static str);

impl PackageRules for PlainRules {
    fn format(&self) -> &'static str {
        self.0
    }
}

/// The versions one grant constraint allows, in its format's terms.
pub trait VersionRange: Send + Sync {
    /// `version` is the version's name as the package stores it (`1.2.0`, `dev-main`).
    fn matches(&self, version: &str) -> bool;
}

/// `*` or a glob over version names: what a constraint means in a format without ranges.
#[derive(Debug, Clone)]
pub struct GlobRange(String);

impl GlobRange {
    pub fn parse(constraint: &str) -> Result<GlobRange> {
        let constraint = constraint.trim();
        if constraint.is_empty() || constraint.len() > 255 || constraint.contains('/') {
            return Err(Error::invalid(format!(
                "constraint {constraint:?} must be \"*\", a version, or a version glob such as 1.4.*"
            )));
        }
        crate::text::check_visible("constraint", constraint)?;
        Ok(GlobRange(constraint.to_string()))
    }
}

impl VersionRange for GlobRange {
    fn matches(&self, version: &str) -> bool {
        self.0 == "*" || (!version.contains('/') && glob_matches(&self.0, version))
    }
}

/// A package as the customer API names it: `{"format", "owner", "package"}`, or only `package`
/// for the format that claims bare names.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageName {
    pub format: Option<String>,
    pub owner: Option<String>,
    pub package: String,
}

impl PackageName {
    /// A package named bare (`vendor/name`).
    pub fn bare(package: &str) -> PackageName {
        PackageName {
            package: package.to_string(),
            ..PackageName::default()
        }
    }
}

/// Every format's rules, by format name.
#[derive(Clone, Default)]
pub struct Rulebook {
    by_format: HashMap<&'static str, Arc<dyn PackageRules>>,
    /// The format that claims bare names, with its owner.
    bare: Option<(&'static str, &'static str)>,
}

impl Rulebook {
    pub fn new(rules: impl IntoIterator<Item = Arc<dyn PackageRules>>) -> Rulebook {
        let mut book = Rulebook::default();
        for rules in rules {
            if let Some(owner) = rules.bare_name_owner() {
                book.bare = Some((rules.format(), owner));
            }
            book.by_format.insert(rules.format(), rules);
        }
        book
    }

    /// The rules of `format`; an unknown format is a client error naming the known ones.
    pub fn get(&self, format: &str) -> Result<&Arc<dyn PackageRules>> {
        self.by_format.get(format).ok_or_else(|| {
            let mut known: Vec<&str> = self.by_format.keys().copied().collect();
            known.sort_unstable();
            Error::invalid(format!(
                "unknown format {format:?}; this server knows {}",
                known.join(", ")
            ))
        })
    }

    /// The (format, owner) whose packages are named bare, if a format claims them.
    pub fn bare(&self) -> Option<(&'static str, &'static str)> {
        self.bare
    }

    /// Checks a package name as the API gives it and returns the package it means: an absent
    /// format means the bare-name format, an absent owner that format's owner.
    pub fn resolve(&self, name: &PackageName) -> Result<PackageRef> {
        let bare = self.bare;
        let format = match (&name.format, bare) {
            (Some(format), _) => format.trim(),
            (None, Some((format, _))) => format,
            (None, None) => return Err(Error::invalid("a package needs its \"format\"")),
        };
        let rules = self.get(format)?;
        let owner = match (&name.owner, bare) {
            (Some(owner), _) => owner.trim().to_lowercase(),
            (None, Some((bare_format, owner))) if bare_format == format => owner.to_string(),
            (None, _) => {
                return Err(Error::invalid(format!(
                    "a {format} package needs its \"owner\""
                )));
            }
        };
        crate::model::owners::check_owner_name(&owner)?;
        Ok(PackageRef {
            name: rules.normalize_name(&name.package)?,
            owner,
            format: rules.format().to_string(),
        })
    }

    /// Whether `package` is one the API names bare.
    pub fn is_bare(&self, package: &PackageRef) -> bool {
        self.bare
            .is_some_and(|(format, owner)| package.format == format && package.owner == owner)
    }

    /// How the API shows a package: its bare name, or `{"format", "owner", "package"}`.
    pub fn describe(&self, package: &PackageRef) -> Value {
        if self.is_bare(package) {
            json!(package.name)
        } else {
            Value::Object(self.fields(package))
        }
    }

    /// The fields naming a package inside a larger object (a grant, a frozen version):
    /// `package`, and `format` and `owner` unless the package is named bare.
    pub fn fields(&self, package: &PackageRef) -> Map<String, Value> {
        let mut fields = Map::new();
        if !self.is_bare(package) {
            fields.insert("format".into(), json!(package.format));
            fields.insert("owner".into(), json!(package.owner));
        }
        fields.insert("package".into(), json!(package.name));
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Bare;
    impl PackageRules for Bare {
        fn format(&self) -> &'static str {
            "bare"
        }
        fn normalize_name(&self, name: &str) -> Result<String> {
            Ok(name.trim().to_lowercase())
        }
        fn bare_name_owner(&self) -> Option<&'static str> {
            Some("house")
        }
    }

    struct Plain;
    impl PackageRules for Plain {
        fn format(&self) -> &'static str {
            "plain"
        }
    }

    fn book() -> Rulebook {
        Rulebook::new([
            Arc::new(Bare) as Arc<dyn PackageRules>,
            Arc::new(Plain) as Arc<dyn PackageRules>,
        ])
    }

    fn name(format: Option<&str>, owner: Option<&str>, package: &str) -> PackageName {
        PackageName {
            format: format.map(str::to_string),
            owner: owner.map(str::to_string),
            package: package.to_string(),
        }
    }

    #[test]
    fn bare_names_mean_the_claiming_format() {
        let book = book();
        let r = book.resolve(&name(None, None, "Acme/Core")).unwrap();
        assert_eq!((r.owner.as_str(), r.format.as_str()), ("house", "bare"));
        assert_eq!(r.name, "acme/core");
        assert!(book.is_bare(&r));
        assert_eq!(book.describe(&r), json!("acme/core"));
    }

    #[test]
    fn other_formats_need_their_owner() {
        let book = book();
        let r = book
            .resolve(&name(Some("plain"), Some("Acme"), "tool"))
            .unwrap();
        assert_eq!((r.owner.as_str(), r.name.as_str()), ("acme", "tool"));
        assert_eq!(
            book.describe(&r),
            json!({"format": "plain", "owner": "acme", "package": "tool"})
        );
        let missing = book.resolve(&name(Some("plain"), None, "tool"));
        assert!(matches!(missing, Err(Error::Validation(m)) if m.contains("owner")));
        let unknown = book.resolve(&name(Some("nope"), Some("a"), "tool"));
        assert!(matches!(unknown, Err(Error::Validation(m)) if m.contains("bare, plain")));
        assert!(
            book.resolve(&name(Some("plain"), Some("../x"), "t"))
                .is_err()
        );
        assert!(
            book.resolve(&name(Some("plain"), Some("a"), "bad\u{202e}name"))
                .is_err()
        );
    }

    #[test]
    fn a_bare_format_names_other_owners_explicitly() {
        let book = book();
        let r = book
            .resolve(&name(Some("bare"), Some("team"), "a/b"))
            .unwrap();
        assert!(!book.is_bare(&r));
        let home = book.resolve(&name(Some("bare"), None, "a/b")).unwrap();
        assert!(book.is_bare(&home));
    }

    #[test]
    fn glob_ranges_match_version_names() {
        let any = GlobRange::parse("*").unwrap();
        assert!(any.matches("1.0") && any.matches("anything"));
        let minor = GlobRange::parse("1.4.*").unwrap();
        assert!(minor.matches("1.4.0") && minor.matches("1.4.12"));
        assert!(!minor.matches("1.5.0"));
        let exact = GlobRange::parse(" 2.0.0 ").unwrap();
        assert!(exact.matches("2.0.0") && !exact.matches("2.0.01"));
        assert!(GlobRange::parse("").is_err());
        assert!(GlobRange::parse("a/b").is_err());
    }
}

//! Where a pacman package lives: an owner's repository and one of its architectures (an
//! "arch-repo", served by pacman as `{repository}.db` under `…/{arch}/`). Vieter's repo is an
//! owner with one repository of the same name; Gitea's owners hold several. In the model an
//! arch-repo is the qualifier `{repository}/{arch}` of the files it lists, and its rendered
//! documents are named after it.

use super::filename::Database;
use crate::error::{Error, Result};

/// An owner's repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repository<'a> {
    pub owner: &'a str,
    pub name: &'a str,
}

/// One architecture of a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchRepo<'a> {
    pub repository: Repository<'a>,
    pub arch: &'a str,
}

impl ArchRepo<'_> {
    /// The qualifier of its files and the suffix of its documents' names.
    pub fn qualifier(&self) -> String {
        qualifier(self.repository.name, self.arch)
    }
}

pub fn qualifier(repository: &str, arch: &str) -> String {
    format!("{repository}/{arch}")
}

/// The stored name of a file listed in the arch-repo `qualifier`: file names are unique per
/// version, and a package built for any architecture is listed in several arch-repos.
pub fn stored_name(qualifier: &str, filename: &str) -> String {
    format!("{qualifier}/{filename}")
}

/// The file name a stored name ends with.
pub fn base_name(stored: &str) -> &str {
    stored.rsplit('/').next().unwrap_or(stored)
}

/// The repository document whose every change marks a new state of the arch-repo's databases
/// (its ETag keys their assembled copies); it exists from the arch-repo's first package until
/// the arch-repo is deleted.
pub fn head_document(qualifier: &str) -> String {
    format!("head:{qualifier}")
}

/// The prefix of the heads of a repository's arch-repos.
pub fn heads_of(repository: &str) -> String {
    format!("head:{repository}/")
}

/// The package document holding the package's entry (a gzip member) in one database of an
/// arch-repo.
pub fn entry_document(database: Database, qualifier: &str) -> String {
    match database {
        Database::Packages => format!("db:{qualifier}"),
        Database::Files => format!("files:{qualifier}"),
    }
}

/// The arch-repo an entry document names; None for other documents.
pub fn qualifier_of_entry(document: &str) -> Option<&str> {
    document.strip_prefix("db:")
}

/// Repository names as pacman's configuration can name them (a `[section]`) and a URL segment
/// carries them safely: letters, digits, `.`, `_`, `-`, `+`, `@`, not starting with a dot or a
/// hyphen, at most 64 characters. `reserved` are the first path segments other routes take.
pub fn check_repository_name(name: &str, reserved: &[&str]) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+@".contains(&b));
    if !valid {
        return Err(Error::invalid(format!(
            "invalid repository name {name:?}: use letters, digits, '.', '_', '-', '+' or '@', \
             not starting with '.' or '-', at most 64 characters"
        )));
    }
    if reserved.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(Error::invalid(format!(
            "repository name {name:?} is reserved: the server's own routes start with it \
             (reserved: {})",
            reserved.join(", ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_arch_repo() {
        let at = ArchRepo {
            repository: Repository {
                owner: "acme",
                name: "core",
            },
            arch: "x86_64",
        };
        let q = at.qualifier();
        assert_eq!(q, "core/x86_64");
        assert_eq!(
            stored_name(&q, "a-1-1-any.pkg.tar.zst"),
            "core/x86_64/a-1-1-any.pkg.tar.zst"
        );
        assert_eq!(
            base_name("core/x86_64/a-1-1-any.pkg.tar.zst"),
            "a-1-1-any.pkg.tar.zst"
        );
        assert_eq!(head_document(&q), "head:core/x86_64");
        assert!(head_document(&q).starts_with(&heads_of("core")));
        assert_eq!(entry_document(Database::Packages, &q), "db:core/x86_64");
        assert_eq!(entry_document(Database::Files, &q), "files:core/x86_64");
        assert_eq!(qualifier_of_entry("db:core/x86_64"), Some("core/x86_64"));
        assert_eq!(qualifier_of_entry("files:core/x86_64"), None);
    }

    #[test]
    fn repository_names_are_checked_and_reserved_ones_refused() {
        let reserved = ["api", "v2", "packages.json"];
        for good in ["bur", "my-repo", "repo.d", "a_b+c@d", "V2x"] {
            assert!(check_repository_name(good, &reserved).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".hidden",
            "-x",
            "a/b",
            "..",
            "a b",
            "a%2f",
            &"x".repeat(65),
        ] {
            let err = check_repository_name(bad, &reserved).unwrap_err();
            assert!(
                err.to_string().contains("invalid repository name"),
                "{bad}: {err}"
            );
        }
        for taken in ["api", "V2", "packages.json"] {
            let err = check_repository_name(taken, &reserved).unwrap_err();
            assert!(err.to_string().contains("reserved"), "{taken}: {err}");
        }
    }
}

//! What a stored pacman file records on its row: a package file its `.PKGINFO` and file list
//! (everything its database entries are rendered from, so no render re-reads a package), a
//! signature nothing. A package built for several arch-repos has a row, with the same content,
//! in each.

use serde::{Deserialize, Serialize};

use super::pkginfo::PkgInfo;
use crate::error::{Error, Result};
use crate::model::packages::File;

/// The `kind` of a package file.
pub const PACKAGE: &str = "package";
/// The `kind` of a detached signature (`{package file}.sig`).
pub const SIGNATURE: &str = "signature";
/// Largest detached signature accepted (an OpenPGP signature is a few hundred bytes).
pub const MAX_SIGNATURE: u64 = 16 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackageMetadata {
    pub info: PkgInfo,
    /// The paths the package installs, as its `files` entry lists them.
    pub files: Vec<String>,
}

impl PackageMetadata {
    pub fn of(file: &File) -> Result<PackageMetadata> {
        serde_json::from_value(file.details.metadata.clone()).map_err(|e| {
            Error::internal(format!("stored metadata of {} unreadable: {e}", file.name))
        })
    }
}

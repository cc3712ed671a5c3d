//! pacman's rules for the core: package names as pacman allows them, the newest version by
//! `vercmp` (epochs and pkgrel included). Grant constraints keep the core's default: `*`, one
//! version, or a glob over versions (`2.0-*`).

use std::cmp::Ordering;

use super::pkginfo::check_name;
use super::vercmp::vercmp;
use crate::error::Result;
use crate::model::packages::Version;
use crate::package_rules::PackageRules;

pub struct PacmanRules;

impl PackageRules for PacmanRules {
    fn format(&self) -> &'static str {
        super::FORMAT
    }

    fn normalize_name(&self, name: &str) -> Result<String> {
        let name = name.trim();
        check_name(name)?;
        Ok(name.to_string())
    }

    fn latest_release(&self, versions: &[Version]) -> Option<String> {
        versions
            .iter()
            .max_by(|a, b| match vercmp(&a.version, &b.version) {
                Ordering::Equal => a.created_at.cmp(&b.created_at),
                other => other,
            })
            .map(|v| v.version.clone())
    }
}

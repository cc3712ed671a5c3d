//! Re-rendering a module's two documents after any change to it: `list` (its tagged versions,
//! one a line, as `@v/list` serves them) and `latest` (the `.info` of the version `@latest`
//! names), so neither read costs work proportional to the version count. The reads happen in
//! the writing transaction under the package's row lock, so concurrent changes render one after
//! the other.

use std::sync::Arc;

use super::FORMAT;
use super::rules::latest;
use super::version::GoVersion;
use crate::error::Result;
use crate::model::documents;
use crate::model::{owners, packages};
use crate::registry::{Change, Registry, RenderHook};

/// The stored `@v/list`.
pub const LIST: &str = "list";
/// The stored `@latest`.
pub const LATEST: &str = "latest";

pub fn hook() -> RenderHook {
    Arc::new(|registry, change| Box::pin(async move { render(&registry, &change).await }))
}

/// A version's `.info`: `{"Version","Time"}`.
pub fn info(version: &str, created_at: i64) -> String {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Info<'a> {
        version: &'a str,
        time: String,
    }
    let info = Info {
        version,
        time: crate::clock::rfc3339(created_at),
    };
    serde_json::to_string(&info).expect("plain strings serialize")
}

/// `@v/list` of `versions`: the tagged ones (pseudo-versions name commits, not releases), in
/// SemVer order.
pub fn list<'a>(versions: impl Iterator<Item = &'a GoVersion>) -> String {
    let mut tagged: Vec<&GoVersion> = versions.filter(|v| !v.is_pseudo()).collect();
    tagged.sort();
    tagged.iter().map(|v| format!("{v}\n")).collect()
}

async fn render(registry: &Registry, change: &Change) -> Result<()> {
    let mut tx = registry.db.begin_write().await?;
    let Some(owner) = owners::get(&mut tx, change.owner_id).await? else {
        return Ok(());
    };
    let package = packages::find_package(&mut tx, owner.id, FORMAT, &change.package).await?;
    let Some(package) = package else {
        registry
            .documents
            .forget_package(&owner.name, FORMAT, &change.package);
        return Ok(());
    };
    packages::lock_package(&mut tx, package.id).await?;
    let rows = packages::all_versions(&mut tx, package.id).await?;
    let versions: Vec<(GoVersion, i64)> = rows
        .iter()
        .filter_map(|v| Some((GoVersion::parse(&v.version).ok()?, v.created_at)))
        .collect();
    let scope = package.document_scope();
    let names: Vec<GoVersion> = versions.iter().map(|(v, _)| v.clone()).collect();
    documents::put(&mut tx, scope, LIST, list(names.iter()).as_bytes()).await?;
    if let Some(newest) = latest(&names)
        && let Some((_, created_at)) = versions.iter().find(|(v, _)| v.as_str() == newest.as_str())
    {
        documents::put(
            &mut tx,
            scope,
            LATEST,
            info(newest.as_str(), *created_at).as_bytes(),
        )
        .await?;
    }
    tx.commit().await?;
    registry
        .documents
        .forget_package(&owner.name, FORMAT, &package.name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_holds_tagged_versions_in_order() {
        let versions: Vec<GoVersion> = [
            "v1.10.0",
            "v0.0.0-20191109021931-daa7c04131f5",
            "v1.2.0",
            "v1.2.0-rc.1",
        ]
        .iter()
        .map(|v| GoVersion::parse(v).unwrap())
        .collect();
        assert_eq!(list(versions.iter()), "v1.2.0-rc.1\nv1.2.0\nv1.10.0\n");
        assert_eq!(list([].iter()), "");
    }

    #[test]
    fn info_names_version_and_time() {
        assert_eq!(
            info("v1.0.0", 0),
            r#"{"Version":"v1.0.0","Time":"1970-01-01T00:00:00Z"}"#
        );
    }
}

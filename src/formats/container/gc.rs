//! The Container registry's garbage collection (`Format::collector`): with
//! `GC_COLLECT_UNTAGGED`, the manifests no tag points at and nothing kept refers to (an index
//! naming them, a subject they are a referrer of) go first; then the layers no manifest names
//! any more are released (`Registry::release_unversioned_holds`), and `gc` removes the blobs
//! nothing holds. Everything younger than the grace period stays: a push in progress may be
//! about to tag or name it.

use std::collections::HashSet;

use serde_json::Value;

use super::FORMAT;
use crate::error::Result;
use crate::model::packages::Version;
use crate::registry::Registry;

/// Runs the collection; returns how many manifests and layer holds went.
pub async fn collect(registry: Registry, cutoff: i64, untagged: bool) -> Result<usize> {
    let mut released = 0;
    if untagged {
        for package in registry.packages_of_format(FORMAT).await? {
            let versions = registry.versions(package.id).await?;
            let tagged: HashSet<i64> = registry
                .tags(package.id)
                .await?
                .iter()
                .map(|t| t.version_id)
                .collect();
            for id in unreferenced(&versions, &tagged, cutoff) {
                registry.remove_version(id).await?;
                released += 1;
            }
        }
    }
    Ok(released + registry.release_unversioned_holds(FORMAT, cutoff).await?)
}

/// The manifests to remove among a repository's: older than `cutoff`, not tagged, not named by
/// a kept index, not a referrer of a kept manifest.
pub fn unreferenced(versions: &[Version], tagged: &HashSet<i64>, cutoff: i64) -> Vec<i64> {
    let mut kept: HashSet<i64> = versions
        .iter()
        .filter(|v| tagged.contains(&v.id) || v.created_at >= cutoff)
        .map(|v| v.id)
        .collect();
    // What the kept ones name (and what names a kept one as subject) is kept too, until nothing
    // more is added: indexes of indexes, referrers of referrers.
    loop {
        let names: HashSet<&str> = versions
            .iter()
            .filter(|v| kept.contains(&v.id))
            .flat_map(|v| {
                let pushed = v.metadata.get("digest").and_then(Value::as_str);
                [Some(v.version.as_str()), pushed].into_iter().flatten()
            })
            .collect();
        let named: HashSet<&str> = versions
            .iter()
            .filter(|v| kept.contains(&v.id))
            .flat_map(children)
            .collect();
        let more: Vec<i64> = versions
            .iter()
            .filter(|v| !kept.contains(&v.id))
            .filter(|v| {
                named.contains(v.version.as_str()) || subject(v).is_some_and(|s| names.contains(s))
            })
            .map(|v| v.id)
            .collect();
        if more.is_empty() {
            break;
        }
        kept.extend(more);
    }
    versions
        .iter()
        .filter(|v| !kept.contains(&v.id))
        .map(|v| v.id)
        .collect()
}

fn children(version: &Version) -> impl Iterator<Item = &str> {
    version
        .metadata
        .get("manifests")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn subject(version: &Version) -> Option<&str> {
    version.metadata.get("subject").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn version(id: i64, created_at: i64, metadata: Value) -> Version {
        Version {
            id,
            package_id: 1,
            version: format!("sha256:{id}"),
            metadata,
            download_count: 0,
            created_at,
        }
    }

    #[test]
    fn untagged_manifests_go_unless_something_kept_refers_to_them() {
        let versions = [
            version(1, 0, json!({})),                          // tagged
            version(2, 0, json!({})),                          // untagged, alone
            version(3, 0, json!({"manifests": ["sha256:4"]})), // tagged index
            version(4, 0, json!({})),                          // its child
            version(5, 0, json!({"subject": "sha256:1"})),     // referrer of 1
            version(6, 0, json!({"subject": "sha256:5"})),     // referrer of 5
            version(7, 0, json!({"subject": "sha256:2"})),     // referrer of a gone one
            version(8, 0, json!({"manifests": ["sha256:9"]})), // untagged index
            version(9, 0, json!({})),                          // its child
            version(10, 100, json!({})),                       // young
            version(11, 0, json!({"digest": "sha512:x"})),     // pushed by SHA-512
            version(12, 0, json!({"subject": "sha512:x"})),    // its referrer
        ];
        let tagged: HashSet<i64> = [1, 3, 11].into();
        let mut gone = unreferenced(&versions, &tagged, 50);
        gone.sort();
        assert_eq!(gone, [2, 7, 8, 9]);
    }
}

//! `maven-metadata.xml`: the artifact's (every version in Maven's order, `latest`, `release`)
//! and a SNAPSHOT version's (its latest build and the file of each classifier and extension in
//! it), written by the registry from what it stores and read back to cut a customer's copy or to
//! check an uploaded one. quick-xml's serde support does both directions. Pure.

use serde::{Deserialize, Serialize};

use super::layout::Build;
use super::version::{MavenVersion, is_snapshot};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename = "metadata", rename_all = "camelCase")]
pub struct Metadata {
    pub group_id: String,
    /// Empty in a group's metadata (the plugin prefixes a Maven plugin's deploy uploads).
    #[serde(default)]
    pub artifact_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default)]
    pub versioning: Versioning,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Versioning {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Snapshot>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Versions>,
    #[serde(default)]
    pub last_updated: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_versions: Option<SnapshotVersions>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Versions {
    #[serde(default)]
    pub version: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub timestamp: String,
    pub build_number: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotVersions {
    #[serde(default)]
    pub snapshot_version: Vec<SnapshotVersion>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct SnapshotVersion {
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub classifier: String,
    pub extension: String,
    pub value: String,
    pub updated: String,
}

/// Maven's `lastUpdated` form of a time (`yyyyMMddHHmmss`, UTC).
pub fn last_updated(epoch: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y%m%d%H%M%S")
        .to_string()
}

impl Metadata {
    /// An artifact's metadata: `versions` sorted into Maven's order, the highest as `latest`
    /// and the highest that is not a SNAPSHOT as `release`.
    pub fn artifact(group: &str, artifact: &str, versions: &[String], updated: i64) -> Metadata {
        let mut sorted: Vec<MavenVersion> =
            versions.iter().map(|v| MavenVersion::parse(v)).collect();
        sorted.sort();
        let release = sorted
            .iter()
            .rev()
            .find(|v| !is_snapshot(v.as_str()))
            .map(|v| v.as_str().to_string());
        Metadata {
            group_id: group.to_string(),
            artifact_id: artifact.to_string(),
            version: None,
            versioning: Versioning {
                latest: sorted.last().map(|v| v.as_str().to_string()),
                release,
                versions: Some(Versions {
                    version: sorted.iter().map(|v| v.as_str().to_string()).collect(),
                }),
                last_updated: last_updated(updated),
                ..Versioning::default()
            },
        }
    }

    /// A SNAPSHOT version's metadata from its timestamped files (build, classifier, extension):
    /// the newest build is the snapshot, and each classifier and extension points at its newest
    /// file. `None` when no file is timestamped (only non-unique SNAPSHOT files were deployed).
    pub fn snapshot(
        group: &str,
        artifact: &str,
        version: &str,
        files: &[(Build, String, String)],
    ) -> Option<Metadata> {
        let newest = files
            .iter()
            .map(|(b, _, _)| b)
            .max_by_key(|b| build_key(b))?;
        let mut latest: Vec<&(Build, String, String)> = Vec::new();
        for file in files {
            match latest
                .iter_mut()
                .find(|(_, c, e)| *c == file.1 && *e == file.2)
            {
                Some(seen) if build_key(&seen.0) >= build_key(&file.0) => {}
                Some(seen) => *seen = file,
                None => latest.push(file),
            }
        }
        latest.sort_by(|a, b| (&a.1, &a.2).cmp(&(&b.1, &b.2)));
        let updated = |b: &Build| b.timestamp.replace('.', "");
        Some(Metadata {
            group_id: group.to_string(),
            artifact_id: artifact.to_string(),
            version: Some(version.to_string()),
            versioning: Versioning {
                snapshot: Some(Snapshot {
                    timestamp: newest.timestamp.clone(),
                    build_number: newest.number,
                }),
                last_updated: updated(newest),
                snapshot_versions: Some(SnapshotVersions {
                    snapshot_version: latest
                        .into_iter()
                        .map(|(build, classifier, extension)| SnapshotVersion {
                            classifier: classifier.clone(),
                            extension: extension.clone(),
                            value: build.version(version),
                            updated: updated(build),
                        })
                        .collect(),
                }),
                ..Versioning::default()
            },
        })
    }

    /// The document, with its XML declaration.
    pub fn to_xml(&self) -> String {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let mut serializer = quick_xml::se::Serializer::new(&mut xml);
        serializer.indent(' ', 2);
        self.serialize(serializer)
            .expect("metadata serializes: plain strings and numbers");
        xml.push('\n');
        xml
    }

    pub fn parse(bytes: &[u8]) -> Result<Metadata> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::invalid("maven-metadata.xml is not UTF-8 text"))?;
        quick_xml::de::from_str(text)
            .map_err(|e| Error::invalid(format!("maven-metadata.xml is not valid: {e}")))
    }

    /// The artifact's metadata as someone sees it who may read only the versions `allowed`
    /// lets through (`latest` and `release` among them).
    pub fn retain_versions(&self, allowed: impl Fn(&str) -> bool) -> Metadata {
        let versions = self
            .versioning
            .versions
            .as_ref()
            .map(|v| v.version.as_slice())
            .unwrap_or_default();
        let kept: Vec<String> = versions.iter().filter(|v| allowed(v)).cloned().collect();
        let mut cut = Metadata::artifact(&self.group_id, &self.artifact_id, &kept, 0);
        cut.versioning.last_updated = self.versioning.last_updated.clone();
        cut
    }
}

/// Newer builds have higher numbers; the timestamp breaks ties.
fn build_key(build: &Build) -> (u32, &str) {
    (build.number, build.timestamp.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn artifact_metadata_in_maven_order() {
        let meta = Metadata::artifact(
            "com.example",
            "lib",
            &strings(&["1.0.1", "1.0", "1.0-SNAPSHOT", "1.0-beta", "1.1-SNAPSHOT"]),
            1_796_116_210,
        );
        let xml = meta.to_xml();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata>"));
        assert!(xml.contains("<groupId>com.example</groupId>"), "{xml}");
        assert!(xml.contains("<latest>1.1-SNAPSHOT</latest>"), "{xml}");
        assert!(xml.contains("<release>1.0.1</release>"), "{xml}");
        assert!(
            xml.contains("<lastUpdated>20261201091010</lastUpdated>"),
            "{xml}"
        );
        let parsed = Metadata::parse(xml.as_bytes()).unwrap();
        assert_eq!(parsed, meta);
        assert_eq!(
            parsed.versioning.versions.unwrap().version,
            strings(&["1.0-beta", "1.0-SNAPSHOT", "1.0", "1.0.1", "1.1-SNAPSHOT"])
        );
    }

    #[test]
    fn a_customer_cut_keeps_only_allowed_versions() {
        let meta = Metadata::artifact("g", "a", &strings(&["1.0", "2.0", "3.0-SNAPSHOT"]), 0);
        let cut = meta.retain_versions(|v| v == "1.0");
        assert_eq!(cut.versioning.latest.as_deref(), Some("1.0"));
        assert_eq!(cut.versioning.release.as_deref(), Some("1.0"));
        assert_eq!(cut.versioning.versions.unwrap().version, strings(&["1.0"]));
        let none = meta.retain_versions(|_| false);
        assert_eq!(none.versioning.latest, None);
    }

    #[test]
    fn snapshot_metadata_points_at_the_newest_builds() {
        let build = |ts: &str, n| Build {
            timestamp: ts.to_string(),
            number: n,
        };
        let files = vec![
            (
                build("20261201.101010", 1),
                String::new(),
                "jar".to_string(),
            ),
            (
                build("20261201.101010", 1),
                String::new(),
                "pom".to_string(),
            ),
            (
                build("20261201.111111", 2),
                String::new(),
                "jar".to_string(),
            ),
            (
                build("20261201.111111", 2),
                String::new(),
                "pom".to_string(),
            ),
            (
                build("20261201.101010", 1),
                "sources".to_string(),
                "jar".to_string(),
            ),
        ];
        let meta = Metadata::snapshot("g", "a", "1.0-SNAPSHOT", &files).unwrap();
        let snapshot = meta.versioning.snapshot.clone().unwrap();
        assert_eq!(
            (snapshot.timestamp.as_str(), snapshot.build_number),
            ("20261201.111111", 2)
        );
        let entries = meta
            .versioning
            .snapshot_versions
            .clone()
            .unwrap()
            .snapshot_version;
        let values: Vec<(&str, &str, &str)> = entries
            .iter()
            .map(|e| {
                (
                    e.classifier.as_str(),
                    e.extension.as_str(),
                    e.value.as_str(),
                )
            })
            .collect();
        assert_eq!(
            values,
            [
                ("", "jar", "1.0-20261201.111111-2"),
                ("", "pom", "1.0-20261201.111111-2"),
                ("sources", "jar", "1.0-20261201.101010-1"),
            ]
        );
        let xml = meta.to_xml();
        assert!(xml.contains("<version>1.0-SNAPSHOT</version>"), "{xml}");
        assert!(xml.contains("<buildNumber>2</buildNumber>"), "{xml}");
        assert_eq!(Metadata::parse(xml.as_bytes()).unwrap(), meta);
        assert!(Metadata::snapshot("g", "a", "1.0-SNAPSHOT", &[]).is_none());
    }

    #[test]
    fn uploaded_metadata_is_read() {
        let uploaded = br#"<?xml version="1.0" encoding="UTF-8"?>
<metadata modelVersion="1.1.0">
  <groupId>g</groupId><artifactId>a</artifactId>
  <versioning><release>1.0</release><versions><version>1.0</version></versions>
  <lastUpdated>20261201101010</lastUpdated></versioning>
</metadata>"#;
        let meta = Metadata::parse(uploaded).unwrap();
        assert_eq!(
            (meta.group_id.as_str(), meta.artifact_id.as_str()),
            ("g", "a")
        );
        assert!(Metadata::parse(b"<metadata>").is_err());
        assert!(Metadata::parse(b"plain text").is_err());
    }
}

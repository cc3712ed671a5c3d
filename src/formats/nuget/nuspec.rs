//! A package's `.nuspec`, read with quick-xml's serde support: the facts the feeds serve (id,
//! version, authors, description, dependency groups by target framework, license, icon, readme,
//! release notes, …). Unknown elements are ignored, as NuGet's own reader does with newer
//! schema additions. Pure.

use serde::{Deserialize, Serialize};

use super::rules::check_id;
use super::version::NuGetVersion;
use crate::error::{Error, Result};

/// What the feeds need from a nuspec, as stored in the version's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Nuspec {
    /// As written (the registry's id is its lower-case form).
    pub id: String,
    /// Normalized (`1.0` → `1.0.0`), release label as written.
    pub version: String,
    /// With build metadata, for SemVer 2 clients.
    pub full_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub authors: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub owners: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub release_notes: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub project_url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub license_url: String,
    /// A license expression (`MIT`) or the path of a license file inside the package.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub license: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub license_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon_url: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub readme: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tags: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub copyright: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub language: String,
    #[serde(default)]
    pub require_license_acceptance: bool,
    #[serde(default)]
    pub prerelease: bool,
    #[serde(default)]
    pub dependency_groups: Vec<DependencyGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DependencyGroup {
    /// "" for dependencies that hold for every framework.
    #[serde(default)]
    pub target_framework: String,
    pub dependencies: Vec<Dependency>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dependency {
    pub id: String,
    /// As written (a NuGet range; "" means any version).
    #[serde(default)]
    pub range: String,
}

#[derive(Deserialize)]
struct PackageXml {
    metadata: MetadataXml,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct MetadataXml {
    id: String,
    version: String,
    title: String,
    authors: String,
    owners: String,
    description: String,
    summary: String,
    release_notes: String,
    project_url: String,
    license_url: String,
    license: Option<LicenseXml>,
    icon: String,
    icon_url: String,
    readme: String,
    tags: String,
    copyright: String,
    language: String,
    require_license_acceptance: String,
    dependencies: Option<DependenciesXml>,
}

#[derive(Deserialize)]
struct LicenseXml {
    #[serde(rename = "@type", default)]
    kind: String,
    #[serde(rename = "$text", default)]
    value: String,
}

#[derive(Deserialize, Default)]
struct DependenciesXml {
    #[serde(rename = "$value", default)]
    items: Vec<DependencyItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum DependencyItem {
    Group(GroupXml),
    Dependency(DependencyXml),
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct GroupXml {
    #[serde(rename = "@targetFramework", default)]
    target_framework: String,
    #[serde(rename = "dependency", default)]
    dependencies: Vec<DependencyXml>,
}

#[derive(Deserialize)]
struct DependencyXml {
    #[serde(rename = "@id", default)]
    id: String,
    #[serde(rename = "@version", default)]
    version: String,
}

fn dependency(xml: DependencyXml) -> Result<Dependency> {
    check_id(&xml.id).map_err(|e| Error::invalid(format!("a dependency: {e}")))?;
    Ok(Dependency {
        id: xml.id,
        range: xml.version.trim().to_string(),
    })
}

/// Reads a nuspec; a refusal names what is wrong (not XML, no id, an invalid id or version).
pub fn parse(bytes: &[u8]) -> Result<Nuspec> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .map_err(|_| Error::invalid("the nuspec is not UTF-8"))?;
    let package: PackageXml = quick_xml::de::from_str(text)
        .map_err(|e| Error::invalid(format!("the nuspec is not a valid package manifest: {e}")))?;
    let m = package.metadata;
    let id = m.id.trim().to_string();
    check_id(&id)?;
    let version = NuGetVersion::parse(&m.version)?;
    let mut groups = Vec::new();
    let mut ungrouped = Vec::new();
    for item in m.dependencies.unwrap_or_default().items {
        match item {
            DependencyItem::Group(group) => groups.push(DependencyGroup {
                target_framework: group.target_framework.trim().to_string(),
                dependencies: group
                    .dependencies
                    .into_iter()
                    .map(dependency)
                    .collect::<Result<_>>()?,
            }),
            DependencyItem::Dependency(d) => ungrouped.push(dependency(d)?),
            DependencyItem::Other => {}
        }
    }
    if !ungrouped.is_empty() {
        groups.insert(
            0,
            DependencyGroup {
                target_framework: String::new(),
                dependencies: ungrouped,
            },
        );
    }
    let (license, license_type) = m
        .license
        .map(|l| (l.value.trim().to_string(), l.kind.trim().to_string()))
        .unwrap_or_default();
    let text = |s: String| s.trim().to_string();
    Ok(Nuspec {
        id,
        version: version.normalized(),
        full_version: version.full(),
        prerelease: version.is_prerelease(),
        title: text(m.title),
        authors: text(m.authors),
        owners: text(m.owners),
        description: text(m.description),
        summary: text(m.summary),
        release_notes: text(m.release_notes),
        project_url: text(m.project_url),
        license_url: text(m.license_url),
        license,
        license_type,
        icon: text(m.icon),
        icon_url: text(m.icon_url),
        readme: text(m.readme),
        tags: text(m.tags),
        copyright: text(m.copyright),
        language: text(m.language),
        require_license_acceptance: m
            .require_license_acceptance
            .trim()
            .eq_ignore_ascii_case("true"),
        dependency_groups: groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata minClientVersion="2.12">
    <id>Acme.Greet</id>
    <version>1.2.0.0-Beta+sha.5</version>
    <title>Greet</title>
    <authors>Ann, Bob</authors>
    <description>Says hello &amp; more.</description>
    <releaseNotes>First.</releaseNotes>
    <projectUrl>https://example.com/greet</projectUrl>
    <license type="expression">MIT</license>
    <icon>images/icon.png</icon>
    <readme>docs/README.md</readme>
    <requireLicenseAcceptance>true</requireLicenseAcceptance>
    <tags>greet hello</tags>
    <repository type="git" url="https://example.com/greet.git" />
    <dependencies>
      <group targetFramework=".NETStandard2.0">
        <dependency id="Acme.Core" version="[1.0,2.0)" exclude="Build" />
        <dependency id="Acme.Log" version="1.0" />
      </group>
      <group targetFramework="net6.0" />
    </dependencies>
    <frameworkAssemblies><frameworkAssembly assemblyName="System" /></frameworkAssemblies>
  </metadata>
  <files><file src="x" /></files>
</package>"#;

    #[test]
    fn reads_every_field_the_feeds_serve() {
        let spec = parse(FULL.as_bytes()).unwrap();
        assert_eq!(spec.id, "Acme.Greet");
        assert_eq!(spec.version, "1.2.0-Beta");
        assert_eq!(spec.full_version, "1.2.0-Beta+sha.5");
        assert!(spec.prerelease);
        assert_eq!(spec.authors, "Ann, Bob");
        assert_eq!(spec.description, "Says hello & more.");
        assert_eq!(spec.release_notes, "First.");
        assert_eq!(
            (spec.license.as_str(), spec.license_type.as_str()),
            ("MIT", "expression")
        );
        assert_eq!(spec.icon, "images/icon.png");
        assert_eq!(spec.readme, "docs/README.md");
        assert!(spec.require_license_acceptance);
        assert_eq!(spec.dependency_groups.len(), 2);
        let group = &spec.dependency_groups[0];
        assert_eq!(group.target_framework, ".NETStandard2.0");
        assert_eq!(
            group.dependencies,
            [
                Dependency {
                    id: "Acme.Core".into(),
                    range: "[1.0,2.0)".into()
                },
                Dependency {
                    id: "Acme.Log".into(),
                    range: "1.0".into()
                },
            ]
        );
        assert!(spec.dependency_groups[1].dependencies.is_empty());
    }

    #[test]
    fn old_schemas_and_ungrouped_dependencies() {
        let old = r#"<?xml version="1.0"?>
<package xmlns="http://schemas.microsoft.com/packaging/2010/07/nuspec.xsd"><metadata>
<id>Old</id><version>1.0</version><authors>x</authors><description>d</description>
<dependencies><dependency id="Dep" version="2.0" /></dependencies>
</metadata></package>"#;
        let spec = parse(old.as_bytes()).unwrap();
        assert_eq!(spec.version, "1.0.0");
        assert_eq!(spec.dependency_groups[0].target_framework, "");
        assert_eq!(spec.dependency_groups[0].dependencies[0].id, "Dep");
        let bom = [b"\xEF\xBB\xBF".as_slice(), old.as_bytes()].concat();
        assert_eq!(parse(&bom).unwrap().id, "Old");
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        let with = |id: &str, version: &str| {
            format!(
                "<package><metadata><id>{id}</id><version>{version}</version></metadata></package>"
            )
        };
        for (bad, says) in [
            ("not xml <".to_string(), "not a valid package manifest"),
            (
                "<package></package>".to_string(),
                "not a valid package manifest",
            ),
            (with("", "1.0"), "package id"),
            (with("a/../b", "1.0"), "package id"),
            (with("ok", "one"), "not a NuGet version"),
            (with("ok", ""), "not a NuGet version"),
        ] {
            let err = parse(bad.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}

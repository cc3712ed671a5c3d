//! A POM read with a real XML parser (quick-xml's serde reader): the coordinates checked against
//! the path, and what the registry keeps of it as the version's metadata (name, description,
//! packaging, parent, dependencies, licenses). Pure.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What is kept of a POM.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pom {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packaging: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<Parent>,
    #[serde(
        default,
        deserialize_with = "dependencies",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub dependencies: Vec<Dependency>,
    #[serde(
        default,
        deserialize_with = "licenses",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub licenses: Vec<License>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Parent {
    pub group_id: Option<String>,
    pub artifact_id: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dependency {
    pub group_id: Option<String>,
    pub artifact_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classifier: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct License {
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

fn dependencies<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Dependency>, D::Error> {
    #[derive(Deserialize)]
    struct List {
        #[serde(default)]
        dependency: Vec<Dependency>,
    }
    Ok(List::deserialize(d)?.dependency)
}

fn licenses<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<License>, D::Error> {
    #[derive(Deserialize)]
    struct List {
        #[serde(default)]
        license: Vec<License>,
    }
    Ok(List::deserialize(d)?.license)
}

/// Where a POM is expected: the path's coordinates.
pub struct Expected<'a> {
    pub group: &'a str,
    pub artifact: &'a str,
    pub version: &'a str,
}

impl Pom {
    /// Parses a POM and checks it against the path it was uploaded to: its artifactId, its
    /// groupId and version (its own, or its parent's when it inherits them) must be the path's.
    /// A value still holding a `${property}` is not compared (Maven resolves those itself).
    pub fn parse(bytes: &[u8], expected: &Expected<'_>) -> Result<Pom> {
        let text =
            std::str::from_utf8(bytes).map_err(|_| Error::invalid("the POM is not UTF-8 text"))?;
        check_root(text)?;
        let mut pom: Pom = quick_xml::de::from_str(text)
            .map_err(|e| Error::invalid(format!("the POM is not a valid project: {e}")))?;
        let parent = pom.parent.clone().unwrap_or_default();
        pom.group_id = pom.group_id.or(parent.group_id).map(trimmed);
        pom.version = pom.version.or(parent.version).map(trimmed);
        pom.artifact_id = pom.artifact_id.map(trimmed);
        let checks = [
            ("groupId", &pom.group_id, expected.group),
            ("artifactId", &pom.artifact_id, expected.artifact),
            ("version", &pom.version, expected.version),
        ];
        for (field, value, wanted) in checks {
            match value {
                None => {
                    return Err(Error::invalid(format!("the POM has no {field}")));
                }
                Some(value) if value.contains("${") => {}
                Some(value) if value != wanted => {
                    return Err(Error::invalid(format!(
                        "the POM's {field} {value:?} is not the path's {wanted:?}"
                    )));
                }
                Some(_) => {}
            }
        }
        Ok(pom)
    }
}

fn trimmed(value: String) -> String {
    value.trim().to_string()
}

/// A POM's root element is `<project>`.
fn check_root(text: &str) -> Result<()> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                return if e.local_name().as_ref() == b"project" {
                    Ok(())
                } else {
                    Err(Error::invalid(format!(
                        "the POM's root element is <{}>, not <project>",
                        String::from_utf8_lossy(e.local_name().as_ref())
                    )))
                };
            }
            Ok(Event::Eof) => return Err(Error::invalid("the POM is not XML: no root element")),
            Err(e) => return Err(Error::invalid(format!("the POM is not XML: {e}"))),
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPECTED: Expected<'static> = Expected {
        group: "com.example",
        artifact: "lib",
        version: "1.0",
    };

    #[test]
    fn reads_what_is_kept() {
        let pom = Pom::parse(
            br#"<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>com.example</groupId><artifactId>parent</artifactId><version>1.0</version></parent>
  <artifactId>lib</artifactId>
  <packaging>jar</packaging>
  <name>Lib &amp; co</name>
  <description>A library</description>
  <licenses><license><name>MIT</name></license></licenses>
  <dependencies>
    <dependency><groupId>org.x</groupId><artifactId>y</artifactId><version>[1.0,2.0)</version><scope>test</scope></dependency>
    <dependency><groupId>org.x</groupId><artifactId>z</artifactId></dependency>
  </dependencies>
  <build><plugins/></build>
</project>"#,
            &EXPECTED,
        )
        .unwrap();
        assert_eq!(pom.group_id.as_deref(), Some("com.example"));
        assert_eq!(pom.version.as_deref(), Some("1.0"));
        assert_eq!(pom.name.as_deref(), Some("Lib & co"));
        assert_eq!(pom.packaging.as_deref(), Some("jar"));
        assert_eq!(pom.dependencies.len(), 2);
        assert_eq!(pom.dependencies[0].scope.as_deref(), Some("test"));
        assert_eq!(pom.licenses[0].name.as_deref(), Some("MIT"));
        assert_eq!(pom.parent.unwrap().artifact_id.as_deref(), Some("parent"));
    }

    #[test]
    fn refuses_what_does_not_fit_the_path() {
        let pom = |group: &str, artifact: &str, version: &str| {
            format!(
                "<project><groupId>{group}</groupId><artifactId>{artifact}</artifactId>\
                 <version>{version}</version></project>"
            )
        };
        Pom::parse(pom("com.example", "lib", "1.0").as_bytes(), &EXPECTED).unwrap();
        Pom::parse(
            pom("com.example", "lib", "${revision}").as_bytes(),
            &EXPECTED,
        )
        .unwrap();
        for (bad, why) in [
            (pom("org.other", "lib", "1.0"), "groupId"),
            (pom("com.example", "other", "1.0"), "artifactId"),
            (pom("com.example", "lib", "2.0"), "version"),
            ("not xml at all".to_string(), "not XML"),
            ("<project><artifactId>lib</artifactId>".to_string(), "not"),
            ("<other/>".to_string(), "<other>"),
            (
                "<project><artifactId>lib</artifactId></project>".to_string(),
                "no groupId",
            ),
        ] {
            let err = Pom::parse(bad.as_bytes(), &EXPECTED)
                .unwrap_err()
                .to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}

//! What `cargoman audit` finds in a lock file and how it prints it: text for a person, JSON for
//! scripts, JUnit XML and SARIF 2.1.0 for CI systems (a test case, or a result, per finding).

use serde::Serialize;
use serde_json::json;

use super::{Advisory, Ecosystem, Locked, Severity};

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub package: String,
    pub version: String,
    pub dev: bool,
    pub advisory: String,
    pub title: String,
    /// `None` when the advisory gives none; it then counts as meeting every threshold.
    pub severity: Option<Severity>,
    pub cve: Option<String>,
    pub link: Option<String>,
}

impl Finding {
    pub fn at_least(&self, min: Severity) -> bool {
        self.severity.is_none_or(|s| s >= min)
    }

    fn severity_text(&self) -> &'static str {
        self.severity.map_or("unknown", Severity::as_str)
    }
}

/// Every (locked package, advisory) pair where the advisory affects the locked version.
pub fn findings(ecosystem: &dyn Ecosystem, locked: &[Locked], known: &[Advisory]) -> Vec<Finding> {
    let mut found = Vec::new();
    for package in locked {
        for advisory in known {
            if advisory.affects(ecosystem, &package.name, &package.version) {
                found.push(Finding {
                    package: package.name.clone(),
                    version: package.version.clone(),
                    dev: package.dev,
                    advisory: advisory.id.clone(),
                    title: advisory.summary.clone(),
                    severity: advisory.severity,
                    cve: advisory.cve().map(str::to_string),
                    link: advisory.link.clone(),
                });
            }
        }
    }
    found
}

pub fn text(found: &[Finding], audited: usize) -> String {
    if found.is_empty() {
        return format!("No security advisories affect the {audited} locked package(s).");
    }
    let mut lines = vec![format!(
        "{} security advisory finding(s) in {audited} locked package(s):",
        found.len()
    )];
    for f in found {
        lines.push(format!(
            "{} {}{}: {} [{}] {}{}{}",
            f.package,
            f.version,
            if f.dev { " (dev)" } else { "" },
            f.advisory,
            f.severity_text(),
            f.title,
            f.cve
                .as_ref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default(),
            f.link.as_ref().map(|l| format!(" {l}")).unwrap_or_default(),
        ));
    }
    lines.join("\n")
}

pub fn json(found: &[Finding], audited: usize) -> String {
    serde_json::to_string_pretty(&json!({"audited": audited, "findings": found}))
        .expect("JSON prints")
}

/// One failing test case per finding, so CI shows each advisory; an empty suite when nothing is
/// found.
pub fn junit(found: &[Finding], audited: usize) -> String {
    use quick_xml::escape::escape;
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"cargoman audit\" tests=\"{audited}\" failures=\"{n}\">\n\
         <testsuite name=\"security advisories\" tests=\"{audited}\" failures=\"{n}\">\n",
        n = found.len()
    );
    for f in found {
        xml += &format!(
            "<testcase classname=\"{}\" name=\"{}\">\
             <failure type=\"{}\" message=\"{}\">{}</failure></testcase>\n",
            escape(&f.package),
            escape(format!("{} {}", f.version, f.advisory)),
            f.severity_text(),
            escape(&f.title),
            escape(f.link.as_deref().unwrap_or("")),
        );
    }
    xml + "</testsuite>\n</testsuites>\n"
}

/// SARIF 2.1.0: a rule per advisory, a result per finding, located at the lock file.
pub fn sarif(found: &[Finding], lock_file: &str) -> String {
    let mut rules: Vec<serde_json::Value> = Vec::new();
    for f in found {
        if !rules.iter().any(|r| r["id"] == f.advisory.as_str()) {
            rules.push(json!({
                "id": f.advisory,
                "shortDescription": {"text": f.title},
                "helpUri": f.link,
                "properties": {"severity": f.severity_text(), "cve": f.cve},
            }));
        }
    }
    let level = |f: &Finding| match f.severity {
        Some(Severity::Low) => "note",
        Some(Severity::Medium) => "warning",
        _ => "error",
    };
    let results: Vec<_> = found
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.advisory,
                "level": level(f),
                "message": {"text": format!("{} {} is affected by {}: {}", f.package, f.version, f.advisory, f.title)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": lock_file}}}],
            })
        })
        .collect();
    serde_json::to_string_pretty(&json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "cargoman audit", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "results": results,
        }],
    }))
    .expect("JSON prints")
}

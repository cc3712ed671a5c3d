//! Authentication and the permission matrix: every route refuses anonymous and under-privileged
//! callers, in the form each client understands.

use crate::common;

use crate::common::{ADMIN, Reply, TestServer, backends};

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}")
}

/// Creates a team token as root and returns (id, plain value).
fn team_token(s: &TestServer, level: &str, expires_at: Option<&str>) -> (i64, String) {
    let body = match expires_at {
        Some(t) => format!(r#"{{"name":"{level} user","level":"{level}","expires_at":"{t}"}}"#),
        None => format!(r#"{{"name":"{level} user","level":"{level}"}}"#),
    };
    let r = s.curl(&[
        "-H",
        &bearer(ADMIN),
        "-H",
        "Content-Type: application/json",
        "-d",
        &body,
        "/api/v1/tokens",
    ]);
    assert_eq!(r.status, 201, "{}", r.text());
    let json = r.json();
    let token = json["data"]["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("cma_") && token.len() == 36, "{token}");
    (json["data"]["id"].as_i64().unwrap(), token)
}

fn as_token(s: &TestServer, token: &str, args: &[&str]) -> Reply {
    let header = bearer(token);
    let mut all = vec!["-H", header.as_str()];
    all.extend_from_slice(args);
    s.curl(&all)
}

/// (method, path, body, what it needs)
#[derive(Clone, Copy, PartialEq)]
enum Needs {
    Read,
    Write,
    Team,
}

const GENERIC_FILE: &str = "/api/packages/acme/generic/tool/1.0/f.bin";
const MAVEN_METADATA: &str = "/api/packages/acme/maven/com/acme/lib/maven-metadata.xml";
const MAVEN_JAR: &str = "/api/packages/acme/maven/com/acme/lib/1.0/lib-1.0.jar";
const PACMAN_PACKAGE: &str = "/acme/x86_64/tool-1.0-1-x86_64.pkg.tar.zst";
const GO_ZIP: &str = "/api/packages/acme/go/example.com/lib/@v/v1.0.0.zip";
const OCI_BLOB: &str =
    "/v2/acme/app/blobs/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const OCI_REFERRERS: &str = "/v2/acme/app/referrers/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn routes() -> Vec<(&'static str, &'static str, Option<&'static str>, Needs)> {
    vec![
        ("GET", GENERIC_FILE, None, Needs::Read),
        ("HEAD", GENERIC_FILE, None, Needs::Read),
        (
            "PUT",
            "/api/packages/acme/generic/tool/2.0/g.bin",
            Some("data"),
            Needs::Write,
        ),
        (
            "DELETE",
            "/api/packages/acme/generic/tool/3.0/f.bin",
            None,
            Needs::Write,
        ),
        (
            "DELETE",
            "/api/packages/acme/generic/tool/3.0",
            None,
            Needs::Write,
        ),
        ("GET", "/api/v1/owners", None, Needs::Read),
        (
            "POST",
            "/api/v1/owners",
            Some(r#"{"name":"new-owner"}"#),
            Needs::Write,
        ),
        ("GET", "/api/v1/owners/acme", None, Needs::Read),
        (
            "PATCH",
            "/api/v1/owners/acme",
            Some(r#"{"visibility":"private"}"#),
            Needs::Write,
        ),
        ("DELETE", "/api/v1/owners/nobody", None, Needs::Write),
        ("GET", "/api/v1/owners/acme/packages", None, Needs::Read),
        (
            "GET",
            "/api/v1/owners/acme/packages/generic/tool/versions",
            None,
            Needs::Read,
        ),
        (
            "DELETE",
            "/api/v1/owners/acme/packages/generic/tool/versions/9.9",
            None,
            Needs::Write,
        ),
        (
            "GET",
            "/api/v1/owners/acme/packages/generic/tool/versions/1.0/files",
            None,
            Needs::Read,
        ),
        ("GET", "/api/v1/tokens", None, Needs::Team),
        (
            "POST",
            "/api/v1/tokens",
            Some(r#"{"name":"x","level":"viewer"}"#),
            Needs::Team,
        ),
        ("GET", "/api/v1/tokens/1", None, Needs::Team),
        ("DELETE", "/api/v1/tokens/999", None, Needs::Team),
        ("POST", "/api/v1/tokens/999/rotate", None, Needs::Team),
        // Container (OCI distribution); `GET /v2/`, `/v2/token` and `/v2/_catalog` answer
        // anonymous callers by design and are checked in tests/it/container.rs.
        ("GET", "/v2/acme/app/manifests/latest", None, Needs::Read),
        ("HEAD", "/v2/acme/app/manifests/latest", None, Needs::Read),
        (
            "PUT",
            "/v2/acme/app/manifests/latest",
            Some("{}"),
            Needs::Write,
        ),
        (
            "DELETE",
            "/v2/acme/app/manifests/latest",
            None,
            Needs::Write,
        ),
        ("GET", OCI_BLOB, None, Needs::Read),
        ("HEAD", OCI_BLOB, None, Needs::Read),
        ("DELETE", OCI_BLOB, None, Needs::Write),
        ("POST", "/v2/acme/app/blobs/uploads/", None, Needs::Write),
        ("GET", "/v2/acme/app/blobs/uploads/nope", None, Needs::Write),
        (
            "PATCH",
            "/v2/acme/app/blobs/uploads/nope",
            Some("data"),
            Needs::Write,
        ),
        (
            "PUT",
            "/v2/acme/app/blobs/uploads/nope",
            Some("data"),
            Needs::Write,
        ),
        (
            "DELETE",
            "/v2/acme/app/blobs/uploads/nope",
            None,
            Needs::Write,
        ),
        ("GET", "/v2/acme/app/tags/list", None, Needs::Read),
        ("GET", OCI_REFERRERS, None, Needs::Read),
        // Composer protocol and package management
        ("GET", "/packages.json", None, Needs::Read),
        ("GET", "/p2/acme/widget.json", None, Needs::Read),
        ("GET", "/p2/acme/widget~dev.json", None, Needs::Read),
        ("GET", "/p/acme/widget.json", None, Needs::Read),
        ("GET", "/dist/acme/widget/1.0.0.zip", None, Needs::Read),
        // The Packagist proxy (off here: its routes answer 404 to those who may ask)
        (
            "GET",
            "/dist-proxy/up/hello/1.0.0/abc.zip",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/time-machine/2024-01-31/packages.json",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/time-machine/2024-01-31/p2/up/hello.json",
            None,
            Needs::Read,
        ),
        ("GET", "/api/v1/proxy/status", None, Needs::Read),
        ("GET", "/api/v1/proxy/stats", None, Needs::Read),
        ("GET", "/api/v1/proxy/alerts", None, Needs::Read),
        ("POST", "/api/v1/proxy/purge", None, Needs::Write),
        ("POST", "/api/v1/proxy/freeze/up/hello", None, Needs::Write),
        (
            "POST",
            "/api/v1/proxy/unfreeze/up/hello",
            None,
            Needs::Write,
        ),
        ("GET", "/security-advisories.json", None, Needs::Read),
        (
            "GET",
            "/api/security-advisories/?packages%5B%5D=acme/widget",
            None,
            Needs::Read,
        ),
        (
            "POST",
            "/api/security-advisories/",
            Some("packages%5B%5D=acme%2Fwidget"),
            Needs::Read,
        ),
        (
            "GET",
            "/api/security-advisories/acme/widget.json",
            None,
            Needs::Read,
        ),
        ("GET", "/api/v1/vulnerabilities", None, Needs::Read),
        (
            "GET",
            "/api/v1/vulnerabilities/GHSA-none",
            None,
            Needs::Read,
        ),
        ("POST", "/api/v1/vulnerabilities/scan", None, Needs::Read),
        ("GET", "/api/v1/packages", None, Needs::Read),
        (
            "POST",
            "/api/v1/packages",
            Some(r#"{"name":"acme/x","repository_url":"file:///nonexistent"}"#),
            Needs::Write,
        ),
        ("GET", "/api/v1/packages/acme/widget", None, Needs::Read),
        ("GET", "/api/v1/packages/acme%2Fwidget", None, Needs::Read),
        ("DELETE", "/api/v1/packages/acme/widget", None, Needs::Write),
        (
            "POST",
            "/api/v1/packages/acme/widget/sync",
            None,
            Needs::Write,
        ),
        (
            "POST",
            "/api/v1/packages/acme%2Fwidget/sync",
            None,
            Needs::Write,
        ),
        (
            "POST",
            "/api/v1/packages/acme/widget/validate",
            None,
            Needs::Write,
        ),
        (
            "GET",
            "/api/v1/packages/acme/widget/readme",
            None,
            Needs::Read,
        ),
        (
            "POST",
            "/api/v1/packages/acme/widget/yank/1.0.0",
            None,
            Needs::Write,
        ),
        (
            "POST",
            "/api/v1/packages/acme/widget/unyank/1.0.0",
            None,
            Needs::Write,
        ),
        (
            "POST",
            "/api/v1/packages/acme/widget/deprecate/1.0.0",
            None,
            Needs::Write,
        ),
        (
            "GET",
            "/api/v1/packages/acme/widget/download/1.0.0",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/v1/packages/acme/widget/monorepo",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/v1/packages/acme/widget/monorepo/children",
            None,
            Needs::Read,
        ),
        (
            "POST",
            "/api/v1/packages/acme/widget/monorepo/sync",
            None,
            Needs::Write,
        ),
        (
            "GET",
            "/api/v1/packages/acme/widget/webhook-deliveries",
            None,
            Needs::Read,
        ),
        ("GET", "/api/v1/webhook-deliveries", None, Needs::Read),
        // Task queue
        ("GET", "/api/v1/tasks", None, Needs::Read),
        ("GET", "/api/v1/tasks/pending", None, Needs::Read),
        ("GET", "/api/v1/tasks/running", None, Needs::Read),
        ("GET", "/api/v1/tasks/failed", None, Needs::Read),
        ("GET", "/api/v1/tasks/1", None, Needs::Read),
        (
            "POST",
            "/api/v1/tasks",
            Some(r#"{"kind":"cleanup"}"#),
            Needs::Write,
        ),
        ("POST", "/api/v1/tasks/cleanup", None, Needs::Write),
        ("POST", "/api/v1/tasks/sync-all", None, Needs::Write),
        // Customers, their tokens and grants, collections (`cust_none` does not exist: an allowed
        // caller gets 404, which proves the permission check came first).
        ("GET", "/api/v1/customers", None, Needs::Read),
        (
            "POST",
            "/api/v1/customers",
            Some(r#"{"name":"New"}"#),
            Needs::Write,
        ),
        ("GET", "/api/v1/customers/cust_none", None, Needs::Read),
        (
            "GET",
            "/api/v1/customers/by-external/ext",
            None,
            Needs::Read,
        ),
        (
            "PATCH",
            "/api/v1/customers/cust_none",
            Some(r#"{"name":"x"}"#),
            Needs::Write,
        ),
        ("DELETE", "/api/v1/customers/cust_none", None, Needs::Write),
        (
            "POST",
            "/api/v1/customers/cust_none/suspend",
            Some(r#"{"reason":"x"}"#),
            Needs::Write,
        ),
        (
            "POST",
            "/api/v1/customers/cust_none/reactivate",
            None,
            Needs::Write,
        ),
        (
            "POST",
            "/api/v1/customers/cust_none/expire",
            None,
            Needs::Write,
        ),
        (
            "POST",
            "/api/v1/customers/cust_none/freeze",
            Some(r#"{"versions":[]}"#),
            Needs::Write,
        ),
        (
            "GET",
            "/api/v1/customers/cust_none/tokens",
            None,
            Needs::Read,
        ),
        (
            "POST",
            "/api/v1/customers/cust_none/tokens",
            Some(r#"{"name":"x"}"#),
            Needs::Write,
        ),
        (
            "GET",
            "/api/v1/customers/cust_none/tokens/1",
            None,
            Needs::Read,
        ),
        (
            "DELETE",
            "/api/v1/customers/cust_none/tokens/1",
            None,
            Needs::Write,
        ),
        (
            "POST",
            "/api/v1/customers/cust_none/tokens/1/rotate",
            None,
            Needs::Write,
        ),
        (
            "POST",
            "/api/v1/customers/cust_none/token/regenerate",
            None,
            Needs::Write,
        ),
        (
            "DELETE",
            "/api/v1/customers/cust_none/token",
            None,
            Needs::Write,
        ),
        (
            "POST",
            "/api/v1/customers/cust_none/jwt",
            None,
            Needs::Write,
        ),
        (
            "GET",
            "/api/v1/customers/cust_none/packages",
            None,
            Needs::Read,
        ),
        (
            "POST",
            "/api/v1/customers/cust_none/packages",
            Some(r#"{"package":"acme/widget"}"#),
            Needs::Write,
        ),
        (
            "PUT",
            "/api/v1/customers/cust_none/packages",
            Some(r#"{"packages":[]}"#),
            Needs::Write,
        ),
        (
            "DELETE",
            "/api/v1/customers/cust_none/packages/acme/widget",
            None,
            Needs::Write,
        ),
        (
            "DELETE",
            "/api/v1/customers/cust_none/packages/acme%2Fwidget",
            None,
            Needs::Write,
        ),
        (
            "DELETE",
            "/api/v1/customers/cust_none/packages?format=generic&owner=acme&package=tool",
            None,
            Needs::Write,
        ),
        (
            "DELETE",
            "/api/v1/customers/cust_none/collections/none",
            None,
            Needs::Write,
        ),
        (
            "GET",
            "/api/v1/packages/acme/widget/customers",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/v1/customers/by-package?format=generic&owner=acme&package=tool",
            None,
            Needs::Read,
        ),
        ("GET", "/api/v1/collections", None, Needs::Read),
        (
            "POST",
            "/api/v1/collections",
            Some(r#"{"name":"Suite","slug":"suite"}"#),
            Needs::Write,
        ),
        ("GET", "/api/v1/collections/none", None, Needs::Read),
        (
            "PATCH",
            "/api/v1/collections/none",
            Some(r#"{"name":"x"}"#),
            Needs::Write,
        ),
        ("DELETE", "/api/v1/collections/none", None, Needs::Write),
        // Statistics and the audit log
        ("GET", "/api/v1/stats", None, Needs::Read),
        ("GET", "/api/v1/stats/daily", None, Needs::Read),
        (
            "GET",
            "/api/v1/stats/packages/acme/widget",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/v1/stats/packages/acme/widget/versions/1.0.0",
            None,
            Needs::Read,
        ),
        ("GET", "/api/v1/audit", None, Needs::Read),
        // npm (Gitea dialect); `greet` does not exist, so an allowed caller gets 404 or 400.
        ("GET", "/api/packages/acme/npm/greet", None, Needs::Read),
        (
            "GET",
            "/api/packages/acme/npm/@acme%2fgreet",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/npm/greet/1.0.0",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/npm/greet/latest",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/npm/greet/-/greet-1.0.0.tgz",
            None,
            Needs::Read,
        ),
        (
            "HEAD",
            "/api/packages/acme/npm/greet/-/greet-1.0.0.tgz",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/npm/@acme/greet/-/1.0.0/greet-1.0.0.tgz",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/npm/-/package/greet/dist-tags",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/npm/-/v1/search?text=greet",
            None,
            Needs::Read,
        ),
        ("GET", "/api/packages/acme/npm/-/ping", None, Needs::Read),
        ("GET", "/api/packages/acme/npm/-/whoami", None, Needs::Read),
        (
            "POST",
            "/api/packages/acme/npm/-/npm/v1/security/audits/quick",
            Some(r#"{}"#),
            Needs::Read,
        ),
        (
            "POST",
            "/api/packages/acme/npm/-/npm/v1/security/advisories/bulk",
            Some(r#"{}"#),
            Needs::Read,
        ),
        (
            "PUT",
            "/api/packages/acme/npm/greet",
            Some(r#"{}"#),
            Needs::Write,
        ),
        (
            "PUT",
            "/api/packages/acme/npm/-/package",
            Some(r#"{}"#),
            Needs::Write,
        ),
        (
            "PUT",
            "/api/packages/acme/npm/greet/-rev/1-x",
            Some(r#"{}"#),
            Needs::Write,
        ),
        (
            "DELETE",
            "/api/packages/acme/npm/greet/-rev/1-x",
            None,
            Needs::Write,
        ),
        (
            "DELETE",
            "/api/packages/acme/npm/greet/-/greet-1.0.0.tgz/-rev/1-x",
            None,
            Needs::Write,
        ),
        (
            "PUT",
            "/api/packages/acme/npm/-/package/greet/dist-tags/beta",
            Some(r#""1.0.0""#),
            Needs::Write,
        ),
        (
            "DELETE",
            "/api/packages/acme/npm/-/package/greet/dist-tags/beta",
            None,
            Needs::Write,
        ),
        (
            "PUT",
            "/api/packages/acme/npm/greet/-disttag/beta",
            Some(r#""1.0.0""#),
            Needs::Write,
        ),
        // Maven (Gitea dialect); nothing is published, so an allowed caller gets 404 or 400.
        ("GET", MAVEN_METADATA, None, Needs::Read),
        ("HEAD", MAVEN_METADATA, None, Needs::Read),
        (
            "GET",
            "/api/packages/acme/maven/com/acme/lib/maven-metadata.xml.sha1",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/maven/com/acme/lib/",
            None,
            Needs::Read,
        ),
        ("GET", MAVEN_JAR, None, Needs::Read),
        ("HEAD", MAVEN_JAR, None, Needs::Read),
        (
            "GET",
            "/api/packages/acme/maven/com/acme/lib/1.0/lib-1.0.jar.sha256",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/maven/com/acme/lib/1.0-SNAPSHOT/maven-metadata.xml",
            None,
            Needs::Read,
        ),
        ("PUT", MAVEN_JAR, Some("data"), Needs::Write),
        (
            "PUT",
            "/api/packages/acme/maven/com/acme/lib/1.0/lib-1.0.jar.sha1",
            Some("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            Needs::Write,
        ),
        ("PUT", MAVEN_METADATA, Some("<metadata/>"), Needs::Write),
        (
            "PUT",
            "/api/packages/acme/maven/com/acme/lib/1.0-SNAPSHOT/maven-metadata.xml",
            Some("<metadata/>"),
            Needs::Write,
        ),
        // NuGet (Gitea dialect); `acme.greet` does not exist, so an allowed caller gets 404 or
        // 400 (a body that is no package).
        (
            "GET",
            "/api/packages/acme/nuget/index.json",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/nuget/registration/acme.greet/index.json",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/nuget/registration/acme.greet/page/0.json",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/nuget/registration/acme.greet/1.0.0.json",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/nuget/package/acme.greet/index.json",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/nuget/package/acme.greet/1.0.0/acme.greet.1.0.0.nupkg",
            None,
            Needs::Read,
        ),
        (
            "HEAD",
            "/api/packages/acme/nuget/package/acme.greet/1.0.0/acme.greet.1.0.0.nupkg",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/nuget/package/acme.greet/1.0.0/acme.greet.nuspec",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/nuget/package/acme.greet/1.0.0",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/nuget/query?q=greet",
            None,
            Needs::Read,
        ),
        ("GET", "/api/packages/acme/nuget", None, Needs::Read),
        (
            "GET",
            "/api/packages/acme/nuget/$metadata",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/nuget/Packages()",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/nuget/Search()?searchTerm='greet'",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/nuget/FindPackagesById()?id='acme.greet'",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/nuget/FindPackagesById()/$count?id='acme.greet'",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/nuget/Packages(Id='acme.greet',Version='1.0.0')",
            None,
            Needs::Read,
        ),
        (
            "PUT",
            "/api/packages/acme/nuget/",
            Some("data"),
            Needs::Write,
        ),
        (
            "PUT",
            "/api/packages/acme/nuget",
            Some("data"),
            Needs::Write,
        ),
        (
            "PUT",
            "/api/packages/acme/nuget/api/v2/package/",
            Some("data"),
            Needs::Write,
        ),
        (
            "PUT",
            "/api/packages/acme/nuget/api/v2/package",
            Some("data"),
            Needs::Write,
        ),
        (
            "PUT",
            "/api/packages/acme/nuget/symbolpackage",
            Some("data"),
            Needs::Write,
        ),
        (
            "GET",
            "/api/packages/acme/nuget/symbols/a.pdb/00112233445566778899aabbccddeeffFFFFFFFF/a.pdb",
            None,
            Needs::Read,
        ),
        (
            "DELETE",
            "/api/packages/acme/nuget/Acme.Greet/1.0.0",
            None,
            Needs::Write,
        ),
        (
            "DELETE",
            "/api/packages/acme/nuget/api/v2/package/Acme.Greet/1.0.0",
            None,
            Needs::Write,
        ),
        // Go module proxy (Gitea dialect); nothing is published, so an allowed reader gets 404
        // and an allowed writer 400 (the body is not a zip).
        (
            "GET",
            "/api/packages/acme/go/example.com/lib/@v/list",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/go/example.com/lib/@latest",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/go/example.com/lib/@v/v1.0.0.info",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/go/example.com/lib/@v/v1.0.0.mod",
            None,
            Needs::Read,
        ),
        ("GET", GO_ZIP, None, Needs::Read),
        ("HEAD", GO_ZIP, None, Needs::Read),
        (
            "PUT",
            "/api/packages/acme/go/upload",
            Some("data"),
            Needs::Write,
        ),
        // pacman: Vieter's routes at the root (seed 004) and Gitea's arch dialect; nothing is
        // published, so an allowed reader gets 404 and an allowed writer 404 or 422.
        ("GET", "/acme/x86_64/acme.db", None, Needs::Read),
        ("HEAD", "/acme/x86_64/acme.db.tar.gz", None, Needs::Read),
        ("GET", "/acme/x86_64/acme.files", None, Needs::Read),
        ("GET", PACMAN_PACKAGE, None, Needs::Read),
        ("HEAD", PACMAN_PACKAGE, None, Needs::Read),
        (
            "GET",
            "/acme/x86_64/tool-1.0-1-x86_64.pkg.tar.zst.sig",
            None,
            Needs::Read,
        ),
        ("GET", "/acme/x86_64/tool-1.0-1", None, Needs::Read),
        (
            "PUT",
            "/acme/x86_64/tool-1.0-1-x86_64.pkg.tar.zst.sig",
            Some("data"),
            Needs::Write,
        ),
        ("POST", "/acme/publish", Some("data"), Needs::Write),
        ("DELETE", "/acme/x86_64/tool", None, Needs::Write),
        ("DELETE", "/acme/x86_64", None, Needs::Write),
        ("DELETE", "/acme", None, Needs::Write),
        (
            "GET",
            "/api/packages/acme/arch/core/x86_64/core.db",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/api/packages/acme/arch/core/x86_64/tool-1.0-1-x86_64.pkg.tar.zst",
            None,
            Needs::Read,
        ),
        (
            "PUT",
            "/api/packages/acme/arch/core",
            Some("data"),
            Needs::Write,
        ),
        (
            "PUT",
            "/api/packages/acme/arch/core/x86_64/tool-1.0-1-x86_64.pkg.tar.zst.sig",
            Some("data"),
            Needs::Write,
        ),
        (
            "DELETE",
            "/api/packages/acme/arch/core/tool/1.0-1/x86_64",
            None,
            Needs::Write,
        ),
        // Nitro Repo's Composer repositories (seed 003) and their management API
        ("GET", "/repositories/default/acme/", None, Needs::Read),
        (
            "GET",
            "/repositories/default/acme/packages.json",
            None,
            Needs::Read,
        ),
        (
            "PUT",
            "/repositories/default/acme/packages.json",
            Some("{}"),
            Needs::Write,
        ),
        (
            "GET",
            "/repositories/default/acme/p/acme/widget.json",
            None,
            Needs::Read,
        ),
        (
            "PUT",
            "/repositories/default/acme/p/acme/widget.json",
            Some(r#"{"version":"1.0.0"}"#),
            Needs::Write,
        ),
        (
            "GET",
            "/repositories/default/acme/p/acme/widget/1.0.0.json",
            None,
            Needs::Read,
        ),
        (
            "PUT",
            "/repositories/default/acme/p/acme/widget/1.0.0.json",
            Some("{}"),
            Needs::Write,
        ),
        (
            "GET",
            "/repositories/default/acme/downloads/acme-widget-1.0.0.zip",
            None,
            Needs::Read,
        ),
        (
            "HEAD",
            "/repositories/default/acme/downloads/acme-widget-1.0.0.zip",
            None,
            Needs::Read,
        ),
        (
            "PUT",
            "/repositories/default/acme/downloads/acme-widget-1.0.0.zip",
            Some("data"),
            Needs::Write,
        ),
        (
            "DELETE",
            "/repositories/default/acme/downloads/acme-widget-1.0.0.zip",
            None,
            Needs::Write,
        ),
        (
            "POST",
            "/repositories/default/acme/downloads",
            Some(r#"{"downloads":[]}"#),
            Needs::Read,
        ),
        (
            "GET",
            "/repositories/default/acme/provider.json",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/repositories/default/acme/search.json",
            None,
            Needs::Read,
        ),
        (
            "GET",
            "/repositories/default/acme/packages/list.json",
            None,
            Needs::Read,
        ),
        ("GET", "/api/repository/acme/packages", None, Needs::Read),
        (
            "DELETE",
            "/api/repository/acme/packages",
            Some(r#"{"paths":["downloads/acme-widget-1.0.0.zip"]}"#),
            Needs::Write,
        ),
        ("GET", "/api/repository/acme/config/php", None, Needs::Read),
        (
            "PUT",
            "/api/repository/acme/config/php",
            Some(r#"{"description":"x"}"#),
            Needs::Write,
        ),
        ("GET", "/api/repository/acme/stats", None, Needs::Read),
    ]
}

/// Composer protocol routes: customer tokens reach these, filtered by their grants.
fn is_composer_route(path: &str) -> bool {
    [
        "/packages.json",
        "/p2/",
        "/p/",
        "/dist/",
        "/security-advisories.json",
        "/api/security-advisories/",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

/// What a customer without grants gets on an npm route: packages it is not granted do not exist
/// for it, tarballs are refused, the tools answer, writes are refused.
fn npm_customer_status(method: &str, path: &str) -> Option<u16> {
    let rest = path.strip_prefix("/api/packages/acme/npm/")?;
    Some(if method != "GET" && method != "HEAD" && method != "POST" {
        403
    } else if rest.starts_with("-/v1/search")
        || rest.starts_with("-/ping")
        || rest.starts_with("-/whoami")
        || rest.starts_with("-/npm/")
    {
        200
    } else if rest.contains("/-/") {
        403
    } else {
        404
    })
}

/// What a customer without grants gets on a Maven route: an artifact's metadata and folder it is
/// not granted do not exist for it, files (and a SNAPSHOT's metadata) are refused, as are writes.
fn maven_customer_status(method: &str, path: &str) -> Option<u16> {
    let rest = path.strip_prefix("/api/packages/acme/maven/")?;
    let artifact_level = rest.starts_with("com/acme/lib/maven-metadata.xml") || rest.ends_with('/');
    Some(if method == "PUT" || !artifact_level {
        403
    } else {
        404
    })
}

/// What a customer without grants gets on a NuGet route: the service documents and searches
/// answer (with nothing in them), packages it is not granted do not exist for it, their files
/// are refused, writes are refused.
fn nuget_customer_status(method: &str, path: &str) -> Option<u16> {
    let rest = path
        .strip_prefix("/api/packages/acme/nuget")?
        .trim_start_matches('/');
    Some(if method != "GET" && method != "HEAD" {
        403
    } else if rest.is_empty()
        || [
            "index.json",
            "query",
            "$metadata",
            "Packages()",
            "Search()",
            "FindPackagesById()",
        ]
        .iter()
        .any(|p| rest.starts_with(p))
    {
        200
    } else if rest.starts_with("package/") && !rest.ends_with("index.json") {
        403
    } else {
        404
    })
}

/// What a customer without grants gets on a Go proxy route: modules it is not granted do not
/// exist for it (the go command reads only 404 as "not here"), uploads are refused.
fn go_customer_status(method: &str, path: &str) -> Option<u16> {
    path.strip_prefix("/api/packages/acme/go/")?;
    Some(if method == "PUT" { 403 } else { 404 })
}

/// What a customer without grants gets on a pacman route: an arch-repo's database is its view
/// of it (none here: 404), packages and their descs are refused, as are writes.
fn pacman_customer_status(method: &str, path: &str) -> Option<u16> {
    let rest = path
        .strip_prefix("/api/packages/acme/arch/core/")
        .or_else(|| path.strip_prefix("/acme"))?;
    let database = [".db", ".files", ".db.tar.gz"]
        .iter()
        .any(|e| rest.ends_with(e));
    Some(if (method == "GET" || method == "HEAD") && database {
        404
    } else {
        403
    })
}

/// Creates a customer as root; returns (id, its initial token).
fn new_customer(s: &TestServer, name: &str) -> (String, String) {
    let r = as_token(
        s,
        ADMIN,
        &[
            "-H",
            "Content-Type: application/json",
            "-d",
            &format!(r#"{{"name":"{name}"}}"#),
            "/api/v1/customers",
        ],
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let data = r.json()["data"].clone();
    (
        data["id"].as_str().unwrap().to_string(),
        data["token"].as_str().unwrap().to_string(),
    )
}

/// Creates a token for a customer as root; returns (id, plain value).
fn customer_token(s: &TestServer, customer: &str, body: &str) -> (i64, String) {
    let r = as_token(
        s,
        ADMIN,
        &[
            "-H",
            "Content-Type: application/json",
            "-d",
            body,
            &format!("/api/v1/customers/{customer}/tokens"),
        ],
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let data = r.json()["data"].clone();
    (
        data["token"]["id"].as_i64().unwrap(),
        data["plain_token"].as_str().unwrap().to_string(),
    )
}

/// Customer tokens in every state, against every route: the management API and other formats
/// refuse them all; Composer routes take live tokens of live customers only.
#[test]
fn customer_tokens_on_every_route() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let (customer, _) = new_customer(&s, "Customer");
        let (_, download) = customer_token(&s, &customer, r#"{"name":"ci","scope":"download"}"#);
        let (_, developer) = customer_token(&s, &customer, r#"{"name":"dev","scope":"developer"}"#);
        let (_, webhook) = customer_token(&s, &customer, r#"{"name":"hook","scope":"webhook"}"#);
        let (revoked_id, revoked) = customer_token(&s, &customer, r#"{"name":"old"}"#);
        let expires = cargoman::clock::rfc3339(cargoman::clock::now() + 2);
        let (_, expired) = customer_token(
            &s,
            &customer,
            &format!(r#"{{"name":"short","expires_at":"{expires}"}}"#),
        );
        let (_, other) = new_customer(&s, "Other");
        let (suspended_id, suspended) = new_customer(&s, "Suspended");
        let r = as_token(
            &s,
            ADMIN,
            &[
                "-X",
                "DELETE",
                &format!("/api/v1/customers/{customer}/tokens/{revoked_id}"),
            ],
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let r = as_token(
            &s,
            ADMIN,
            &[
                "-X",
                "POST",
                &format!("/api/v1/customers/{suspended_id}/suspend"),
            ],
        );
        assert_eq!(r.status, 200, "{}", r.text());
        std::thread::sleep(std::time::Duration::from_millis(2500));

        for (method, path, body, _) in routes() {
            for (token, who) in [(&revoked, "revoked"), (&expired, "expired")] {
                let r = call(&s, Some(&bearer(token)), method, path, body);
                assert_eq!(
                    r.status, 401,
                    "{backend:?} {who} customer token {method} {path}"
                );
            }
            let r = call(&s, Some(&bearer(&suspended)), method, path, body);
            assert_eq!(
                r.status, 403,
                "{backend:?} suspended customer {method} {path}"
            );
            if method != "HEAD" && is_composer_route(path) {
                assert!(
                    r.text().contains("suspended"),
                    "{method} {path}: {}",
                    r.text()
                );
            }
            let r = call(&s, Some(&bearer(&webhook)), method, path, body);
            assert_eq!(r.status, 403, "{backend:?} webhook scope {method} {path}");
            for (token, who) in [
                (&download, "download"),
                (&developer, "developer"),
                (&other, "other customer"),
            ] {
                let r = call(&s, Some(&bearer(token)), method, path, body);
                if let Some(expected) = npm_customer_status(method, path)
                    .or_else(|| maven_customer_status(method, path))
                    .or_else(|| nuget_customer_status(method, path))
                    .or_else(|| go_customer_status(method, path))
                    .or_else(|| pacman_customer_status(method, path))
                {
                    assert_eq!(
                        r.status,
                        expected,
                        "{backend:?} {who} {method} {path}: {}",
                        r.text()
                    );
                } else if is_composer_route(path) {
                    // Nothing is granted: the index and the advisories are empty, metadata
                    // absent, archives refused.
                    let expected =
                        if path == "/packages.json" || path.contains("security-advisories") {
                            200
                        } else if path.starts_with("/dist/") {
                            403
                        } else {
                            404
                        };
                    assert_eq!(
                        r.status,
                        expected,
                        "{backend:?} {who} {method} {path}: {}",
                        r.text()
                    );
                } else {
                    assert_eq!(
                        r.status,
                        403,
                        "{backend:?} {who} {method} {path}: {}",
                        r.text()
                    );
                }
            }
        }
    }
}

fn call(s: &TestServer, auth: Option<&str>, method: &str, path: &str, body: Option<&str>) -> Reply {
    let mut args: Vec<String> = Vec::new();
    if let Some(a) = auth {
        args.extend(["-H".into(), a.to_string()]);
    }
    match method {
        "HEAD" => args.push("-I".into()),
        m => args.extend(["-X".into(), m.into()]),
    }
    if let Some(b) = body {
        args.extend([
            "-H".into(),
            "Content-Type: application/json".into(),
            "--data-binary".into(),
            b.into(),
        ]);
    }
    args.push(path.into());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    s.curl(&refs)
}

#[test]
fn permission_matrix_on_every_route() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let f = s.make_file("f.bin", 10, 1);
        assert_eq!(
            s.admin(&["--upload-file", f.to_str().unwrap(), GENERIC_FILE])
                .status,
            201
        );
        let (_, viewer) = team_token(&s, "viewer", None);
        let (_, admin) = team_token(&s, "admin", None);
        let (_, expired) = team_token(&s, "owner", Some("2001-01-01T00:00:00Z"));
        let (revoked_id, revoked) = team_token(&s, "owner", None);
        let del = as_token(
            &s,
            ADMIN,
            &["-X", "DELETE", &format!("/api/v1/tokens/{revoked_id}")],
        );
        assert_eq!(del.status, 200, "{}", del.text());
        assert!(del.json()["data"]["revoked_at"].is_string());

        let refused_401 = [
            (None, "anonymous"),
            (Some(bearer("not-a-token")), "bad token"),
            (
                Some(bearer(&format!("cma_{}", "A".repeat(32)))),
                "unknown cma token",
            ),
            (Some(bearer(&expired)), "expired token"),
            (Some(bearer(&revoked)), "revoked token"),
            (
                Some("Authorization: Basic !!!".to_string()),
                "malformed basic",
            ),
        ];
        for (method, path, body, needs) in routes() {
            for (auth, who) in &refused_401 {
                let r = call(&s, auth.as_deref(), method, path, body);
                assert_eq!(
                    r.status,
                    401,
                    "{backend:?} {who} {method} {path}: {}",
                    r.text()
                );
                let challenge = r.header("www-authenticate").unwrap_or_default();
                if path.starts_with("/api/v1") {
                    assert!(challenge.starts_with("Bearer"), "{method} {path}");
                    if method != "HEAD" {
                        assert_eq!(r.json()["error"]["code"], "UNAUTHORIZED");
                    }
                } else if path.starts_with("/v2/") {
                    // Docker's token flow: where to fetch a token, errors in the spec's shape.
                    assert!(challenge.starts_with("Bearer realm="), "{method} {path}");
                    if method != "HEAD" {
                        assert_eq!(r.json()["errors"][0]["code"], "UNAUTHORIZED");
                    }
                } else {
                    assert!(challenge.starts_with("Basic"), "{method} {path}");
                }
            }
            let viewer_reply = call(&s, Some(&bearer(&viewer)), method, path, body);
            let admin_reply = call(&s, Some(&bearer(&admin)), method, path, body);
            match needs {
                Needs::Read => {
                    assert!(
                        !matches!(viewer_reply.status, 401 | 403),
                        "viewer {method} {path}"
                    );
                }
                Needs::Write => {
                    assert_eq!(viewer_reply.status, 403, "viewer {method} {path}");
                    assert!(
                        !matches!(admin_reply.status, 401 | 403),
                        "admin {method} {path}"
                    );
                }
                Needs::Team => {
                    assert_eq!(viewer_reply.status, 403, "viewer {method} {path}");
                    assert_eq!(admin_reply.status, 403, "admin {method} {path}");
                    if path.starts_with("/api/v1") {
                        assert_eq!(admin_reply.json()["error"]["code"], "FORBIDDEN");
                    }
                }
            }
        }
        // Expired and revoked say why.
        let r = call(&s, Some(&bearer(&expired)), "GET", GENERIC_FILE, None);
        assert!(r.text().contains("expired"), "{}", r.text());
        let r = call(&s, Some(&bearer(&revoked)), "GET", GENERIC_FILE, None);
        assert!(r.text().contains("revoked"), "{}", r.text());
    }
}

#[test]
fn every_credential_form_is_accepted() {
    for backend in backends() {
        credential_forms_on(backend);
    }
}

fn credential_forms_on(backend: common::Backend) {
    let s = TestServer::start(backend);
    let f = s.make_file("f.bin", 10, 1);
    assert_eq!(
        s.admin(&["--upload-file", f.to_str().unwrap(), GENERIC_FILE])
            .status,
        201
    );
    let (_, viewer) = team_token(&s, "viewer", None);
    for token in [ADMIN, viewer.as_str()] {
        let forms = [
            vec!["-H".to_string(), format!("Authorization: Bearer {token}")],
            vec!["-H".to_string(), format!("Authorization: token {token}")],
            vec!["--user".to_string(), format!("anyone:{token}")],
            vec!["-H".to_string(), format!("X-Api-Key: {token}")],
            vec!["-H".to_string(), format!("X-NuGet-ApiKey: {token}")],
            // Cargo: the token is the whole header value.
            vec!["-H".to_string(), format!("Authorization: {token}")],
        ];
        for form in forms {
            let mut args: Vec<&str> = form.iter().map(String::as_str).collect();
            args.push(GENERIC_FILE);
            assert_eq!(s.curl(&args).status, 200, "{form:?}");
        }
    }
}

#[test]
fn team_tokens_rotate_revoke_and_record_use() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let (id, owner) = team_token(&s, "owner", None);
        // An owner token manages the team itself.
        let (viewer_id, viewer) = team_token(&s, "viewer", None);
        let listed = as_token(&s, &owner, &["/api/v1/tokens"]);
        assert_eq!(listed.status, 200);
        let list = listed.json();
        assert_eq!(list["pagination"]["total"], 2);
        assert!(
            list["data"][0].get("secret_hash").is_none(),
            "hash never shown"
        );
        assert!(
            list["data"][0].get("token").is_none(),
            "plain value never shown again"
        );

        assert_eq!(as_token(&s, &viewer, &["/api/v1/owners"]).status, 200);
        let shown = as_token(&s, &owner, &[&format!("/api/v1/tokens/{viewer_id}")]).json();
        assert!(shown["data"]["last_used_at"].is_string(), "{shown}");
        assert_eq!(shown["data"]["last_used_ip"], "127.0.0.1");

        let rotated = as_token(
            &s,
            &owner,
            &["-X", "POST", &format!("/api/v1/tokens/{viewer_id}/rotate")],
        );
        assert_eq!(rotated.status, 200, "{}", rotated.text());
        let new_value = rotated.json()["data"]["token"]
            .as_str()
            .unwrap()
            .to_string();
        assert_ne!(new_value, viewer);
        assert_eq!(
            as_token(&s, &viewer, &["/api/v1/owners"]).status,
            401,
            "old value dies at once"
        );
        assert_eq!(as_token(&s, &new_value, &["/api/v1/owners"]).status, 200);

        let revoked = as_token(
            &s,
            &owner,
            &["-X", "DELETE", &format!("/api/v1/tokens/{viewer_id}")],
        );
        assert_eq!(revoked.status, 200);
        assert_eq!(as_token(&s, &new_value, &["/api/v1/owners"]).status, 401);
        let again = as_token(
            &s,
            &owner,
            &["-X", "POST", &format!("/api/v1/tokens/{viewer_id}/rotate")],
        );
        assert_eq!(again.status, 409);

        // Validation errors come in the envelope.
        for (body, word) in [
            (r#"{"name":"x","level":"god"}"#, "level"),
            (r#"{"name":"","level":"viewer"}"#, "name"),
            (
                r#"{"name":"x","level":"viewer","expires_at":"tomorrow"}"#,
                "expires_at",
            ),
            (r#"{"name":"x""#, "JSON"),
            (r#"{"name":"x","level":"viewer","extra":1}"#, "extra"),
        ] {
            let r = as_token(
                &s,
                &owner,
                &[
                    "-H",
                    "Content-Type: application/json",
                    "-d",
                    body,
                    "/api/v1/tokens",
                ],
            );
            assert_eq!(r.status, 400, "{body}");
            let json = r.json();
            assert_eq!(json["error"]["code"], "VALIDATION_ERROR", "{body}");
            assert!(json["data"].is_null());
            let message = json["error"]["message"].as_str().unwrap();
            assert!(message.contains(word), "{body}: {message}");
        }
        assert_eq!(
            as_token(&s, &owner, &[&format!("/api/v1/tokens/{id}")]).status,
            200
        );
        assert_eq!(
            as_token(&s, &owner, &["/api/v1/tokens/424242"]).json()["error"]["code"],
            "NOT_FOUND"
        );
    }
}

#[test]
fn health_and_metrics_are_public() {
    for backend in backends() {
        health_on(backend);
    }
}

fn health_on(backend: common::Backend) {
    let s = TestServer::start(backend);
    assert_eq!(s.curl(&["/health"]).json()["status"], "ok");
    let ready = s.curl(&["/health/ready"]);
    assert_eq!(ready.status, 200, "{backend:?}: {}", ready.text());
    assert_eq!(ready.json()["database"], "ok");
    assert_eq!(ready.json()["storage"], "ok");
    assert_eq!(s.admin(&["/api/packages/acme/generic/x/1/y"]).status, 404);
    let metrics = s.curl(&["/metrics"]).text();
    assert!(
        metrics.contains("cargoman_http_requests_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains("route=\"/api/packages/{owner}/generic/{name}/{version}/{file}\""),
        "{metrics}"
    );
}

/// Sends one GET of `path` per token, `parallel` at a time, and returns the status codes.
fn statuses_in_parallel(
    s: &TestServer,
    path: &str,
    tokens: &[String],
    parallel: usize,
) -> Vec<u16> {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("requests");
    let requests: Vec<String> = tokens
        .iter()
        .map(|token| {
            format!(
                "url = \"{}\"\nheader = \"Authorization: Bearer {token}\"\noutput = \"/dev/null\"\nwrite-out = \"%{{http_code}}\\n\"\n",
                s.url(path)
            )
        })
        .collect();
    std::fs::write(&config, requests.join("next\n")).unwrap();
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "--parallel",
            "--parallel-max",
            &parallel.to_string(),
            "-K",
        ])
        .arg(&config)
        .output()
        .expect("curl runs");
    let codes: Vec<u16> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().parse().unwrap_or(0))
        .collect();
    assert_eq!(
        codes.len(),
        tokens.len(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    codes
}

fn random_suffix(n: usize, seed: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    common::pseudo_random(n, (seed % 251) as u8)
        .iter()
        .enumerate()
        .map(|(i, b)| CHARS[(*b as usize + i * 7 + seed) % CHARS.len()] as char)
        .collect()
}

/// The security review's flood: random tokens against the default setup (a generated root
/// token kept as an Argon2 hash). Tokens that cannot match are never hashed, so a burst of them
/// never fills the bounded hashing queue (503); guesses at a real lookup prefix are hashed, but
/// only a queue's worth at a time.
#[test]
fn wrong_tokens_are_never_hashed_unless_they_can_match() {
    for backend in backends() {
        let s = TestServer::start_with(backend, &[("ADMIN_TOKEN", "")]);
        let created = s.cli(&["--json", "customer", "create", "--name", "Flood Ltd"]);
        assert!(created.status.success(), "{created:?}");
        let customer: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
        let real = customer["token"].as_str().unwrap().to_string();
        assert_eq!(as_token(&s, &real, &["/packages.json"]).status, 200);

        let unmatchable: Vec<String> = (0..240)
            .map(|n| match n % 4 {
                0 => format!("x{}", random_suffix(40, n)),
                1 => format!("cmr_{}", random_suffix(32, n)), // root shape, wrong lookup
                2 => format!("cma_{}", random_suffix(32, n)), // no such team token
                _ => format!("tok_{}", random_suffix(32, n)), // no such customer token
            })
            .collect();
        let codes = statuses_in_parallel(&s, "/packages.json", &unmatchable, 120);
        assert!(codes.iter().all(|&c| c == 401), "{backend:?}: {codes:?}");

        // Right lookup, wrong secret: each is a real Argon2 check, bounded by the queue.
        let guesses: Vec<String> = (0..120)
            .map(|n| format!("{}{}", &real[..12], random_suffix(24, n)))
            .collect();
        let codes = statuses_in_parallel(&s, "/packages.json", &guesses, 120);
        assert!(
            codes.iter().all(|&c| c == 401 || c == 503),
            "{backend:?}: {codes:?}"
        );
        // 120 checks at once cannot all fit the queue: the overflow is refused, not queued.
        assert!(codes.contains(&503), "{backend:?}: {codes:?}");
        assert_eq!(as_token(&s, &real, &["/packages.json"]).status, 200);
    }
}

/// A client that keeps presenting wrong tokens gets 429 after `AUTH_FAILURE_LIMIT` of them,
/// without further work; tokens it already proved stay usable, and revoked or expired tokens
/// (real ones) do not count as guesses. Every failure takes at least `AUTH_FAILURE_DELAY_MS`.
#[test]
fn failed_checks_are_limited_per_client_and_slowed_alike() {
    for backend in backends() {
        let s = TestServer::start_with(
            backend,
            &[
                ("AUTH_FAILURE_LIMIT", "5"),
                ("AUTH_FAILURE_DELAY_MS", "100"),
            ],
        );
        let (_, proven) = team_token(&s, "viewer", None);
        assert_eq!(as_token(&s, &proven, &["/api/v1/owners"]).status, 200);
        let (revoked_id, revoked) = team_token(&s, "viewer", None);
        let del = s.admin(&["-X", "DELETE", &format!("/api/v1/tokens/{revoked_id}")]);
        assert_eq!(del.status, 200, "{}", del.text());
        for _ in 0..8 {
            assert_eq!(as_token(&s, &revoked, &["/api/v1/owners"]).status, 401);
        }

        for n in 0..5 {
            let wrong = format!("cma_{}", random_suffix(32, n));
            let started = std::time::Instant::now();
            let r = as_token(&s, &wrong, &["/api/v1/owners"]);
            assert_eq!(r.status, 401, "{}", r.text());
            assert!(
                started.elapsed() >= std::time::Duration::from_millis(100),
                "a failure is answered after the configured delay"
            );
        }
        let refused = as_token(&s, "cma_whatever", &["/api/v1/owners"]);
        assert_eq!(refused.status, 429, "{}", refused.text());
        assert_eq!(refused.json()["error"]["code"], "RATE_LIMITED");
        let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait));
        let refused = as_token(&s, "wrong", &[GENERIC_FILE]);
        assert_eq!(refused.status, 429);
        assert!(refused.header("retry-after").is_some());

        // What this client already proved still works; a token it never used must wait.
        assert_eq!(as_token(&s, &proven, &["/api/v1/owners"]).status, 200);
        assert_eq!(s.admin(&["/api/v1/owners"]).status, 200);
        let (_, unproven) = team_token(&s, "viewer", None);
        assert_eq!(as_token(&s, &unproven, &["/api/v1/owners"]).status, 429);
    }
}

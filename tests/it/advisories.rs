//! Security advisories: OSV import (file, URL, the periodic `ADVISORIES_URL` task), the real
//! `composer audit` against Composer's advisories API, `cargoman audit` with its reports and exit
//! codes, and the management API.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{self, ADMIN, TestServer, api, backends, describe, git, wait_for_task, write};

const WIDGET_ADVISORY: &str = "GHSA-wdgt-0001-xss0";
const OTHER_ADVISORY: &str = "GHSA-othr-0002-rce0";

/// An advisory on acme/widget 1.0.0 up to (not with) 1.1.0, changed at `modified`.
fn widget_advisory(modified: &str, summary: &str) -> Value {
    json!({
        "schema_version": "1.6.0",
        "id": WIDGET_ADVISORY,
        "modified": modified,
        "published": "2026-01-10T08:00:00Z",
        "aliases": ["CVE-2026-0001"],
        "summary": summary,
        "database_specific": {"severity": "HIGH"},
        "references": [{"type": "ADVISORY", "url": "https://example.test/GHSA-wdgt-0001-xss0"}],
        "affected": [{
            "package": {"ecosystem": "Packagist", "name": "acme/widget"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0.0"}, {"fixed": "1.1.0"}]}]
        }]
    })
}

/// An advisory on a package nobody here requires, of low severity.
fn other_advisory() -> Value {
    json!({
        "id": OTHER_ADVISORY,
        "modified": "2026-02-01T00:00:00Z",
        "summary": "Remote code execution in other/lib",
        "database_specific": {"severity": "LOW"},
        "affected": [{
            "package": {"ecosystem": "Packagist", "name": "other/lib"},
            "versions": ["2.0.0"]
        }]
    })
}

/// A Git repository of acme/widget tagged 1.0.0 and 1.1.0.
fn widget_repo(root: &Path) -> PathBuf {
    let repo = root.join("widget");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let manifest = json!({"name": "acme/widget", "type": "library", "license": "MIT"});
    write(&repo, "composer.json", &manifest.to_string());
    for version in ["1.0.0", "1.1.0"] {
        write(&repo, "VERSION", version);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", version]);
        git(&repo, &["tag", version]);
    }
    repo
}

fn sync_widget(s: &TestServer) {
    let url = format!("file://{}", widget_repo(s.dir.path()).display());
    let created = api(
        s,
        "POST",
        "/api/v1/packages",
        Some(&json!({"repository_url": url, "type": "git"})),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    wait_for_task(s, &created.json()["data"]["task"]);
}

fn project(s: &TestServer, name: &str) -> PathBuf {
    let dir = s.dir.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = json!({
        "name": "test/app",
        "repositories": [{"type": "composer", "url": s.base}, {"packagist.org": false}],
        "config": {"secure-http": false}
    });
    write(&dir, "composer.json", &manifest.to_string());
    dir
}

fn composer(dir: &Path, s: &TestServer, args: &[&str]) -> std::process::Output {
    common::composer(dir, Some((s, ADMIN)), args)
}

fn cli_code(out: &std::process::Output) -> i32 {
    out.status.code().expect("exited")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Serves `body` to every GET on a loopback port until the test ends; returns its URL.
fn serve_feed(body: Arc<Mutex<Vec<u8>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/osv.json", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            crate::common::read_request_line(&mut stream);
            let body = body.lock().unwrap().clone();
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

#[test]
fn composer_audit_and_cargoman_audit_find_affected_versions() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let feed = s.dir.path().join("feed.json");
        let advisories = json!([
            widget_advisory("2026-01-11T00:00:00Z", "XSS in Widget"),
            other_advisory()
        ]);
        std::fs::write(&feed, advisories.to_string()).unwrap();
        let imported = s.cli(&["advisories", "import", feed.to_str().unwrap()]);
        assert!(imported.status.success(), "{}", describe(&imported));
        assert!(
            stdout(&imported).contains("2 added"),
            "{}",
            describe(&imported)
        );
        sync_widget(&s);

        // The index announces the API; Composer asks it and reports the advisory.
        let index = s.admin(&["/packages.json"]).json();
        assert_eq!(
            index["security-advisories"],
            json!({"metadata": false, "api-url": format!("{}/api/security-advisories/", s.base)})
        );
        let app = project(&s, "affected");
        let out = composer(&app, &s, &["require", "acme/widget:1.0.0"]);
        assert!(out.status.success(), "{backend:?}: {}", describe(&out));
        // Composer 2.5 audits what it just installed and says so (it has no blocking mode yet).
        assert!(
            describe(&out).contains("Found 1 security vulnerability advisory affecting 1 package"),
            "{backend:?}: install-time audit: {}",
            describe(&out)
        );
        let out = composer(&app, &s, &["audit", "--format=json"]);
        assert_ne!(
            out.status.code(),
            Some(0),
            "{backend:?}: {}",
            describe(&out)
        );
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", describe(&out)));
        let found = &report["advisories"]["acme/widget"][0];
        assert_eq!(found["advisoryId"], WIDGET_ADVISORY, "{report}");
        assert_eq!(found["title"], "XSS in Widget");
        assert_eq!(found["cve"], "CVE-2026-0001");
        assert_eq!(found["affectedVersions"], ">=1.0.0,<1.1.0");
        let out = composer(&app, &s, &["audit"]);
        assert_ne!(out.status.code(), Some(0));
        assert!(
            describe(&out).contains("XSS in Widget"),
            "{}",
            describe(&out)
        );

        // cargoman audit on the same lock file, in each format.
        let lock = app.join("composer.lock");
        let lock = lock.to_str().unwrap();
        let text = s.cli(&["audit", lock]);
        assert_eq!(cli_code(&text), 1, "{}", describe(&text));
        assert!(
            stdout(&text).contains(&format!("acme/widget 1.0.0: {WIDGET_ADVISORY} [high]")),
            "{}",
            describe(&text)
        );
        let json_report = s.cli(&["audit", lock, "--format", "json"]);
        assert_eq!(cli_code(&json_report), 1);
        let parsed: Value = serde_json::from_slice(&json_report.stdout).unwrap();
        assert_eq!(parsed["findings"][0]["advisory"], WIDGET_ADVISORY);
        assert_eq!(parsed["findings"][0]["severity"], "high");
        assert_eq!(parsed["findings"].as_array().unwrap().len(), 1);
        let junit = s.cli(&["audit", lock, "--format", "junit"]);
        assert_eq!(cli_code(&junit), 1);
        assert_eq!(
            junit_failures(&stdout(&junit)),
            [WIDGET_ADVISORY.to_string()]
        );
        let sarif = s.cli(&["audit", lock, "--format", "sarif"]);
        let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
        assert_eq!(sarif["version"], "2.1.0");
        assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], WIDGET_ADVISORY);
        assert_eq!(sarif["runs"][0]["results"][0]["level"], "error");
        // Thresholds: high is below critical, unless any finding fails.
        assert_eq!(
            cli_code(&s.cli(&["audit", lock, "--min-severity", "critical"])),
            0
        );
        let any = s.cli(&["audit", lock, "--min-severity", "critical", "--fail-on-any"]);
        assert_eq!(cli_code(&any), 1);
        // Bad arguments, a missing lock file, no database.
        assert_eq!(
            cli_code(&s.cli(&["audit", lock, "--min-severity", "severe"])),
            2
        );
        let missing = s.cli(&["audit", "no/such/composer.lock"]);
        assert_eq!(cli_code(&missing), 2, "{}", describe(&missing));
        let no_db = std::process::Command::new(env!("CARGO_BIN_EXE_cargoman"))
            .args(["audit", lock])
            .env_clear()
            .envs(&s.env)
            .env("DATABASE_URL", "sqlite:///nonexistent/dir/cargoman.db")
            .current_dir(s.dir.path())
            .output()
            .unwrap();
        assert_eq!(cli_code(&no_db), 3, "{}", describe(&no_db));

        // The management API's scan names the stored version the advisory affects.
        let scan = api(&s, "POST", "/api/v1/vulnerabilities/scan", None);
        assert_eq!(scan.status, 200, "{}", scan.text());
        assert_eq!(
            scan.json()["data"]["affected"],
            json!([{"advisory": WIDGET_ADVISORY, "severity": "high", "format": "composer",
                    "owner": "cargoman", "package": "acme/widget", "versions": ["1.0.0"]}])
        );

        // The fixed version passes both audits.
        let fixed = project(&s, "fixed");
        let out = composer(&fixed, &s, &["require", "acme/widget:1.1.0"]);
        assert!(out.status.success(), "{}", describe(&out));
        assert!(
            describe(&out).contains("No security vulnerability advisories found"),
            "{backend:?}: {}",
            describe(&out)
        );
        let out = composer(&fixed, &s, &["audit"]);
        assert!(out.status.success(), "{backend:?}: {}", describe(&out));
        let lock = fixed.join("composer.lock");
        let out = s.cli(&["audit", lock.to_str().unwrap()]);
        assert_eq!(cli_code(&out), 0, "{}", describe(&out));
        assert!(stdout(&out).contains("No security advisories affect the 1 locked package(s)"));
    }
}

/// The id of the first advisory a Composer advisories answer lists for `package`.
fn first_id<'a>(answer: &'a Value, package: &str) -> &'a Value {
    &answer["advisories"][package][0]["advisoryId"]
}

/// The names of the failing test cases of a JUnit report, read as XML.
fn junit_failures(xml: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut names = Vec::new();
    let mut current = String::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) if e.name().as_ref() == b"testcase" => {
                let name = e.try_get_attribute("name").unwrap().unwrap();
                current = name.unescape_value().unwrap().into_owned();
            }
            Event::Start(e) if e.name().as_ref() == b"failure" => {
                names.push(current.rsplit(' ').next().unwrap().to_string());
            }
            Event::Eof => return names,
            _ => {}
        }
    }
}

#[test]
fn feeds_import_periodically_and_by_url_and_the_apis_answer() {
    for backend in backends() {
        let body = Arc::new(Mutex::new(
            widget_advisory("2026-01-11T00:00:00Z", "first")
                .to_string()
                .into_bytes(),
        ));
        let url = serve_feed(body.clone());
        let s = TestServer::start_with(backend, &[("ADVISORIES_URL", url.as_str())]);
        sync_widget(&s);
        // The server queues an import of ADVISORIES_URL at start.
        let deadline = Instant::now() + Duration::from_secs(30);
        while api(&s, "GET", "/api/v1/vulnerabilities", None).json()["pagination"]["total"] != 1 {
            assert!(
                Instant::now() < deadline,
                "{backend:?}: the feed was not imported"
            );
            std::thread::sleep(Duration::from_millis(200));
        }

        // By URL: an older copy is kept, a newer one replaces it, a new id is added.
        *body.lock().unwrap() = json!([
            widget_advisory("2026-01-01T00:00:00Z", "older"),
            other_advisory()
        ])
        .to_string()
        .into_bytes();
        let out = s.cli(&["--json", "advisories", "import", &url]);
        assert!(out.status.success(), "{}", describe(&out));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            report,
            json!({"read": 2, "added": 1, "replaced": 0, "unchanged": 1})
        );
        *body.lock().unwrap() = widget_advisory("2026-03-01T00:00:00Z", "newer")
            .to_string()
            .into_bytes();
        let out = s.cli(&["--json", "advisories", "import", &url]);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["replaced"], 1, "{}", describe(&out));

        // The management API.
        let list = api(&s, "GET", "/api/v1/vulnerabilities", None).json();
        assert_eq!(list["pagination"]["total"], 2);
        assert_eq!(
            list["data"][0]["id"], WIDGET_ADVISORY,
            "newest change first"
        );
        assert_eq!(list["data"][0]["summary"], "newer");
        let high = api(&s, "GET", "/api/v1/vulnerabilities?severity=high", None).json();
        assert_eq!(high["pagination"]["total"], 1);
        let by_package = api(&s, "GET", "/api/v1/vulnerabilities?package=Other/Lib", None).json();
        assert_eq!(by_package["data"][0]["id"], OTHER_ADVISORY);
        let bad = api(&s, "GET", "/api/v1/vulnerabilities?severity=severe", None);
        assert_eq!(bad.status, 400);
        assert!(
            bad.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("severity")
        );
        let one = api(
            &s,
            "GET",
            &format!("/api/v1/vulnerabilities/{WIDGET_ADVISORY}"),
            None,
        );
        assert_eq!(
            one.json()["data"]["osv"]["modified"],
            "2026-03-01T00:00:00Z"
        );
        assert_eq!(one.json()["data"]["cve"], "CVE-2026-0001");
        let none = api(&s, "GET", "/api/v1/vulnerabilities/GHSA-none", None);
        assert_eq!(none.status, 404);
        assert_eq!(none.json()["error"]["code"], "NOT_FOUND");

        // Composer's API: query, form (as Composer posts it), one package, everything.
        let asked = s
            .admin(&["/api/security-advisories/?packages%5B%5D=acme/widget"])
            .json();
        assert_eq!(first_id(&asked, "acme/widget"), WIDGET_ADVISORY);
        assert!(asked["advisories"].get("other/lib").is_none());
        let entry = &asked["advisories"]["acme/widget"][0];
        assert_eq!(entry["reportedAt"], "2026-01-10 08:00:00");
        assert_eq!(
            entry["sources"][0],
            json!({"name": "GitHub", "remoteId": WIDGET_ADVISORY})
        );
        assert_eq!(entry["composerRepository"], s.base);
        let posted = s.admin(&[
            "--data",
            "packages%5B0%5D=acme%2Fwidget&packages%5B1%5D=other%2Flib&packages%5B2%5D=none%2Fhere",
            "/api/security-advisories/",
        ]);
        let posted = posted.json();
        assert_eq!(
            posted["advisories"]["other/lib"][0]["affectedVersions"],
            "2.0.0"
        );
        assert_eq!(posted["advisories"]["none/here"], json!([]));
        let since = s
            .admin(&["/api/security-advisories/?updatedSince=1772000000"])
            .json();
        assert_eq!(
            since["advisories"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["acme/widget"],
            "only the advisory changed since"
        );
        let single = s
            .admin(&["/api/security-advisories/acme/widget.json"])
            .json();
        assert_eq!(first_id(&single, "acme/widget"), WIDGET_ADVISORY);
        let all = s.admin(&["/security-advisories.json"]).json();
        assert_eq!(all["advisories"].as_object().unwrap().len(), 2);
        let empty = s.admin(&["/api/security-advisories/"]);
        assert_eq!(empty.status, 400);
        assert!(empty.text().contains("packages[]"), "{}", empty.text());

        // Anonymous callers of a private instance are challenged; a customer sees only what it
        // may read.
        let anonymous = s.curl(&["/security-advisories.json"]);
        assert_eq!(anonymous.status, 401);
        assert!(
            anonymous
                .header("www-authenticate")
                .unwrap()
                .starts_with("Basic")
        );
        let customer = api(&s, "POST", "/api/v1/customers", Some(&json!({"name": "C"}))).json();
        let (id, token) = (
            customer["data"]["id"].as_str().unwrap().to_string(),
            customer["data"]["token"].as_str().unwrap().to_string(),
        );
        let as_customer = |path: &str| s.curl(&["--user", &format!("token:{token}"), path]).json();
        let nothing = as_customer("/security-advisories.json");
        assert_eq!(nothing["advisories"], json!({}), "{nothing}");
        let granted = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/packages"),
            Some(&json!({"package": "acme/widget", "constraint": "*"})),
        );
        assert!(granted.status < 300, "{}", granted.text());
        let seen = as_customer("/security-advisories.json");
        assert_eq!(
            seen["advisories"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["acme/widget"],
            "{seen}"
        );
        let asked = as_customer("/api/security-advisories/?packages%5B%5D=other/lib");
        assert_eq!(asked["advisories"], json!({}));
    }
}

#[test]
fn invalid_advisories_are_refused_and_nothing_is_stored() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let mut broken = other_advisory();
        broken.as_object_mut().unwrap().remove("modified");
        let file = s.dir.path().join("bad.json");
        std::fs::write(
            &file,
            json!([widget_advisory("2026-01-11T00:00:00Z", "ok"), broken]).to_string(),
        )
        .unwrap();
        let out = s.cli(&["advisories", "import", file.to_str().unwrap()]);
        assert_eq!(cli_code(&out), 1, "{}", describe(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("advisory #2")
                && err.contains(&format!("{OTHER_ADVISORY}: `modified` is missing")),
            "{err}"
        );
        let folder = s.dir.path().join("feed");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("a.json"), other_advisory().to_string()).unwrap();
        std::fs::write(folder.join("b.json"), "{not json").unwrap();
        let out = s.cli(&["advisories", "import", folder.to_str().unwrap()]);
        assert_eq!(cli_code(&out), 1);
        assert!(String::from_utf8_lossy(&out.stderr).contains("b.json: not JSON"));
        let list = api(&s, "GET", "/api/v1/vulnerabilities", None).json();
        assert_eq!(list["pagination"]["total"], 0, "{list}");
        // A good folder imports every file.
        std::fs::write(
            folder.join("b.json"),
            widget_advisory("2026-01-11T00:00:00Z", "ok").to_string(),
        )
        .unwrap();
        let out = s.cli(&["advisories", "import", folder.to_str().unwrap()]);
        assert!(stdout(&out).contains("2 added"), "{}", describe(&out));
    }
}

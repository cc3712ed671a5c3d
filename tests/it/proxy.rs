//! The Packagist proxy against a static Composer v2 repository served by the test on loopback
//! (the "upstream"), installed from by the real `composer`.

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{self, ADMIN, TestServer, api, backends, describe, write};

/// What the loopback upstream serves, and what it was asked.
#[derive(Default)]
struct Upstream {
    files: HashMap<String, (u16, Vec<u8>)>,
    /// Down: every connection is closed unanswered, as by a server that went away.
    down: bool,
    requests: Vec<String>,
}

type Shared = Arc<Mutex<Upstream>>;

/// Starts the upstream; returns its state and base URL.
fn start_upstream() -> (Shared, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shared: Shared = Arc::default();
    let state = shared.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let line = common::read_request_line(&mut stream);
            let path = line.split(' ').nth(1).unwrap_or("").to_string();
            let (status, body) = {
                let mut up = state.lock().unwrap();
                if up.down {
                    continue;
                }
                up.requests.push(path.clone());
                up.files
                    .get(&path)
                    .cloned()
                    .unwrap_or((404, b"not found".to_vec()))
            };
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (shared, base)
}

/// A zip of a package whose `src/Hello.php` names its version.
fn package_zip(name: &str, version: &str) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default();
    let manifest = json!({"name": name, "autoload": {"psr-4": {"Up\\": "src/"}}});
    zip.start_file("composer.json", options).unwrap();
    zip.write_all(manifest.to_string().as_bytes()).unwrap();
    zip.start_file("src/Hello.php", options).unwrap();
    zip.write_all(format!("<?php // {name} {version}\n").as_bytes())
        .unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

fn sha1_hex(data: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, data).unwrap();
    let out = std::process::Command::new("sha1sum")
        .arg(&path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)[..40].to_string()
}

/// One upstream release: (version, release time, shasum to announce: None = the right one).
struct Release<'a> {
    version: &'a str,
    time: &'a str,
    wrong_shasum: bool,
}

/// Publishes `releases` of `name` upstream (newest first), archives included.
fn publish(up: &Shared, base: &str, name: &str, releases: &[Release]) {
    let mut up = up.lock().unwrap();
    let mut entries = Vec::new();
    for r in releases {
        let zip = package_zip(name, r.version);
        let reference = format!("ref{}", r.version.replace('.', ""));
        let path = format!("/files/{name}/{}.zip", r.version);
        let shasum = if r.wrong_shasum {
            "0".repeat(40)
        } else {
            sha1_hex(&zip)
        };
        entries.push(json!({
            "name": name,
            "version": r.version,
            "version_normalized": format!("{}.0", r.version),
            "time": r.time,
            "type": "library",
            "autoload": {"psr-4": {"Up\\": "src/"}},
            "dist": {"type": "zip", "url": format!("{base}{path}"), "reference": reference, "shasum": shasum},
        }));
        up.files.insert(path, (200, zip));
    }
    let doc = json!({"minified": "composer/2.0", "packages": {name: entries}});
    up.files.insert(
        format!("/p2/{name}.json"),
        (200, doc.to_string().into_bytes()),
    );
}

fn asked(up: &Shared, path: &str) -> usize {
    up.lock()
        .unwrap()
        .requests
        .iter()
        .filter(|p| *p == path)
        .count()
}

fn proxy_server(backend: common::Backend, upstream: &str) -> TestServer {
    TestServer::start_with(
        backend,
        &[
            ("PROXY_ENABLED", "true"),
            ("PROXY_PACKAGIST_URL", upstream),
            // Every read is stale: served at once and refreshed in the background.
            ("PROXY_METADATA_TTL", "0"),
        ],
    )
}

fn project(root: &Path, url: &str, name: &str) -> PathBuf {
    let project = root.join(name);
    std::fs::create_dir_all(&project).unwrap();
    let manifest = json!({
        "name": "test/app",
        "repositories": [{"type": "composer", "url": url}, {"packagist.org": false}],
        "config": {"secure-http": false}
    });
    write(&project, "composer.json", &manifest.to_string());
    project
}

fn require(project: &Path, s: &TestServer, package: &str) -> String {
    let out = common::composer(project, Some((s, ADMIN)), &["require", package]);
    assert!(out.status.success(), "{}", describe(&out));
    std::fs::read_to_string(project.join("vendor/up/hello/src/Hello.php")).unwrap()
}

fn versions_of(s: &TestServer, path: &str, extra: &[&str]) -> Vec<String> {
    let auth = format!("Authorization: Bearer {ADMIN}");
    let mut args = vec!["-H", auth.as_str()];
    args.extend_from_slice(extra);
    args.push(path);
    let r = s.curl(&args);
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    let name = path
        .rsplit("/p2/")
        .next()
        .unwrap()
        .trim_end_matches(".json");
    r.json()["packages"][name]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["version"].as_str().map(str::to_string))
        .collect()
}

const HELLO: &str = "up/hello";

fn two_releases() -> [Release<'static>; 2] {
    [
        Release {
            version: "1.1.0",
            time: "2024-03-01T00:00:00+00:00",
            wrong_shasum: false,
        },
        Release {
            version: "1.0.0",
            time: "2024-01-10T00:00:00+00:00",
            wrong_shasum: false,
        },
    ]
}

#[test]
fn composer_installs_through_the_proxy_from_its_cache_and_back_in_time() {
    for backend in backends() {
        let (up, upstream) = start_upstream();
        publish(&up, &upstream, HELLO, &two_releases());
        let s = proxy_server(backend, &upstream);
        let root = tempfile::tempdir().unwrap();

        let first = project(root.path(), &s.base, "first");
        assert!(require(&first, &s, "up/hello:^1.0").contains("up/hello 1.1.0"));
        assert_eq!(asked(&up, "/files/up/hello/1.1.0.zip"), 1);
        // A second project (its own Composer cache) is served the stored archive.
        let second = project(root.path(), &s.base, "second");
        assert!(require(&second, &s, "up/hello:^1.0").contains("up/hello 1.1.0"));
        assert_eq!(asked(&up, "/files/up/hello/1.1.0.zip"), 1, "{backend:?}");

        // Time machine, as a repository URL: the release after the date is hidden.
        let pinned = project(
            root.path(),
            &format!("{}/time-machine/2024-02-01", s.base),
            "pinned",
        );
        assert!(require(&pinned, &s, "up/hello:^1.0").contains("up/hello 1.0.0"));
        // ... and as a header, in RFC 3339.
        let header = "X-Cargoman-Time-Machine: 2024-01-09T23:59:59Z";
        assert!(versions_of(&s, "/p2/up/hello.json", &["-H", header]).is_empty());
        let header = "X-Cargoman-Time-Machine: 2024-03-01";
        assert_eq!(
            versions_of(&s, "/p2/up/hello.json", &["-H", header]),
            ["1.1.0", "1.0.0"]
        );
        let r = s.admin(&[
            "-H",
            "X-Cargoman-Time-Machine: last week",
            "/p2/up/hello.json",
        ]);
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains("RFC 3339"), "{}", r.text());

        // The upstream goes away: a fresh project still installs, from the cache.
        up.lock().unwrap().down = true;
        let offline = project(root.path(), &s.base, "offline");
        assert!(require(&offline, &s, "up/hello:^1.0").contains("up/hello 1.1.0"));
        let r = s.admin(&["/p2/up/hello.json"]);
        assert_eq!(r.status, 200);
        assert!(
            r.header("warning").is_some_and(|w| w.contains("Stale")),
            "{:?}",
            r.headers
        );
        // A name never cached cannot be answered: 502, saying why.
        let r = s.admin(&["/p2/up/other.json"]);
        assert_eq!(r.status, 502, "{}", r.text());
        assert!(r.text().contains("upstream"), "{}", r.text());
        let deadline = Instant::now() + Duration::from_secs(10);
        let alerts = loop {
            let alerts = api(&s, "GET", "/api/v1/proxy/alerts", None).json()["data"].clone();
            if alerts.as_array().is_some_and(|a| !a.is_empty()) || Instant::now() > deadline {
                break alerts;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(
            alerts[0]["url"].as_str().unwrap().starts_with(&upstream),
            "{alerts}"
        );

        let status = api(&s, "GET", "/api/v1/proxy/status", None).json()["data"].clone();
        assert_eq!(status["enabled"], true);
        assert_eq!(status["reachable"], false, "{status}");
        assert_eq!(status["cached_packages"], 1, "{status}");
        assert_eq!(status["archives"], 2, "{status}");
        assert!(status["bytes"].as_i64().unwrap() > 0);
        let stats = api(&s, "GET", "/api/v1/proxy/stats", None).json()["data"].clone();
        assert!(stats["hits"].as_u64().unwrap() >= 3, "{stats}");
        assert!(stats["misses"].as_u64().unwrap() >= 1, "{stats}");
        assert!(stats["errors"].as_u64().unwrap() >= 1, "{stats}");

        // Purge: nothing cached is left; with the upstream back, it is fetched again.
        let r = api(&s, "POST", "/api/v1/proxy/purge", None);
        assert_eq!(r.json()["data"]["archives_deleted"], 2, "{}", r.text());
        let status = api(&s, "GET", "/api/v1/proxy/status", None).json()["data"].clone();
        assert_eq!(
            (
                status["cached_packages"].as_i64(),
                status["archives"].as_i64()
            ),
            (Some(0), Some(0))
        );
        up.lock().unwrap().down = false;
        let after = project(root.path(), &s.base, "after-purge");
        assert!(require(&after, &s, "up/hello:^1.0").contains("up/hello 1.1.0"));
        assert_eq!(asked(&up, "/files/up/hello/1.1.0.zip"), 2, "{backend:?}");
    }
}

fn poll_versions(s: &TestServer, path: &str, until: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = versions_of(s, path, &[]);
        if until(&seen) || Instant::now() > deadline {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn private_names_win_freeze_holds_and_bad_archives_are_not_stored() {
    for backend in backends() {
        let (up, upstream) = start_upstream();
        publish(&up, &upstream, HELLO, &two_releases()[1..]);
        let widget = [Release {
            version: "9.0.0",
            time: "2024-01-01T00:00:00+00:00",
            wrong_shasum: false,
        }];
        publish(&up, &upstream, "acme/widget", &widget);
        let root = tempfile::tempdir().unwrap();

        // Off by default: no name leaves the server.
        let off = TestServer::start_with(backend, &[("PROXY_PACKAGIST_URL", &upstream)]);
        assert_eq!(off.admin(&["/p2/up/hello.json"]).status, 404);
        assert_eq!(
            off.admin(&["/dist-proxy/up/hello/1.0.0/ref100.zip"]).status,
            404
        );
        assert!(off.admin(&["/packages.json"]).json()["available-packages"].is_array());
        assert_eq!(asked(&up, "/p2/up/hello.json"), 0);

        let s = proxy_server(backend, &upstream);
        common::synced_composer_package(&s, &root.path().join("widget"), "acme/widget", "v1.0.0");
        assert_eq!(versions_of(&s, "/p2/acme/widget.json", &[]), ["1.0.0"]);
        s.admin(&["/p2/acme/widget~dev.json"]);
        assert_eq!(asked(&up, "/p2/acme/widget.json"), 0, "{backend:?}");
        assert_eq!(asked(&up, "/p2/acme/widget~dev.json"), 0, "{backend:?}");
        let index = s.admin(&["/packages.json"]).json();
        assert!(index.get("available-packages").is_none(), "{index}");
        // Unknown upstream: 404; not a Composer name: 404 saying so, and never asked upstream.
        assert_eq!(s.admin(&["/p2/up/none.json"]).status, 404);
        let r = s.admin(&["/p2/up/a%3Fb.json"]);
        assert_eq!(r.status, 404, "{}", r.text());
        assert!(r.text().contains("invalid"), "{}", r.text());
        let r = s.admin(&["-X", "POST", "/api/v1/proxy/freeze/up/a%3Fb"]);
        assert_eq!(r.status, 400, "{}", r.text());
        let asked_any = |part: &str| up.lock().unwrap().requests.iter().any(|p| p.contains(part));
        assert!(!asked_any("a?b") && !asked_any("a%3Fb"));
        // Customers see their grants only: never the proxy.
        let customer = api(&s, "POST", "/api/v1/customers", Some(&json!({"name": "C"})));
        let token = customer.json()["data"]["token"]
            .as_str()
            .unwrap()
            .to_string();
        let r = s.curl(&["-u", &format!("token:{token}"), "/p2/up/hello.json"]);
        assert_eq!(r.status, 404, "{}", r.text());

        // Frozen: a newer upstream release is not seen; unfrozen, it is.
        assert_eq!(versions_of(&s, "/p2/up/hello.json", &[]), ["1.0.0"]);
        let r = api(&s, "POST", "/api/v1/proxy/freeze/up/hello", None);
        assert_eq!(r.json()["data"]["frozen"], true, "{}", r.text());
        publish(&up, &upstream, HELLO, &two_releases());
        let fetches = asked(&up, "/p2/up/hello.json");
        for _ in 0..3 {
            assert_eq!(versions_of(&s, "/p2/up/hello.json", &[]), ["1.0.0"]);
            std::thread::sleep(Duration::from_millis(300));
        }
        assert_eq!(asked(&up, "/p2/up/hello.json"), fetches, "{backend:?}");
        let frozen_project = project(root.path(), &s.base, "frozen");
        assert!(require(&frozen_project, &s, "up/hello:^1.0").contains("up/hello 1.0.0"));
        api(&s, "POST", "/api/v1/proxy/unfreeze/up/hello", None);
        let seen = poll_versions(&s, "/p2/up/hello.json", |v| v.len() == 2);
        assert_eq!(seen, ["1.1.0", "1.0.0"], "{backend:?}");

        // An archive whose SHA-1 is not the announced shasum is refused and nothing is kept.
        let bad = [Release {
            version: "2.0.0",
            time: "2024-05-01T00:00:00+00:00",
            wrong_shasum: true,
        }];
        publish(&up, &upstream, HELLO, &bad);
        poll_versions(&s, "/p2/up/hello.json", |v| v == ["2.0.0"]);
        for attempt in 1..=2 {
            let r = s.admin(&["/dist-proxy/up/hello/2.0.0/ref200.zip"]);
            assert_eq!(r.status, 502, "{}", r.text());
            assert!(r.text().contains("SHA-1"), "{}", r.text());
            assert_eq!(asked(&up, "/files/up/hello/2.0.0.zip"), attempt);
        }
        let status = api(&s, "GET", "/api/v1/proxy/status", None).json()["data"].clone();
        assert_eq!(status["archives"], 1, "{status}");
        // A reference the metadata does not list is not fetched.
        let r = s.admin(&["/dist-proxy/up/hello/2.0.0/other.zip"]);
        assert_eq!(r.status, 404, "{}", r.text());
        let alerts: Value = api(&s, "GET", "/api/v1/proxy/alerts", None).json()["data"].clone();
        assert!(alerts.to_string().contains("SHA-1"), "{alerts}");
    }
}

#[test]
fn archives_expire_and_the_least_recently_used_make_room() {
    for backend in backends() {
        let (up, upstream) = start_upstream();
        publish(&up, &upstream, HELLO, &two_releases());
        let (old, new) = ("/files/up/hello/1.0.0.zip", "/files/up/hello/1.1.0.zip");
        // Room for one archive only: each new one pushes out the least recently used.
        let one = package_zip(HELLO, "1.0.0").len().to_string();
        let s = TestServer::start_with(
            backend,
            &[
                ("PROXY_ENABLED", "true"),
                ("PROXY_PACKAGIST_URL", &upstream),
                ("PROXY_MAX_CACHE_SIZE", &one),
            ],
        );
        let get = |path: &str| {
            let r = s.admin(&[path]);
            assert_eq!(r.status, 200, "{path}: {}", r.text());
            assert_eq!(
                r.body,
                up.lock().unwrap().files[if path.contains("1.0.0") { old } else { new }].1
            );
        };
        get("/dist-proxy/up/hello/1.0.0/ref100.zip");
        get("/dist-proxy/up/hello/1.0.0/ref100.zip");
        assert_eq!(asked(&up, old), 1);
        get("/dist-proxy/up/hello/1.1.0/ref110.zip");
        let status = api(&s, "GET", "/api/v1/proxy/status", None).json()["data"].clone();
        assert_eq!(status["archives"], 1, "{backend:?} {status}");
        get("/dist-proxy/up/hello/1.0.0/ref100.zip");
        assert_eq!(asked(&up, old), 2, "{backend:?}");

        // Archives older than PROXY_ARCHIVE_TTL are fetched again.
        let expiring = TestServer::start_with(
            backend,
            &[
                ("PROXY_ENABLED", "true"),
                ("PROXY_PACKAGIST_URL", &upstream),
                ("PROXY_ARCHIVE_TTL", "0"),
            ],
        );
        for _ in 0..2 {
            let r = expiring.admin(&["/dist-proxy/up/hello/1.1.0/ref110.zip"]);
            assert_eq!(r.status, 200, "{}", r.text());
        }
        assert_eq!(asked(&up, new), 3, "{backend:?}");
        // With the upstream gone, the expired copy is still served.
        up.lock().unwrap().down = true;
        let r = expiring.admin(&["/dist-proxy/up/hello/1.1.0/ref110.zip"]);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.body, up.lock().unwrap().files[new].1);
    }
}

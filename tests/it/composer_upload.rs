//! Composer packages uploaded as zips: Gitea's `/api/packages/{owner}/composer` dialect, checked
//! the way Gitea's own tests check it, with hostile archives, and installed by the real client.

use crate::common;

use std::io::Write;
use std::path::Path;

use crate::common::{ADMIN, TestServer, backends, write};
use serde_json::{Value, json};

/// A zip of (path, content) pairs.
fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default();
        for (path, content) in files {
            zip.start_file(*path, options).unwrap();
            zip.write_all(content.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }
    out.into_inner()
}

const NAME: &str = "gitea/composer-package";

fn manifest(extra: Value) -> String {
    let mut m = json!({
        "name": NAME,
        "description": "Package Description",
        "type": "composer-plugin",
        "license": "MIT",
        "authors": [{"name": "Gitea Authors"}],
        "bin": ["./bin/script"],
        "autoload": {"psr-4": {"Gitea\\Pkg\\": "src/"}}
    });
    for (k, v) in extra.as_object().unwrap() {
        m[k] = v.clone();
    }
    m.to_string()
}

fn put(s: &TestServer, auth: Option<&str>, path: &str, body: &[u8]) -> common::Reply {
    let file = s.dir.path().join(format!("upload-{}.zip", rand_suffix()));
    std::fs::write(&file, body).unwrap();
    let mut args: Vec<String> = vec!["-X".into(), "PUT".into(), "--data-binary".into()];
    args.push(format!("@{}", file.display()));
    if let Some(a) = auth {
        args.extend(["-H".into(), format!("Authorization: Bearer {a}")]);
    }
    args.push(path.into());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    s.curl(&refs)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn get(s: &TestServer, path: &str) -> common::Reply {
    s.curl(&["-H", &format!("Authorization: Bearer {ADMIN}"), path])
}

fn sha1_hex(data: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data);
    hex::encode(digest.as_ref())
}

#[test]
fn gitea_composer_endpoints_behave_as_gitea_tests_them() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let base = "/api/packages/acme/composer";
        let content = zip_of(&[
            ("composer.json", &manifest(json!({}))),
            ("src/A.php", "<?php\n"),
        ]);

        let index = get(&s, &format!("{base}/packages.json")).json();
        let full = s.url(base);
        assert_eq!(
            index["search"],
            format!("{full}/search.json?q=%query%&type=%type%")
        );
        assert_eq!(index["metadata-url"], format!("{full}/p2/%package%.json"));
        assert_eq!(index["list"], format!("{full}/list.json"));

        // Upload: no version anywhere is 400; then 201; the same again 409.
        let missing = put(&s, Some(ADMIN), base, &content);
        assert_eq!(missing.status, 400, "{}", missing.text());
        let upload = format!("{base}?version=1.0.3");
        let created = put(&s, Some(ADMIN), &upload, &content);
        assert_eq!(created.status, 201, "{backend:?}: {}", created.text());
        assert_eq!(put(&s, Some(ADMIN), &upload, &content).status, 409);

        // Download by Gitea's file URL.
        let file =
            format!("{base}/files/gitea%2Fcomposer-package/1.0.3/gitea-composer-package.1.0.3.zip");
        let downloaded = get(&s, &file);
        assert_eq!(downloaded.status, 200, "{}", downloaded.text());
        assert_eq!(downloaded.body, content);

        for (q, kind, page, per_page, total, results) in [
            ("", "", 0, 0, 1, 1),
            ("", "", 1, 1, 1, 1),
            ("test", "", 1, 0, 0, 0),
            ("gitea", "", 1, 1, 1, 1),
            ("gitea", "", 2, 1, 1, 0),
            ("", "composer-plugin", 1, 1, 1, 1),
            ("gitea", "composer-plugin", 1, 1, 1, 1),
            ("gitea", "dummy", 1, 1, 0, 0),
        ] {
            let r = get(
                &s,
                &format!("{base}/search.json?q={q}&type={kind}&page={page}&per_page={per_page}"),
            )
            .json();
            assert_eq!(r["total"], total, "{q} {kind} {page} {per_page}: {r}");
            assert_eq!(r["results"].as_array().unwrap().len(), results, "{r}");
        }

        let list = get(&s, &format!("{base}/list.json")).json();
        assert_eq!(list["packageNames"], json!([NAME]));

        let meta = get(&s, &format!("{base}/p2/gitea/composer-package.json")).json();
        let v = &meta["packages"][NAME][0];
        assert_eq!(v["name"], NAME);
        assert_eq!(v["version"], "1.0.3");
        assert_eq!(v["type"], "composer-plugin");
        assert_eq!(v["description"], "Package Description");
        assert_eq!(v["authors"][0]["name"], "Gitea Authors");
        assert_eq!(v["bin"], json!(["./bin/script"]));
        assert_eq!(v["dist"]["type"], "zip");
        assert_eq!(v["dist"]["shasum"], sha1_hex(&content));
        assert_eq!(v["dist"]["url"], s.url(&file));
        let dev = get(&s, &format!("{base}/p2/gitea/composer-package~dev.json")).json();
        assert_eq!(dev["packages"][NAME], json!([]));
        assert_eq!(
            get(&s, &format!("{base}/p2/gitea/missing.json")).status,
            404
        );

        // The real client installs from the Gitea URL (a library: a plugin would need a plugin class).
        let library = zip_of(&[
            (
                "lib-1.2.0/composer.json",
                &json!({"name": "acme/lib", "autoload": {"psr-4": {"Acme\\Lib\\": "src/"}}})
                    .to_string(),
            ),
            (
                "lib-1.2.0/src/Lib.php",
                "<?php\nnamespace Acme\\Lib;\nclass Lib {}\n",
            ),
        ]);
        assert_eq!(
            put(&s, Some(ADMIN), &format!("{base}?version=1.2.0"), &library).status,
            201
        );
        let project = s.dir.path().join("app");
        std::fs::create_dir_all(&project).unwrap();
        write(
            &project,
            "composer.json",
            &json!({
                "name": "test/app",
                "repositories": [{"type": "composer", "url": s.url(base)}, {"packagist.org": false}],
                "config": {"secure-http": false, "allow-plugins": false},
                "minimum-stability": "stable"
            })
            .to_string(),
        );
        let out = composer(&project, &s, &["require", "acme/lib:^1.2"]);
        assert!(
            out.status.success(),
            "{backend:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(project.join("vendor/acme/lib/src/Lib.php").exists());
    }
}

fn composer(project: &Path, s: &TestServer, args: &[&str]) -> std::process::Output {
    common::composer(project, Some((s, ADMIN)), args)
}

#[test]
fn hostile_or_wrong_archives_are_refused_and_nothing_is_stored() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let base = "/api/packages/acme/composer";
        let upload = format!("{base}?version=1.0.0");
        let cases: Vec<(&str, Vec<u8>, u16)> = vec![
            (
                "not a zip",
                b"PK\x03\x04 definitely not a zip".to_vec(),
                422,
            ),
            ("empty body", Vec::new(), 422),
            ("no composer.json", zip_of(&[("src/A.php", "<?php")]), 422),
            (
                "broken composer.json",
                zip_of(&[("composer.json", "{nope")]),
                422,
            ),
            (
                "zip-slip entry",
                zip_of(&[
                    ("composer.json", &manifest(json!({}))),
                    ("../evil.php", "x"),
                ]),
                422,
            ),
            (
                "absolute entry",
                zip_of(&[
                    ("composer.json", &manifest(json!({}))),
                    ("/etc/cron.d/x", "x"),
                ]),
                422,
            ),
            (
                "version differs from the URL",
                zip_of(&[("composer.json", &manifest(json!({"version": "2.0.0"})))]),
                422,
            ),
            (
                "invalid package name",
                zip_of(&[("composer.json", &manifest(json!({"name": "Not Valid"})))]),
                422,
            ),
        ];
        for (what, body, status) in cases {
            let r = put(&s, Some(ADMIN), &upload, &body);
            assert_eq!(r.status, status, "{backend:?} {what}: {}", r.text());
            assert!(!r.text().trim().is_empty(), "{what}: the refusal says why");
        }
        let bad_version = put(
            &s,
            Some(ADMIN),
            &format!("{base}?version=not-a-version"),
            &zip_of(&[("composer.json", &manifest(json!({})))]),
        );
        assert_eq!(bad_version.status, 400, "{}", bad_version.text());
        let list = get(&s, &format!("{base}/list.json")).json();
        assert_eq!(
            list["packageNames"],
            json!([]),
            "{backend:?}: nothing stored"
        );

        // Who may do what: anonymous 401, a viewer may read but not upload.
        let good = zip_of(&[("composer.json", &manifest(json!({})))]);
        assert_eq!(put(&s, None, &upload, &good).status, 401);
        let viewer = s
            .curl(&[
                "-H",
                &format!("Authorization: Bearer {ADMIN}"),
                "-H",
                "Content-Type: application/json",
                "-d",
                r#"{"name":"v","level":"viewer"}"#,
                "/api/v1/tokens",
            ])
            .json()["data"]["token"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(put(&s, Some(&viewer), &upload, &good).status, 403);
        let listed = s.curl(&[
            "-H",
            &format!("Authorization: Bearer {viewer}"),
            &format!("{base}/list.json"),
        ]);
        assert_eq!(listed.status, 200);
        assert_eq!(s.curl(&[&format!("{base}/packages.json")]).status, 401);
    }
}

//! Names that display otherwise than they are stored — control characters and Unicode's
//! bidirectional formatting characters such as U+202E — are refused wherever a name or version
//! enters: uploads of every format, zip entries, Git refs and the management API.

use crate::common;

use std::io::Write;

use crate::common::{TestServer, api, backends, git, versions, wait_for_task, write};
use serde_json::json;

/// U+202E RIGHT-TO-LEFT OVERRIDE, percent-encoded for a URL.
const RLO_IN_URL: &str = "%E2%80%AE";

fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, content) in files {
        zip.start_file(*path, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn put(s: &TestServer, path: &str, body: &[u8]) -> common::Reply {
    let file = s.dir.path().join("upload.bin");
    std::fs::write(&file, body).unwrap();
    let file = file.display().to_string();
    s.admin(&["--upload-file", &file, path])
}

#[test]
fn uploads_refuse_hidden_characters_in_versions_and_entry_names() {
    for backend in backends() {
        let s = TestServer::start(backend);

        // Generic: any version text was allowed but control characters.
        for hidden in [RLO_IN_URL, "%E2%81%A6", "%E2%80%8F"] {
            let path = format!("/api/packages/acme/generic/tool/1.0.0{hidden}/tool.bin");
            let r = put(&s, &path, b"payload");
            assert_eq!(r.status, 400, "{backend:?} {hidden}: {}", r.text());
            assert!(r.text().contains("bidirectional"), "{}", r.text());
        }
        let r = put(
            &s,
            "/api/packages/acme/generic/tool/1.0.0/tool.bin",
            b"payload",
        );
        assert_eq!(r.status, 201, "{}", r.text());

        // Composer (Gitea's URL): entry names and branch versions.
        let base = "/api/packages/acme/composer";
        let manifest = json!({"name": "acme/lib"}).to_string();
        let spoofed = zip_of(&[
            ("composer.json", &manifest),
            ("src/invoice\u{202E}gpj.php", "<?php\n"),
        ]);
        let r = put(&s, &format!("{base}?version=1.0.0"), &spoofed);
        assert_eq!(r.status, 422, "{backend:?}: {}", r.text());
        assert!(r.text().contains("U+202E"), "{}", r.text());
        let controlled = zip_of(&[("composer.json", &manifest), ("src/a\u{1b}[2J.php", "")]);
        let r = put(&s, &format!("{base}?version=1.0.0"), &controlled);
        assert_eq!(r.status, 422, "{}", r.text());
        let clean = zip_of(&[("composer.json", &manifest), ("src/A.php", "<?php\n")]);
        let r = put(&s, &format!("{base}?version=dev-main{RLO_IN_URL}"), &clean);
        assert_eq!(r.status, 400, "{backend:?}: {}", r.text());
        assert!(r.text().contains("U+202E"), "{}", r.text());
        let r = put(&s, &format!("{base}?version=1.0.0"), &clean);
        assert_eq!(r.status, 201, "{}", r.text());
    }
}

#[test]
fn git_refs_and_management_names_refuse_hidden_characters() {
    for backend in backends() {
        let s = TestServer::start(backend);

        // A branch whose name hides its end is skipped, with the reason.
        let repo = s.dir.path().join("widget");
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        write(&repo, "composer.json", r#"{"name": "acme/widget"}"#);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "first"]);
        git(&repo, &["tag", "v1.0.0"]);
        git(&repo, &["branch", "fix\u{202E}exe.gnp"]);
        let url = format!("file://{}", repo.display());
        let created = api(
            &s,
            "POST",
            "/api/v1/packages",
            Some(&json!({"repository_url": url})),
        );
        assert_eq!(created.status, 201, "{backend:?}: {}", created.text());
        wait_for_task(&s, &created.json()["data"]["task"]);
        assert_eq!(versions(&s), ["1.0.0", "dev-main"], "{backend:?}");
        let package = api(&s, "GET", "/api/v1/packages/acme/widget", None).json();
        let skipped = package["data"]["skipped"].to_string();
        assert!(skipped.contains("U+202E"), "{skipped}");

        // Names in the management API.
        let name = "Acme\u{202E}moc.evil";
        for (path, body) in [
            ("/api/v1/customers", json!({"name": name})),
            ("/api/v1/tokens", json!({"name": name, "level": "viewer"})),
            (
                "/api/v1/collections",
                json!({"name": name, "slug": "spoof", "packages": []}),
            ),
        ] {
            let r = api(&s, "POST", path, Some(&body));
            assert_eq!(r.status, 400, "{path}: {}", r.text());
            assert!(r.text().contains("U+202E"), "{path}: {}", r.text());
        }
        let r = api(
            &s,
            "POST",
            "/api/v1/customers",
            Some(&json!({"name": "Acme"})),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
}

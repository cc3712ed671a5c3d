//! Nitro Repo's Composer repositories (seed 003): `/repositories/{storage}/{repository}/…` and
//! the management API `/api/repository/{id}/…`, driven with curl, the seed's own publishing
//! script and the real `composer` client.

use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{ADMIN, Reply, TestServer, backends};
use serde_json::{Value, json};

/// Seed 003's "Complete Publishing Workflow" script, exactly as the seed prints it.
const SEED_WORKFLOW: &str = r###"#!/bin/bash
HOST="https://nitro.example.com"
STORAGE="storage"
REPO="php-repo"
PACKAGE="mycompany/mypackage"
VERSION="1.0.0"
USER="username"
PASS="password"

# Calculate file hash
ARCHIVE_NAME="${PACKAGE/\//-}-${VERSION}.zip"
HASH=$(sha1sum "$ARCHIVE_NAME" | cut -d' ' -f1)

# 1. Upload package archive
echo "Uploading package archive..."
curl -X PUT \
     -u "${USER}:${PASS}" \
     -T "$ARCHIVE_NAME" \
     "${HOST}/repositories/${STORAGE}/${REPO}/downloads/${ARCHIVE_NAME}"

# 2. Create package metadata
cat > package.json << EOF
{
  "name": "${PACKAGE}",
  "description": "My awesome package",
  "version": "${VERSION}",
  "type": "library",
  "license": "MIT",
  "authors": [
    {
      "name": "Your Name",
      "email": "your.email@example.com"
    }
  ],
  "source": {
    "type": "git",
    "url": "https://github.com/mycompany/mypackage.git",
    "reference": "v${VERSION}"
  },
  "dist": {
    "type": "zip",
    "url": "${HOST}/repositories/${STORAGE}/${REPO}/downloads/${ARCHIVE_NAME}",
    "reference": "v${VERSION}",
    "shasum": "${HASH}"
  },
  "require": {
    "php": ">=7.4"
  },
  "autoload": {
    "psr-4": {
      "MyCompany\\\\MyPackage\\\\": "src/"
    }
  },
  "time": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
EOF

# 3. Upload package metadata
echo "Updating package metadata..."
curl -X PUT \
     -u "${USER}:${PASS}" \
     -H "Content-Type: application/json" \
     -d @package.json \
     "${HOST}/repositories/${STORAGE}/${REPO}/p/${PACKAGE}.json"

# 4. Get current repository index
echo "Updating repository index..."
curl -u "${USER}:${PASS}" \
     "${HOST}/repositories/${STORAGE}/${REPO}/packages.json" \
     > packages.json

# 5. Update packages.json with new package (would require script to properly merge)
# This step would typically be automated by the repository system

echo "Package ${PACKAGE} version ${VERSION} published successfully!"
"###;

/// The seed's script with its settings (the variables at the top) pointed at our server.
fn workflow_script(host: &str, storage: &str, repo: &str, user: &str, pass: &str) -> String {
    SEED_WORKFLOW
        .lines()
        .map(|line| match line.split_once('=') {
            Some(("HOST", _)) => format!("HOST=\"{host}\""),
            Some(("STORAGE", _)) => format!("STORAGE=\"{storage}\""),
            Some(("REPO", _)) => format!("REPO=\"{repo}\""),
            Some(("USER", _)) => format!("USER=\"{user}\""),
            Some(("PASS", _)) => format!("PASS=\"{pass}\""),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A package archive: `composer.json` (under `top` when given) plus PHP files.
fn archive(manifest: &Value, top: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    let manifest = manifest.to_string();
    let all = std::iter::once(("composer.json", manifest.as_str())).chain(files.iter().copied());
    for (path, content) in all {
        zip.start_file(format!("{top}{path}"), options).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A library `name` whose class `{Class}` sits in `src/`.
fn library(name: &str, class: &str, extra: Value) -> Vec<u8> {
    let namespace = class.rsplit_once('\\').map_or("", |(ns, _)| ns);
    let short = class.rsplit('\\').next().unwrap();
    let mut manifest = json!({
        "name": name,
        "description": format!("The {short} library"),
        "autoload": {"psr-4": {format!("{namespace}\\"): "src/"}},
    });
    for (k, v) in extra.as_object().unwrap() {
        manifest[k] = v.clone();
    }
    let php = format!("<?php\nnamespace {namespace};\nclass {short} {{}}\n");
    archive(&manifest, "", &[(&format!("src/{short}.php"), &php)])
}

fn sha1_of(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        data,
    ))
}

fn sha256_of(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data))
}

/// Who calls: the root token as HTTP Basic password, another token, or nobody.
#[derive(Clone, Copy)]
enum As<'a> {
    Admin,
    Token(&'a str),
    Anonymous,
}

/// One Nitro repository of a test server.
struct Repo<'a> {
    s: &'a TestServer,
    /// `/repositories/{storage}/{repository}`
    path: String,
}

impl<'a> Repo<'a> {
    fn new(s: &'a TestServer, storage: &str, repository: &str) -> Self {
        Repo {
            s,
            path: format!("/repositories/{storage}/{repository}"),
        }
    }

    fn url(&self, rest: &str) -> String {
        self.s.url(&format!("{}/{rest}", self.path))
    }

    fn call(&self, who: As, args: &[&str], rest: &str) -> Reply {
        let credentials = match who {
            As::Admin => Some(format!("ci:{ADMIN}")),
            As::Token(t) => Some(format!("ci:{t}")),
            As::Anonymous => None,
        };
        let mut all: Vec<&str> = Vec::new();
        if let Some(c) = &credentials {
            all.extend(["--user", c.as_str()]);
        }
        all.extend_from_slice(args);
        let path = format!("{}/{rest}", self.path);
        all.push(&path);
        self.s.curl(&all)
    }

    fn get(&self, rest: &str) -> Reply {
        self.call(As::Admin, &[], rest)
    }

    fn put_bytes(&self, who: As, rest: &str, body: &[u8]) -> Reply {
        let file = self.s.dir.path().join(format!("body-{}", sha256_of(body)));
        std::fs::write(&file, body).unwrap();
        let file = file.display().to_string();
        self.call(who, &["--upload-file", &file], rest)
    }

    fn upload(&self, file: &str, body: &[u8]) -> Reply {
        self.put_bytes(As::Admin, &format!("downloads/{file}"), body)
    }

    fn send_json(&self, who: As, method: &str, rest: &str, body: &str) -> Reply {
        self.call(
            who,
            &[
                "-X",
                method,
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                body,
            ],
            rest,
        )
    }
}

/// Management API call with a Bearer token.
fn manage(s: &TestServer, token: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
    let auth = format!("Authorization: Bearer {token}");
    let mut args = vec!["-X", method, "-H", auth.as_str()];
    let body = body.map(Value::to_string);
    if let Some(b) = &body {
        args.extend(["-H", "Content-Type: application/json", "--data-binary", b]);
    }
    args.push(path);
    s.curl(&args)
}

fn team_token(s: &TestServer, level: &str) -> String {
    let r = manage(
        s,
        ADMIN,
        "POST",
        "/api/v1/tokens",
        Some(&json!({"name": format!("{level} user"), "level": level})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["data"]["token"].as_str().unwrap().to_string()
}

/// Asserts Nitro's error body and returns its message.
fn nitro_error(r: &Reply, status: u16, error: &str) -> String {
    assert_eq!(r.status, status, "{}", r.text());
    let body = r.json();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["details"].is_object(), "{body}");
    body["message"].as_str().unwrap().to_string()
}

/// Runs `composer` in a fresh project whose only repository is `repository_url`.
fn composer_require(
    s: &TestServer,
    project: &str,
    repository_url: &str,
    package: &str,
) -> std::process::Output {
    let dir = s.dir.path().join(project);
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = json!({
        "name": "test/app",
        "repositories": [{"type": "composer", "url": repository_url}, {"packagist.org": false}],
        "config": {"secure-http": false, "allow-plugins": false},
        "minimum-stability": "stable",
    });
    std::fs::write(dir.join("composer.json"), manifest.to_string()).unwrap();
    common::composer(&dir, Some((s, ADMIN)), &["require", package])
}

fn assert_installed(s: &TestServer, project: &str, out: &std::process::Output, file: &str) {
    assert!(
        out.status.success(),
        "composer in {project}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let installed = s.dir.path().join(project).join("vendor").join(file);
    assert!(
        Path::new(&installed).exists(),
        "{} missing",
        installed.display()
    );
}

/// Polls the repository's statistics until `ready` holds (download counts are flushed every
/// few seconds).
fn stats_when(s: &TestServer, id: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = manage(
            s,
            ADMIN,
            "GET",
            &format!("/api/repository/{id}/stats"),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let stats = r.json();
        if ready(&stats) {
            return stats;
        }
        assert!(
            Instant::now() < deadline,
            "statistics never got there: {stats}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn the_seed_publishing_workflow_runs_unchanged_and_composer_installs_from_both_urls() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let work = s.dir.path().join("workflow");
        std::fs::create_dir_all(&work).unwrap();
        let zip = library(
            "mycompany/mypackage",
            "MyCompany\\MyPackage\\Greeter",
            json!({"description": "from the archive"}),
        );
        std::fs::write(work.join("mycompany-mypackage-1.0.0.zip"), &zip).unwrap();
        let script = workflow_script(&s.base, "storage", "php-repo", "username", ADMIN);
        std::fs::write(work.join("publish.sh"), script).unwrap();
        let out = Command::new("bash")
            .arg("publish.sh")
            .current_dir(&work)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{backend:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("published successfully"), "{stdout}");

        // Step 1 stored the archive, step 3 merged the metadata, step 4 fetched the index.
        let repo = Repo::new(&s, "storage", "php-repo");
        let entry = repo.get("p/mycompany/mypackage/1.0.0.json").json();
        assert_eq!(entry["name"], "mycompany/mypackage");
        assert_eq!(entry["version"], "1.0.0");
        assert_eq!(entry["description"], "My awesome package", "{entry}");
        assert_eq!(entry["license"], "MIT");
        assert_eq!(entry["authors"][0]["name"], "Your Name");
        assert_eq!(entry["source"]["reference"], "v1.0.0");
        assert_eq!(entry["require"]["php"], ">=7.4");
        assert_eq!(entry["autoload"]["psr-4"]["MyCompany\\MyPackage\\"], "src/");
        assert_eq!(entry["dist"]["shasum"], sha1_of(&zip));
        assert_eq!(
            entry["dist"]["url"],
            repo.url("downloads/mycompany-mypackage-1.0.0.zip")
        );
        let fetched: Value =
            serde_json::from_slice(&std::fs::read(work.join("packages.json")).unwrap()).unwrap();
        assert_eq!(
            fetched["packages"]["mycompany/mypackage"]["1.0.0"]["description"],
            "My awesome package"
        );

        // The real client, from the Nitro URL and from Gitea's URL of the same packages.
        let nitro = composer_require(
            &s,
            "from-nitro",
            &s.url("/repositories/storage/php-repo"),
            "mycompany/mypackage:^1.0",
        );
        assert_installed(
            &s,
            "from-nitro",
            &nitro,
            "mycompany/mypackage/src/Greeter.php",
        );
        let gitea = composer_require(
            &s,
            "from-gitea",
            &s.url("/api/packages/php-repo/composer"),
            "mycompany/mypackage:^1.0",
        );
        assert_installed(
            &s,
            "from-gitea",
            &gitea,
            "mycompany/mypackage/src/Greeter.php",
        );

        // Two archive downloads; Composer's notify-batch (POST …/downloads) counted an install.
        let stats = stats_when(&s, "php-repo", |st| st["total_downloads"] == 2);
        assert_eq!(stats["total_packages"], 1);
        assert_eq!(
            stats["top_packages"],
            json!([{"name": "mycompany/mypackage", "download_count": 2}])
        );
        let installs = manage(
            &s,
            ADMIN,
            "GET",
            "/api/v1/stats/packages/php-repo/mycompany%2Fmypackage",
            None,
        );
        assert_eq!(installs.status, 200, "{}", installs.text());
        assert!(
            installs.json()["data"]["installs"]["total"] == 1,
            "{}",
            installs.text()
        );

        // A package that does not exist: Composer says so (and does not trip over provider.json).
        let missing = composer_require(
            &s,
            "missing",
            &s.url("/repositories/storage/php-repo"),
            "mycompany/nothere",
        );
        assert!(!missing.status.success());
        let said = String::from_utf8_lossy(&missing.stderr);
        assert!(said.contains("mycompany/nothere"), "{said}");
        assert!(!said.contains("Undefined array key"), "{said}");
    }
}

#[test]
fn repository_routes_with_good_and_bad_input() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let repo = Repo::new(&s, "main", "php-repo");
        let viewer = team_token(&s, "viewer");

        // Nobody yet: anonymous is 401 with Nitro's body and the Basic challenge; an unknown
        // repository is 404.
        let anonymous = repo.call(As::Anonymous, &[], "packages.json");
        nitro_error(&anonymous, 401, "Unauthorized");
        assert!(
            anonymous
                .header("www-authenticate")
                .is_some_and(|c| c.starts_with("Basic")),
            "{anonymous:?}"
        );
        let unknown = repo.get("packages.json");
        let message = nitro_error(&unknown, 404, "Not Found");
        assert_eq!(message, "repository php-repo not found in storage main");
        assert_eq!(
            unknown.json()["details"],
            json!({"storage": "main", "repository": "php-repo"})
        );

        // Uploads: the first creates the repository; names may hold dashes on both sides.
        let core = library(
            "acme/core",
            "Acme\\Core\\Core",
            json!({"keywords": ["kernel"]}),
        );
        let created = repo.upload("acme-core-1.0.0.zip", &core);
        assert_eq!(created.status, 201, "{backend:?}: {}", created.text());
        assert_eq!(created.json()["version"], "1.0.0");
        assert_eq!(created.json()["shasum"], sha1_of(&core));
        let dashed = library(
            "my-vendor/my-lib",
            "My\\Lib\\Lib",
            json!({"type": "symfony-bundle", "description": "Dashes everywhere"}),
        );
        let r = repo.upload("my-vendor-my-lib-2.0.0-beta1.zip", &dashed);
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(r.json()["package"], "my-vendor/my-lib");
        assert_eq!(r.json()["version"], "2.0.0-beta1");
        let core_next = library("acme/core", "Acme\\Core\\Core", json!({"version": "1.1.0"}));
        assert_eq!(repo.upload("acme-core-1.1.0.zip", &core_next).status, 201);

        // Refusals, each with its reason and nothing stored.
        nitro_error(&repo.upload("acme-core-1.0.0.zip", &core), 409, "Conflict");
        let same_version = library("acme/core", "Acme\\Core\\Core", json!({}));
        let r = repo.upload("acme-core-1.0.zip", &same_version);
        assert!(
            nitro_error(&r, 409, "Conflict").contains("1.0.0"),
            "{}",
            r.text()
        );
        let r = repo.upload("acme-other-1.0.0.zip", &core);
        let why = nitro_error(&r, 422, "Unprocessable Entity");
        assert!(why.contains("acme/core"), "{why}");
        let r = repo.upload("acme-core-3.0.0.zip", &core_next);
        nitro_error(&r, 422, "Unprocessable Entity");
        nitro_error(
            &repo.upload("acme-core-4.0.0.zip", b"PK\x03\x04 not a zip"),
            422,
            "Unprocessable Entity",
        );
        nitro_error(
            &repo.upload("acme-core-4.0.0.tar", &core),
            422,
            "Unprocessable Entity",
        );
        nitro_error(
            &repo.upload("acme-core-x.y.zip", &core),
            422,
            "Unprocessable Entity",
        );
        let slip = archive(
            &json!({"name": "acme/core"}),
            "",
            &[("../../evil.php", "<?php")],
        );
        nitro_error(
            &repo.upload("acme-core-4.0.0.zip", &slip),
            422,
            "Unprocessable Entity",
        );
        let nested = archive(&json!({"name": "acme/nested"}), "nested-1.0.0/", &[]);
        assert_eq!(repo.upload("acme-nested-1.0.0.zip", &nested).status, 201);
        let r = repo.put_bytes(As::Token(&viewer), "downloads/acme-core-5.0.0.zip", &core);
        nitro_error(&r, 403, "Forbidden");
        let r = repo.put_bytes(As::Anonymous, "downloads/acme-core-5.0.0.zip", &core);
        nitro_error(&r, 401, "Unauthorized");

        // Bound to storage "main" now: another storage does not have it.
        let elsewhere = Repo::new(&s, "other", "php-repo");
        nitro_error(&elsewhere.get(""), 404, "Not Found");
        nitro_error(
            &elsewhere.get("downloads/acme-core-1.0.0.zip"),
            404,
            "Not Found",
        );
        nitro_error(
            &elsewhere.upload("acme-core-6.0.0.zip", &core),
            404,
            "Not Found",
        );

        // Root document, index, lists.
        for root in ["", "/"] {
            let r = s.curl(&[
                "--user",
                &format!("x:{ADMIN}"),
                &format!("{}{root}", repo.path),
            ]);
            assert_eq!(r.status, 200, "{root:?}: {}", r.text());
            let info = r.json();
            assert_eq!(info["name"], "php-repo");
            assert_eq!(info["type"], "composer");
            assert_eq!(info["description"], "PHP Composer Repository");
            assert_eq!(info["packages-count"], 3);
            assert_eq!(info["versions-count"], 4);
            assert!(
                info["last-modified"].as_str().unwrap().ends_with('Z'),
                "{info}"
            );
        }
        let index = repo.call(As::Token(&viewer), &[], "packages.json");
        assert_eq!(index.status, 200);
        let index = index.json();
        assert_eq!(index["notify-batch"], repo.url("downloads"));
        assert_eq!(
            index["search"],
            repo.url("search.json?q=%query%&type=%type%")
        );
        assert_eq!(index["providers-url"], repo.url("p/%package%.json"));
        assert!(
            index["providers-api"]
                .as_str()
                .unwrap()
                .starts_with(&repo.url("provider.json")),
            "{index}"
        );
        assert!(index.get("metadata-url").is_none());
        let core_versions = &index["packages"]["acme/core"];
        assert_eq!(core_versions["1.0.0"]["dist"]["shasum"], sha1_of(&core));
        assert_eq!(
            core_versions["1.1.0"]["dist"]["url"],
            repo.url("downloads/acme-core-1.1.0.zip")
        );
        assert_eq!(
            index["packages"]["my-vendor/my-lib"]["2.0.0-beta1"]["type"],
            "symfony-bundle"
        );
        let list = repo.get("packages/list.json").json();
        assert_eq!(
            list["packageNames"],
            json!(["acme/core", "acme/nested", "my-vendor/my-lib"])
        );

        // Package and version documents; provider.json names their SHA-256.
        let document = repo.get("p/acme/core.json");
        assert_eq!(document.status, 200);
        assert_eq!(document.header("content-type"), Some("application/json"));
        let doc = document.json();
        assert_eq!(doc["package"], "acme/core");
        assert_eq!(doc["versions"]["1.0.0"]["name"], "acme/core");
        assert_eq!(doc["packages"]["acme/core"]["1.1.0"]["version"], "1.1.0");
        assert!(
            doc["packages"]["acme/core"]["1.1.0"]["uid"].is_i64(),
            "{doc}"
        );
        let providers = repo.get("provider.json").json();
        assert_eq!(
            providers["providers"]["acme/core"]["sha256"],
            sha256_of(&document.body)
        );
        assert_eq!(index["providers"], providers["providers"]);
        let provided = repo.get("provider.json?package=acme/anything").json();
        assert_eq!(provided, json!({"providers": []}));
        let version = repo.get("p/acme/core/1.0.0.json").json();
        assert_eq!(version["version"], "1.0.0");
        assert_eq!(
            version["dist"]["url"],
            repo.url("downloads/acme-core-1.0.0.zip")
        );
        assert_eq!(repo.get("p/acme/core/v1.0.json").json()["version"], "1.0.0");
        let missing = repo.get("p/acme/nothing.json");
        assert_eq!(
            nitro_error(&missing, 404, "Not Found"),
            "package acme/nothing not found"
        );
        assert_eq!(missing.json()["details"]["package"], "acme/nothing");
        let missing = repo.get("p/acme/core/9.9.9.json");
        nitro_error(&missing, 404, "Not Found");
        assert_eq!(missing.json()["details"]["version"], "9.9.9");
        nitro_error(&repo.get("p/acme/core.xml"), 404, "Not Found");
        nitro_error(&repo.get("no/such/route"), 404, "Not Found");

        // Archives: GET, HEAD, ranges, unknown names.
        let got = repo.call(As::Token(&viewer), &[], "downloads/acme-core-1.0.0.zip");
        assert_eq!(got.status, 200);
        assert_eq!(got.body, core);
        let head = repo.call(As::Admin, &["-I"], "downloads/acme-core-1.0.0.zip");
        assert_eq!(head.status, 200);
        assert_eq!(
            head.header("content-length"),
            Some(core.len().to_string().as_str())
        );
        let part = repo.call(
            As::Admin,
            &["-H", "Range: bytes=0-3"],
            "downloads/acme-core-1.0.0.zip",
        );
        assert_eq!(part.status, 206);
        assert_eq!(part.body, core[..4]);
        let r = repo.get("downloads/acme-core-7.0.0.zip");
        assert_eq!(
            nitro_error(&r, 404, "Not Found"),
            "archive acme-core-7.0.0.zip not found"
        );
        assert_eq!(r.json()["details"]["file"], "acme-core-7.0.0.zip");
        let head = repo.call(As::Admin, &["-I"], "downloads/acme-core-7.0.0.zip");
        assert_eq!(head.status, 404);

        // Metadata updates merge descriptive fields and never touch the archive.
        let update = json!({
            "name": "acme/core",
            "version": "1.0.0",
            "description": "Core library package",
            "keywords": ["core", "kernel"],
            "license": "MIT",
            "homepage": "https://acme.example.com",
            "require": {"php": ">=7.4"},
            "config": {"sort-packages": true},
            "dist": {"type": "zip", "url": "https://elsewhere.example.com/x.zip", "shasum": sha1_of(&core)},
        });
        let r = repo.send_json(As::Admin, "PUT", "p/acme/core.json", &update.to_string());
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["ignored"], json!(["config"]));
        let merged = repo.get("p/acme/core/1.0.0.json").json();
        assert_eq!(merged["description"], "Core library package");
        assert_eq!(merged["keywords"], json!(["core", "kernel"]));
        assert_eq!(merged["require"]["php"], ">=7.4");
        assert_eq!(merged["version_normalized"], "1.0.0.0");
        assert_eq!(
            merged["dist"]["url"],
            repo.url("downloads/acme-core-1.0.0.zip")
        );
        assert_eq!(merged["dist"]["shasum"], sha1_of(&core));
        assert_eq!(merged["autoload"]["psr-4"]["Acme\\Core\\"], "src/");
        assert!(merged.get("config").is_none());
        let r = repo.send_json(
            As::Admin,
            "PUT",
            "p/acme/core/1.1.0.json",
            &json!({"description": "Newer", "homepage": null}).to_string(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            repo.get("p/acme/core/1.1.0.json").json()["description"],
            "Newer"
        );
        assert_eq!(
            repo.get("p/acme/core/1.0.0.json").json()["description"],
            "Core library package"
        );
        for (path, body, status) in [
            (
                "p/acme/core.json",
                json!({"version": "1.0.0", "dist": {"shasum": "0".repeat(40)}}),
                422,
            ),
            (
                "p/acme/core.json",
                json!({"name": "acme/other", "version": "1.0.0"}),
                422,
            ),
            (
                "p/acme/core.json",
                json!({"description": "no version"}),
                422,
            ),
            (
                "p/acme/core.json",
                json!({"version": "1.0.0", "require": {"php": "not a constraint"}}),
                422,
            ),
            (
                "p/acme/core.json",
                json!({"version": "1.0.0", "keywords": "one"}),
                422,
            ),
            (
                "p/acme/core.json",
                json!({"version": "8.0.0", "description": "x"}),
                404,
            ),
            ("p/acme/nothing.json", json!({"version": "1.0.0"}), 404),
            ("p/acme/core/1.0.0.json", json!({"version": "1.1.0"}), 422),
            ("p/acme/core/8.0.0.json", json!({"description": "x"}), 404),
            ("p/acme/core/1.0.0.json", json!([1, 2]), 422),
        ] {
            let r = repo.send_json(As::Admin, "PUT", path, &body.to_string());
            assert_eq!(r.status, status, "{backend:?} {path} {body}: {}", r.text());
            assert!(r.json()["message"].is_string());
        }
        let r = repo.send_json(As::Admin, "PUT", "p/acme/core.json", "{not json");
        nitro_error(&r, 422, "Unprocessable Entity");
        let r = repo.send_json(
            As::Token(&viewer),
            "PUT",
            "p/acme/core.json",
            &json!({"version": "1.0.0"}).to_string(),
        );
        nitro_error(&r, 403, "Forbidden");
        // The package document as GET answers it goes back in as it is.
        let r = repo.send_json(As::Admin, "PUT", "p/acme/core.json", &document.text());
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            repo.get("p/acme/core/1.0.0.json").json()["description"],
            "The Core library"
        );

        // PUT packages.json checks what it lists and changes nothing.
        let full_index = repo.get("packages.json");
        let r = repo.send_json(As::Admin, "PUT", "packages.json", &full_index.text());
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["versions"], 4);
        for (body, naming) in [
            (
                json!({"packages": {"acme/ghost": {"1.0.0": {}}}}),
                "acme/ghost",
            ),
            (json!({"packages": {"acme/core": {"7.0.0": {}}}}), "7.0.0"),
            (
                json!({"packages": {"acme/core": [{"version": "7.1.0"}]}}),
                "7.1.0",
            ),
            (json!({"packages": []}), "packages"),
            (json!([]), "object"),
        ] {
            let r = repo.send_json(As::Admin, "PUT", "packages.json", &body.to_string());
            let why = nitro_error(&r, 422, "Unprocessable Entity");
            assert!(why.contains(naming), "{body}: {why}");
        }
        assert_eq!(repo.get("packages.json").body, full_index.body);
        let r = repo.send_json(As::Token(&viewer), "PUT", "packages.json", "{}");
        nitro_error(&r, 403, "Forbidden");

        // Search: name, description or keywords; type; pages.
        let search = |query: &str| repo.get(&format!("search.json?{query}")).json();
        let all = search("q=&per_page=2&page=1");
        assert_eq!(all["total"], 3);
        assert_eq!(all["results"].as_array().unwrap().len(), 2);
        assert_eq!(all["results"][0]["name"], "acme/core");
        assert_eq!(all["results"][0]["url"], repo.url("p/acme/core.json"));
        assert_eq!(all["results"][0]["repository"], repo.url(""));
        assert_eq!(all["results"][0]["favers"], 0);
        let next = all["next"].as_str().unwrap();
        assert!(next.starts_with(&repo.url("search.json?")), "{next}");
        let second = common::curl(&["--user", &format!("x:{ADMIN}")], next).json();
        assert_eq!(second["results"].as_array().unwrap().len(), 1);
        assert_eq!(second["results"][0]["name"], "my-vendor/my-lib");
        assert!(second.get("next").is_none(), "{second}");
        assert_eq!(search("q=dashes")["results"][0]["name"], "my-vendor/my-lib");
        assert_eq!(
            search("q=KERNEL")["total"],
            0,
            "keywords of the newest version only"
        );
        assert_eq!(search("q=nested")["total"], 1);
        assert_eq!(search("type=symfony-bundle")["total"], 1);
        assert_eq!(search("q=acme&type=library")["total"], 2);
        assert_eq!(search("q=nothing-like-it")["total"], 0);
        nitro_error(&repo.get("search.json?page=-1"), 400, "Bad Request");

        // Install notifications.
        let r = repo.send_json(
            As::Token(&viewer),
            "POST",
            "downloads",
            &json!({"downloads": [{"name": "acme/core", "version": "1.0.0.0"}]}).to_string(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json(), json!({"status": "success"}));
        nitro_error(
            &repo.send_json(As::Admin, "POST", "downloads", "{\"downloads\": 1}"),
            400,
            "Bad Request",
        );
        nitro_error(
            &repo.send_json(As::Anonymous, "POST", "downloads", "{}"),
            401,
            "Unauthorized",
        );

        // Deleting an archive takes its version; the last one takes the package.
        let r = repo.call(
            As::Token(&viewer),
            &["-X", "DELETE"],
            "downloads/acme-core-1.1.0.zip",
        );
        nitro_error(&r, 403, "Forbidden");
        let r = repo.call(
            As::Admin,
            &["-X", "DELETE"],
            "downloads/acme-core-1.1.0.zip",
        );
        assert_eq!(r.status, 204, "{}", r.text());
        nitro_error(&repo.get("downloads/acme-core-1.1.0.zip"), 404, "Not Found");
        nitro_error(&repo.get("p/acme/core/1.1.0.json"), 404, "Not Found");
        let r = repo.call(
            As::Admin,
            &["-X", "DELETE"],
            "downloads/acme-core-1.1.0.zip",
        );
        nitro_error(&r, 404, "Not Found");
        let r = repo.call(
            As::Admin,
            &["-X", "DELETE"],
            "downloads/acme-nested-1.0.0.zip",
        );
        assert_eq!(r.status, 204);
        nitro_error(&repo.get("p/acme/nested.json"), 404, "Not Found");
        // The name is free again.
        assert_eq!(repo.upload("acme-core-1.1.0.zip", &core_next).status, 201);
    }
}

#[test]
fn management_api_lists_deletes_configures_and_counts() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let viewer = team_token(&s, "viewer");
        let repo = Repo::new(&s, "main", "team-php");
        let a = library("acme/a", "Acme\\A\\A", json!({}));
        let b1 = library("acme/b", "Acme\\B\\B", json!({"version": "1.0.0"}));
        let b2 = library("acme/b", "Acme\\B\\B", json!({"version": "2.0.0"}));
        let c = library("acme/c", "Acme\\C\\C", json!({}));
        for (file, zip) in [
            ("acme-a-1.0.0.zip", &a),
            ("acme-b-1.0.0.zip", &b1),
            ("acme-b-2.0.0.zip", &b2),
            ("acme-c-0.1.0.zip", &c),
        ] {
            assert_eq!(repo.upload(file, zip).status, 201, "{backend:?} {file}");
        }

        // Listing, paged.
        let r = manage(
            &s,
            &viewer,
            "GET",
            "/api/repository/team-php/packages?page=1&per_page=2",
            None,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let listed = r.json();
        assert_eq!(listed["pagination"]["total"], 3);
        assert_eq!(listed["pagination"]["total_pages"], 2);
        let names: Vec<&str> = listed["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["acme/a", "acme/b"]);
        let b = &listed["packages"][1];
        assert_eq!(b["path"], "p/acme/b.json");
        assert_eq!(b["versions"][0]["version"], "2.0.0");
        assert_eq!(b["versions"][0]["archive"], "downloads/acme-b-2.0.0.zip");
        assert_eq!(b["versions"][0]["path"], "p/acme/b/2.0.0.json");
        assert_eq!(b["versions"][0]["size"], b2.len());
        assert_eq!(b["versions"][0]["shasum"], sha1_of(&b2));
        let page2 = manage(
            &s,
            ADMIN,
            "GET",
            "/api/repository/team-php/packages?page=2&per_page=2",
            None,
        )
        .json();
        assert_eq!(page2["packages"][0]["name"], "acme/c");
        let r = manage(
            &s,
            ADMIN,
            "GET",
            "/api/repository/team-php/packages?page=x",
            None,
        );
        nitro_error(&r, 400, "Bad Request");
        let r = manage(&s, ADMIN, "GET", "/api/repository/nobody/packages", None);
        assert_eq!(
            nitro_error(&r, 404, "Not Found"),
            "repository nobody not found"
        );
        assert_eq!(r.json()["details"], json!({"repository": "nobody"}));
        let r = s.curl(&["/api/repository/team-php/packages"]);
        nitro_error(&r, 401, "Unauthorized");

        // Downloads count, then show in the statistics.
        for _ in 0..3 {
            assert_eq!(repo.get("downloads/acme-b-2.0.0.zip").status, 200);
        }
        assert_eq!(repo.get("downloads/acme-a-1.0.0.zip").status, 200);
        let stats = stats_when(&s, "team-php", |st| st["total_downloads"] == 4);
        assert_eq!(stats["total_packages"], 3);
        assert_eq!(stats["total_versions"], 4);
        let bytes = (a.len() + b1.len() + b2.len() + c.len()) as i64;
        assert_eq!(stats["storage_used_bytes"], bytes);
        assert_eq!(
            stats["storage_used"],
            format!("{:.1}KB", bytes as f64 / 1024.0).replace(".0KB", "KB")
        );
        assert!(
            stats["last_activity"].as_str().unwrap().ends_with('Z'),
            "{stats}"
        );
        assert_eq!(
            stats["top_packages"],
            json!([
                {"name": "acme/b", "download_count": 3},
                {"name": "acme/a", "download_count": 1},
                {"name": "acme/c", "download_count": 0},
            ])
        );

        // DELETE with paths: all or nothing.
        let delete = |token: &str, paths: Value| {
            manage(
                &s,
                token,
                "DELETE",
                "/api/repository/team-php/packages",
                Some(&json!({"paths": paths})),
            )
        };
        let r = delete(&viewer, json!(["downloads/acme-a-1.0.0.zip"]));
        nitro_error(&r, 403, "Forbidden");
        let r = delete(
            ADMIN,
            json!([
                "downloads/acme-a-1.0.0.zip",
                "p/acme/ghost.json",
                "p/acme/b/9.0.0.json"
            ]),
        );
        let why = nitro_error(&r, 404, "Not Found");
        assert!(
            why.contains("p/acme/ghost.json") && why.contains("p/acme/b/9.0.0.json"),
            "{why}"
        );
        assert_eq!(
            r.json()["details"]["paths"],
            json!(["p/acme/ghost.json", "p/acme/b/9.0.0.json"])
        );
        let r = delete(
            ADMIN,
            json!(["downloads/acme-a-1.0.0.zip", "packages.json"]),
        );
        let why = nitro_error(&r, 422, "Unprocessable Entity");
        assert!(why.contains("packages.json"), "{why}");
        for bad in [
            json!({}),
            json!({"paths": []}),
            json!({"paths": [1]}),
            json!("x"),
        ] {
            let r = manage(
                &s,
                ADMIN,
                "DELETE",
                "/api/repository/team-php/packages",
                Some(&bad),
            );
            nitro_error(&r, 422, "Unprocessable Entity");
        }
        assert_eq!(
            repo.get("packages/list.json").json()["packageNames"],
            json!(["acme/a", "acme/b", "acme/c"])
        );
        let r = delete(
            ADMIN,
            json!([
                "downloads/acme-a-1.0.0.zip",
                "p/acme/b/1.0.0.json",
                "p/acme/c.json",
                "/downloads/acme-c-0.1.0.zip"
            ]),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["deleted"].as_array().unwrap().len(), 4);
        assert_eq!(
            repo.get("packages/list.json").json()["packageNames"],
            json!(["acme/b"])
        );
        let left = repo.get("p/acme/b.json").json();
        assert_eq!(left["versions"].as_object().unwrap().len(), 1, "{left}");
        assert!(left["versions"].get("2.0.0").is_some());
        nitro_error(&repo.get("downloads/acme-a-1.0.0.zip"), 404, "Not Found");

        // Configuration: defaults, round trip, validation; the info document shows it.
        let config_path = "/api/repository/team-php/config/php";
        let r = manage(&s, &viewer, "GET", config_path, None);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            r.json(),
            json!({"name": "team-php", "description": "PHP Composer Repository"})
        );
        let config = json!({"name": "team-php", "description": "Team packages", "cache_ttl": 300, "mirror": {"enabled": false}});
        let r = manage(&s, &viewer, "PUT", config_path, Some(&config));
        nitro_error(&r, 403, "Forbidden");
        let r = manage(&s, ADMIN, "PUT", config_path, Some(&config));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(manage(&s, ADMIN, "GET", config_path, None).json(), config);
        // Repository management is administration: it is in the audit log.
        let audit = manage(
            &s,
            ADMIN,
            "GET",
            "/api/v1/audit?action=PUT%20/api/repository",
            None,
        )
        .json();
        assert_eq!(
            audit["data"][0]["action"], "PUT /api/repository/{id}/config/php",
            "{audit}"
        );
        assert_eq!(audit["data"][0]["actor"], "root", "{audit}");
        assert_eq!(repo.get("").json()["description"], "Team packages");
        for bad in [
            json!([1]),
            json!("x"),
            json!({"description": 5}),
            json!({"name": "renamed"}),
        ] {
            let r = manage(&s, ADMIN, "PUT", config_path, Some(&bad));
            nitro_error(&r, 422, "Unprocessable Entity");
        }
        assert_eq!(manage(&s, ADMIN, "GET", config_path, None).json(), config);
        nitro_error(
            &manage(&s, ADMIN, "GET", "/api/repository/nobody/config/php", None),
            404,
            "Not Found",
        );

        // Creating a repository through the management API; reads do not bind it to a storage.
        let r = manage(
            &s,
            ADMIN,
            "PUT",
            "/api/repository/fresh/config/php",
            Some(&json!({"description": "Fresh"})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let fresh = Repo::new(&s, "ssd", "fresh");
        let info = fresh.get("").json();
        assert_eq!(info["description"], "Fresh");
        assert_eq!(info["packages-count"], 0);
        assert_eq!(Repo::new(&s, "hdd", "fresh").get("").status, 200);
        let r = manage(&s, ADMIN, "GET", "/api/repository/fresh/stats", None).json();
        assert_eq!(r["total_packages"], 0);
        assert_eq!(r["storage_used"], "0B");
        assert_eq!(r["last_activity"], Value::Null);
    }
}

#[test]
fn reading_a_repository_does_not_bind_it_to_a_storage() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let viewer = team_token(&s, "viewer");
        // A repository that no Nitro write has bound yet (created through the management API).
        let created = manage(
            &s,
            ADMIN,
            "POST",
            "/api/v1/owners",
            Some(&json!({"name": "php-repo"})),
        );
        assert_eq!(created.status, 201, "{}", created.text());

        // A viewer reads it under a storage of its choosing: answered, and nothing recorded.
        let guessed = Repo::new(&s, "other", "php-repo");
        for rest in ["", "packages.json"] {
            let r = guessed.call(As::Token(&viewer), &[], rest);
            assert_eq!(r.status, 200, "{backend:?} {rest:?}: {}", r.text());
        }

        // The admin's first write binds it to the admin's storage…
        let repo = Repo::new(&s, "main", "php-repo");
        let core = library("acme/core", "Acme\\Core\\Core", json!({}));
        let r = repo.upload("acme-core-1.0.0.zip", &core);
        assert_eq!(r.status, 201, "{backend:?}: {}", r.text());
        // …after which the other storage has no such repository, for readers and writers alike.
        nitro_error(
            &guessed.call(As::Token(&viewer), &[], "packages.json"),
            404,
            "Not Found",
        );
        nitro_error(
            &guessed.upload("acme-core-2.0.0.zip", &core),
            404,
            "Not Found",
        );
        assert_eq!(
            repo.call(As::Token(&viewer), &[], "packages.json").status,
            200
        );
    }
}

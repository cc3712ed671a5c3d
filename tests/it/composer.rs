//! Composer packages synced from Git, installed by the real `composer` client.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{ADMIN, TestServer, api, backends, git, versions, wait_for_task, write};
use serde_json::{Value, json};

fn commit_version(repo: &Path, version: &str) {
    write(
        repo,
        "src/Widget.php",
        &format!(
            "<?php\nnamespace Acme\\Widget;\nclass Widget {{ const VERSION = '{version}'; }}\n"
        ),
    );
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", &format!("version {version}")]);
}

/// A repository with tags `v1.0.0`, `1.2.3`, `release-2.0.0`, a tag without composer.json,
/// a tag that is no version, and the branch `main`.
fn widget_repo(root: &Path) -> PathBuf {
    let repo = root.join("widget");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let manifest = json!({
        "name": "acme/widget",
        "description": "A widget",
        "type": "library",
        "license": "MIT",
        "require": {"php": ">=7.4"},
        "autoload": {"psr-4": {"Acme\\Widget\\": "src/"}}
    });
    write(
        &repo,
        "composer.json",
        &serde_json::to_string_pretty(&manifest).unwrap(),
    );
    write(&repo, ".gitattributes", "/tests export-ignore\n");
    write(&repo, "tests/WidgetTest.php", "<?php // not shipped\n");
    write(&repo, "README.md", "# Widget\n");
    commit_version(&repo, "1.0.0");
    git(&repo, &["tag", "v1.0.0"]);
    commit_version(&repo, "1.2.3");
    git(&repo, &["tag", "-a", "1.2.3", "-m", "annotated"]);
    git(&repo, &["rm", "-q", "composer.json"]);
    git(&repo, &["commit", "-q", "-m", "no manifest"]);
    git(&repo, &["tag", "v1.5.0"]);
    write(
        &repo,
        "composer.json",
        &serde_json::to_string_pretty(&manifest).unwrap(),
    );
    commit_version(&repo, "2.0.0");
    git(&repo, &["tag", "release-2.0.0"]);
    git(&repo, &["tag", "nightly"]);
    repo
}

fn composer(project: &Path, s: &TestServer, args: &[&str]) -> std::process::Output {
    common::composer(project, Some((s, ADMIN)), args)
}

fn new_project(root: &Path, s: &TestServer, name: &str) -> PathBuf {
    let project = root.join(name);
    std::fs::create_dir_all(&project).unwrap();
    let manifest = json!({
        "name": "test/app",
        "repositories": [
            {"type": "composer", "url": s.base},
            {"packagist.org": false}
        ],
        "config": {"secure-http": false}
    });
    write(&project, "composer.json", &manifest.to_string());
    project
}

#[test]
fn tags_become_versions_and_composer_installs_them() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let root = s.dir.path().to_path_buf();
        let repo = widget_repo(&root);
        let url = format!("file://{}", repo.display());

        // The name is read from composer.json when not given.
        let created = api(
            &s,
            "POST",
            "/api/v1/packages",
            Some(&json!({"repository_url": url, "type": "git"})),
        );
        assert_eq!(created.status, 201, "{backend:?}: {}", created.text());
        let created = created.json();
        assert_eq!(created["data"]["name"], "acme/widget");
        wait_for_task(&s, &created["data"]["task"]);

        assert_eq!(
            versions(&s),
            ["2.0.0", "1.2.3", "1.0.0", "dev-main"],
            "{backend:?}"
        );
        let pkg = api(&s, "GET", "/api/v1/packages/acme%2Fwidget", None).json();
        assert_eq!(pkg["data"]["latest_version"], "2.0.0");
        let skipped = pkg["data"]["skipped"].to_string();
        assert!(
            skipped.contains("v1.5.0") && skipped.contains("composer.json"),
            "{skipped}"
        );
        assert!(skipped.contains("nightly"), "{skipped}");
        let listed = api(&s, "GET", "/api/v1/packages", None).json();
        assert_eq!(listed["packages"][0]["name"], "acme/widget");

        // The Composer documents.
        let index = s.admin(&["/packages.json"]).json();
        assert_eq!(index["metadata-url"], "/p2/%package%.json");
        assert_eq!(index["available-packages"], json!(["acme/widget"]));
        let p2 = s.admin(&["/p2/acme/widget.json"]);
        assert_eq!(p2.status, 200);
        let doc = p2.json();
        assert_eq!(doc["minified"], "composer/2.0");
        assert_eq!(doc["packages"]["acme/widget"][0]["version"], "2.0.0");
        assert_eq!(
            doc["packages"]["acme/widget"][0]["version_normalized"],
            "2.0.0.0"
        );
        let dev = s.admin(&["/p2/acme/widget~dev.json"]).json();
        assert_eq!(dev["packages"]["acme/widget"][0]["version"], "dev-main");
        let modified = p2.header("last-modified").unwrap().to_string();
        let again = s.admin(&[
            "-H",
            &format!("If-Modified-Since: {modified}"),
            "/p2/acme/widget.json",
        ]);
        assert_eq!(again.status, 304);
        assert_eq!(s.curl(&["/packages.json"]).status, 401, "anonymous");
        assert_eq!(s.curl(&["/p2/acme/widget.json"]).status, 401, "anonymous");
        assert_eq!(s.admin(&["/p2/acme/nothing.json"]).status, 404);

        // The real client installs 2.0.0's files, without export-ignored ones.
        let project = new_project(&root, &s, "app");
        let out = composer(&project, &s, &["require", "acme/widget:^2.0"]);
        assert!(
            out.status.success(),
            "{backend:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let installed = project.join("vendor/acme/widget");
        let widget = std::fs::read_to_string(installed.join("src/Widget.php")).unwrap();
        assert!(widget.contains("'2.0.0'"), "{widget}");
        assert!(installed.join("README.md").exists());
        assert!(!installed.join("tests").exists(), "export-ignore honoured");
        let older = new_project(&root, &s, "older");
        let out = composer(&older, &s, &["require", "acme/widget:~1.0.0"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let widget =
            std::fs::read_to_string(older.join("vendor/acme/widget/src/Widget.php")).unwrap();
        assert!(widget.contains("'1.0.0'"), "{widget}");

        // A new tag and a removed tag show after the next sync.
        commit_version(&repo, "2.1.0");
        git(&repo, &["tag", "v2.1.0"]);
        git(&repo, &["tag", "-d", "1.2.3"]);
        let task = api(&s, "POST", "/api/v1/packages/acme/widget/sync", None);
        assert_eq!(task.status, 202, "{}", task.text());
        let done = wait_for_task(&s, &task.json()["data"]);
        assert_eq!(done["result"]["added"], json!(["2.1.0"]), "{done}");
        assert_eq!(versions(&s), ["2.1.0", "2.0.0", "1.0.0", "dev-main"]);
        let fresh = s.admin(&[
            "-H",
            &format!("If-Modified-Since: {modified}"),
            "/p2/acme/widget.json",
        ]);
        assert_eq!(
            fresh.status, 200,
            "{backend:?}: changed metadata is not 304"
        );
        assert_eq!(
            fresh.json()["packages"]["acme/widget"][0]["version"],
            "2.1.0",
            "{backend:?}"
        );
        let out = composer(&project, &s, &["update"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let widget = std::fs::read_to_string(installed.join("src/Widget.php")).unwrap();
        assert!(
            widget.contains("'2.1.0'"),
            "{backend:?}: {widget}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );

        // Deleting the package removes its metadata and archives.
        assert_eq!(
            api(&s, "DELETE", "/api/v1/packages/acme/widget", None).status,
            200
        );
        assert_eq!(s.admin(&["/p2/acme/widget.json"]).status, 404);
        assert_eq!(
            api(&s, "GET", "/api/v1/packages/acme/widget", None).status,
            404
        );
        let fsck = s.cli(&["--json", "fsck"]);
        let report: Value = serde_json::from_slice(&fsck.stdout).unwrap();
        assert_eq!(report["blobs_checked"], 0, "{backend:?}: archives deleted");
    }
}

#[test]
fn same_commit_gives_the_same_archive() {
    let s = TestServer::start(common::Backend::SqliteFs);
    let repo = widget_repo(s.dir.path());
    let url = format!("file://{}", repo.display());
    let created = api(
        &s,
        "POST",
        "/api/v1/packages",
        Some(&json!({"name": "acme/widget", "repository_url": url})),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    wait_for_task(&s, &created.json()["data"]["task"]);
    let first = s.admin(&["/dist/acme/widget/2.0.0.zip"]);
    assert_eq!(first.status, 200);
    let doc = s.admin(&["/p2/acme/widget.json"]).json();
    let shasum = doc["packages"]["acme/widget"][0]["dist"]["shasum"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(shasum.len(), 40);
    // Delete and re-add: the rebuilt archive is byte-identical.
    assert_eq!(
        api(&s, "DELETE", "/api/v1/packages/acme/widget", None).status,
        200
    );
    let created = api(
        &s,
        "POST",
        "/api/v1/packages",
        Some(&json!({"name": "acme/widget", "repository_url": url})),
    );
    wait_for_task(&s, &created.json()["data"]["task"]);
    let second = s.admin(&["/dist/acme/widget/2.0.0.zip"]);
    assert_eq!(first.body, second.body);
}

#[test]
fn bad_requests_are_refused_clearly() {
    let s = TestServer::start(common::Backend::SqliteFs);
    for (body, word) in [
        (json!({"repository_url": ""}), "repository_url"),
        (
            json!({"name": "Acme/Bad Name", "repository_url": "file:///nonexistent"}),
            "name",
        ),
        (
            json!({"name": "acme/x", "repository_url": "file:///x", "type": "svn"}),
            "type",
        ),
        (
            json!({"repository_url": "file:///nonexistent/repo"}),
            "repository",
        ),
    ] {
        let r = api(&s, "POST", "/api/v1/packages", Some(&body));
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        let message = r.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(message.contains(word), "{body}: {message}");
    }
    let repo = widget_repo(s.dir.path());
    let body =
        json!({"name": "acme/widget", "repository_url": format!("file://{}", repo.display())});
    assert_eq!(api(&s, "POST", "/api/v1/packages", Some(&body)).status, 201);
    assert_eq!(api(&s, "POST", "/api/v1/packages", Some(&body)).status, 409);
    // Viewer-level access cannot add packages; anonymous callers are refused.
    assert_eq!(s.curl(&["-X", "POST", "/api/v1/packages"]).status, 401);
    assert_eq!(
        s.curl(&["-X", "POST", "/api/v1/packages/acme/widget/sync"])
            .status,
        401
    );
}

#[test]
fn yank_deprecate_readme_validate_and_admin_download() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let root = s.dir.path().to_path_buf();
        let repo = widget_repo(&root);
        let body = json!({"repository_url": format!("file://{}", repo.display())});
        let created = api(&s, "POST", "/api/v1/packages", Some(&body));
        assert_eq!(created.status, 201, "{}", created.text());
        wait_for_task(&s, &created.json()["data"]["task"]);
        let tagged = |s: &TestServer| -> Vec<String> {
            s.admin(&["/p2/acme/widget.json"]).json()["packages"]["acme/widget"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|v| v["version"].as_str().map(str::to_string))
                .collect()
        };

        // Yanked: hidden from Composer, archive kept.
        let yank = api(&s, "POST", "/api/v1/packages/acme/widget/yank/1.0.0", None);
        assert_eq!(yank.status, 200, "{backend:?}: {}", yank.text());
        assert_eq!(tagged(&s), ["2.0.0", "1.2.3"]);
        assert_eq!(s.admin(&["/dist/acme/widget/1.0.0.zip"]).status, 200);
        let project = new_project(&root, &s, "yanked");
        let out = composer(&project, &s, &["require", "acme/widget:~1.0.0"]);
        assert!(!out.status.success(), "a yanked version does not resolve");
        assert_eq!(
            api(
                &s,
                "POST",
                "/api/v1/packages/acme/widget/unyank/1.0.0",
                None
            )
            .status,
            200
        );
        assert_eq!(tagged(&s), ["2.0.0", "1.2.3", "1.0.0"]);
        assert_eq!(
            api(&s, "POST", "/api/v1/packages/acme/widget/yank/9.9.9", None).status,
            404
        );

        // Deprecated: Composer warns that it is abandoned.
        let body = json!({"replacement": "acme/gadget"});
        let dep = api(
            &s,
            "POST",
            "/api/v1/packages/acme/widget/deprecate/2.0.0",
            Some(&body),
        );
        assert_eq!(dep.status, 200, "{}", dep.text());
        let doc = s.admin(&["/p2/acme/widget.json"]).json();
        assert_eq!(
            doc["packages"]["acme/widget"][0]["abandoned"],
            "acme/gadget"
        );
        let project = new_project(&root, &s, "deprecated");
        let out = composer(&project, &s, &["require", "acme/widget:^2.0"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let said = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            said.contains("abandoned") && said.contains("acme/gadget"),
            "{said}"
        );
        let bad = json!({"replacement": "Not A Name"});
        assert_eq!(
            api(
                &s,
                "POST",
                "/api/v1/packages/acme/widget/deprecate/2.0.0",
                Some(&bad)
            )
            .status,
            400
        );

        let readme = api(&s, "GET", "/api/v1/packages/acme/widget/readme", None).json();
        assert_eq!(readme["data"]["content"], "# Widget\n");
        assert_eq!(readme["data"]["version"], "2.0.0");

        let validated = api(&s, "POST", "/api/v1/packages/acme/widget/validate", None).json();
        assert_eq!(validated["data"]["valid"], true);
        assert_eq!(
            validated["data"]["versions"].as_array().unwrap().len(),
            4,
            "{validated}"
        );

        let admin_copy = api(
            &s,
            "GET",
            "/api/v1/packages/acme/widget/download/2.0.0",
            None,
        );
        assert_eq!(admin_copy.status, 200);
        assert_eq!(
            admin_copy.body,
            s.admin(&["/dist/acme/widget/2.0.0.zip"]).body
        );

        for path in [
            "/api/v1/packages/acme/widget/yank/1.0.0",
            "/api/v1/packages/acme/widget/validate",
        ] {
            assert_eq!(s.curl(&["-X", "POST", path]).status, 401, "{path}");
        }
        assert_eq!(s.curl(&["/api/v1/packages/acme/widget/readme"]).status, 401);
    }
}

#[test]
fn command_line_package_management() {
    let s = TestServer::start(common::Backend::SqliteFs);
    let repo = widget_repo(s.dir.path());
    let url = format!("file://{}", repo.display());
    let text = |out: &std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let added = text(&s.cli(&["package", "add", &url]));
    assert!(added.contains("acme/widget: 4 added"), "{added}");
    assert!(added.contains("skipped tag v1.5.0"), "{added}");
    let listed = text(&s.cli(&["package", "list"]));
    assert!(
        listed.contains("composer\tcargoman\tacme/widget\t2.0.0\t"),
        "{listed}"
    );
    let shown: Value =
        serde_json::from_str(&text(&s.cli(&["package", "show", "acme/widget"]))).unwrap();
    assert_eq!(shown["versions"].as_array().unwrap().len(), 4);
    // The running server serves what the CLI synced.
    assert_eq!(
        s.admin(&["/p2/acme/widget.json"]).json()["packages"]["acme/widget"][0]["version"],
        "2.0.0"
    );
    let synced = text(&s.cli(&["--json", "package", "sync", "--all"]));
    assert!(synced.contains("\"unchanged\": 4"), "{synced}");
    let missing = s.cli(&["package", "show", "acme/none"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not found"));
    assert!(text(&s.cli(&["package", "delete", "acme/widget"])).contains("deleted"));
    // Another process changed the database: the server's metadata cache catches up within
    // its 2-second lifetime (as instances behind a load balancer do).
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.admin(&["/p2/acme/widget.json"]).status != 404 {
        assert!(Instant::now() < deadline, "deleted package still served");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A monorepo with `packages/core` and `packages/http`, tagged v1.0.0 and v1.1.0.
fn mono_repo(root: &Path) -> PathBuf {
    let repo = root.join("mono");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    write(
        &repo,
        "composer.json",
        r#"{"name": "acme/mono", "type": "project"}"#,
    );
    for (dir, name, class) in [("core", "acme/core", "Core"), ("http", "acme/http", "Http")] {
        let manifest = json!({
            "name": name,
            "autoload": {"psr-4": {format!("Acme\\{class}\\"): "src/"}}
        });
        write(
            &repo,
            &format!("packages/{dir}/composer.json"),
            &manifest.to_string(),
        );
        write(
            &repo,
            &format!("packages/{dir}/src/{class}.php"),
            "<?php // 1.0\n",
        );
    }
    write(&repo, "packages/broken/composer.json", "{not json");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "one"]);
    git(&repo, &["tag", "v1.0.0"]);
    write(&repo, "packages/http/src/Http.php", "<?php // 1.1\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "two"]);
    git(&repo, &["tag", "v1.1.0"]);
    repo
}

#[test]
fn monorepo_packages_are_found_and_synced_as_their_own() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let root = s.dir.path().to_path_buf();
        let repo = mono_repo(&root);
        let body = json!({
            "repository_url": format!("file://{}", repo.display()),
            "monorepo": "packages/*/composer.json",
        });
        let created = api(&s, "POST", "/api/v1/packages", Some(&body));
        assert_eq!(created.status, 201, "{backend:?}: {}", created.text());
        assert_eq!(created.json()["data"]["name"], "acme/mono");
        let done = wait_for_task(&s, &created.json()["data"]["task"]);
        assert!(
            done["result"]["skipped"]
                .to_string()
                .contains("packages/broken"),
            "{done}"
        );

        let mono = api(&s, "GET", "/api/v1/packages/acme/mono/monorepo", None).json();
        assert_eq!(mono["data"]["glob"], "packages/*/composer.json");
        let names: Vec<&str> = mono["data"]["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["acme/core", "acme/http"], "{backend:?}");
        let children = api(
            &s,
            "GET",
            "/api/v1/packages/acme/mono/monorepo/children",
            None,
        )
        .json();
        assert_eq!(children["data"][0]["path"], "packages/core");
        assert_eq!(
            children["data"][1]["versions"],
            json!(["1.1.0", "1.0.0", "dev-main"])
        );

        let project = new_project(&root, &s, "app");
        let out = composer(&project, &s, &["require", "acme/http:^1.0"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let installed = project.join("vendor/acme/http");
        assert_eq!(
            std::fs::read_to_string(installed.join("src/Http.php")).unwrap(),
            "<?php // 1.1\n"
        );
        assert!(
            installed.join("composer.json").exists(),
            "the folder is the zip root"
        );

        let again = api(&s, "POST", "/api/v1/packages/acme/mono/monorepo/sync", None);
        assert_eq!(again.status, 202);
        let done = wait_for_task(&s, &again.json()["data"]);
        assert_eq!(
            done["result"]["children"][0]["sync"]["unchanged"], 3,
            "{done}"
        );
        assert_eq!(
            api(&s, "GET", "/api/v1/packages/acme/core/monorepo", None).status,
            404,
            "a child is not a monorepo"
        );
        let bad = json!({"repository_url": "file:///x", "name": "acme/x", "monorepo": "../*/composer.json"});
        assert_eq!(api(&s, "POST", "/api/v1/packages", Some(&bad)).status, 400);
    }
}

#[test]
fn local_and_private_repositories_need_git_allow_local() {
    for backend in backends() {
        let s = TestServer::start_with(backend, &[("GIT_ALLOW_LOCAL", "false")]);
        let repo = widget_repo(s.dir.path());
        let path = repo.display().to_string();
        for (url, named) in [
            (format!("file://{path}"), "file://"),
            (path.clone(), "local paths"),
            ("http://127.0.0.1:9/acme/widget.git".into(), "127.0.0.1"),
            ("http://10.0.0.1/acme/widget.git".into(), "10.0.0.1"),
            ("http://[::1]:9/acme/widget.git".into(), "::1"),
            (
                "http://169.254.169.254/latest/meta-data/".into(),
                "169.254.169.254",
            ),
            (
                "https://localhost:9/acme/widget.git".into(),
                "localhost resolves to",
            ),
        ] {
            let body = json!({"name": "acme/widget", "repository_url": url});
            let r = api(&s, "POST", "/api/v1/packages", Some(&body));
            assert_eq!(r.status, 400, "{backend:?} {url}: {}", r.text());
            let message = r.json()["error"]["message"].as_str().unwrap().to_string();
            assert!(message.contains(named), "{url}: {message}");
            assert!(message.contains("GIT_ALLOW_LOCAL"), "{url}: {message}");
        }
        let listed = api(&s, "GET", "/api/v1/packages", None).json();
        assert_eq!(listed["pagination"]["total"], 0, "{listed}");
        // The CLI's `package add` is refused the same way.
        let out = s.cli(&["package", "add", &path, "--name", "acme/widget"]);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("GIT_ALLOW_LOCAL"), "{stderr}");
    }
}

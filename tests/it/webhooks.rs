//! Git provider webhooks (GitHub, GitLab, Bitbucket) that sync Composer packages, with their
//! signatures, refusals and the recorded deliveries.

use std::path::{Path, PathBuf};

use crate::common::{Reply, TestServer, api, backends, git, versions, wait_for_task, write};
use serde_json::{Value, json};

/// Commits a change and tags it `v{version}`.
fn tag_version(repo: &Path, version: &str) {
    write(
        repo,
        "src/Widget.php",
        &format!("<?php\nclass Widget {{ const VERSION = '{version}'; }}\n"),
    );
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", &format!("version {version}")]);
    git(repo, &["tag", &format!("v{version}")]);
}

/// `acme/widget` with tag `v1.0.0` on branch `main`.
fn widget_repo(root: &Path) -> PathBuf {
    let repo = root.join("widget");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let manifest = json!({"name": "acme/widget", "description": "A widget", "license": "MIT"});
    write(&repo, "composer.json", &manifest.to_string());
    tag_version(&repo, "1.0.0");
    repo
}

fn task_count(s: &TestServer) -> i64 {
    api(s, "GET", "/api/v1/tasks", None).json()["pagination"]["total"]
        .as_i64()
        .unwrap()
}

/// Adds `acme/widget` from `repo` and waits for its first sync; returns the repository URL.
fn add_widget(s: &TestServer, repo: &Path) -> String {
    let url = format!("file://{}", repo.display());
    let created = api(
        s,
        "POST",
        "/api/v1/packages",
        Some(&json!({"name": "acme/widget", "repository_url": url, "type": "git"})),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    wait_for_task(s, &created.json()["data"]["task"]);
    assert_eq!(versions(s), ["1.0.0", "dev-main"]);
    url
}

fn sign(secret: &str, body: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    format!(
        "sha256={}",
        hex::encode(aws_lc_rs::hmac::sign(&key, body).as_ref())
    )
}

/// POSTs `body` exactly as given to `/api/webhooks/{provider}` with extra headers.
fn hook(s: &TestServer, provider: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), body).unwrap();
    let data = format!("@{}", file.path().display());
    let mut args: Vec<String> = vec!["-X".into(), "POST".into()];
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        args.extend(["-H".into(), "Content-Type: application/json".into()]);
    }
    for (k, v) in headers {
        args.extend(["-H".into(), format!("{k}: {v}")]);
    }
    args.extend(["--data-binary".into(), data]);
    args.push(format!("/api/webhooks/{provider}"));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    s.curl(&refs)
}

fn github(s: &TestServer, event: &str, secret: &str, body: &Value) -> Reply {
    let raw = body.to_string();
    let sig = sign(secret, raw.as_bytes());
    hook(
        s,
        "github",
        &[
            ("X-GitHub-Event", event),
            ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            ("X-Hub-Signature-256", &sig),
        ],
        raw.as_bytes(),
    )
}

fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn deliveries(s: &TestServer, query: &str) -> Value {
    let reply = api(
        s,
        "GET",
        &format!("/api/v1/packages/acme/widget/webhook-deliveries{query}"),
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// Every delivery, newest first (refused ones have no package).
fn all_deliveries(s: &TestServer) -> Vec<Value> {
    let reply = api(s, "GET", "/api/v1/webhook-deliveries?per_page=100", None);
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["data"].as_array().unwrap().clone()
}

/// The accepted answer's single task, after it finished.
fn synced(s: &TestServer, reply: &Reply) {
    assert_eq!(reply.status, 202, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["ok"], true, "{body}");
    assert_eq!(body["packages"], json!(["acme/widget"]), "{body}");
    assert_eq!(body["tasks"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["tasks"][0]["kind"], "composer.sync");
    wait_for_task(s, &body["tasks"][0]);
}

#[test]
fn github_hooks_are_verified_and_sync_tags() {
    const SECRET: &str = "gh-s3cret";
    for backend in backends() {
        let s = TestServer::start_with(backend, &[("GITHUB_WEBHOOK_SECRET", SECRET)]);
        let repo = widget_repo(s.dir.path());
        let url = add_widget(&s, &repo);

        // Ping: the endpoint answers 200.
        let ping = github(
            &s,
            "ping",
            SECRET,
            &json!({"zen": "Keep it logically awesome.", "hook_id": 1, "repository": {"clone_url": url}}),
        );
        assert_eq!(ping.status, 200, "{backend:?}: {}", ping.text());
        assert_eq!(ping.json(), json!({"ok": true}));

        // A new tag; forged and missing signatures change nothing.
        tag_version(&repo, "1.1.0");
        let push = json!({
            "ref": "refs/tags/v1.1.0",
            "repository": {"clone_url": url, "html_url": "https://example.invalid/acme/widget"},
        });
        let tasks_before = task_count(&s);
        let forged = github(&s, "push", "not-the-secret", &push);
        assert_eq!(forged.status, 401, "{}", forged.text());
        assert_eq!(forged.json()["ok"], false);
        assert!(
            forged.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("signature"),
            "{}",
            forged.text()
        );
        let raw = push.to_string();
        let unsigned = hook(&s, "github", &[("X-GitHub-Event", "push")], raw.as_bytes());
        assert_eq!(unsigned.status, 401, "{}", unsigned.text());
        assert!(unsigned.text().contains("X-Hub-Signature-256"));
        // A signature of another body does not carry over.
        let other = sign(SECRET, b"{}");
        let replayed = hook(
            &s,
            "github",
            &[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", &other)],
            raw.as_bytes(),
        );
        assert_eq!(replayed.status, 401);
        assert_eq!(task_count(&s), tasks_before, "no task for refused hooks");
        assert_eq!(versions(&s), ["1.0.0", "dev-main"]);

        // A signed push syncs: the tag becomes a version.
        synced(&s, &github(&s, "push", SECRET, &push));
        assert_eq!(versions(&s), ["1.1.0", "1.0.0", "dev-main"], "{backend:?}");

        // Tag deleted → the version goes.
        git(&repo, &["tag", "-d", "v1.1.0"]);
        let deleted = json!({"ref": "v1.1.0", "ref_type": "tag", "repository": {"ssh_url": url}});
        synced(&s, &github(&s, "delete", SECRET, &deleted));
        assert_eq!(versions(&s), ["1.0.0", "dev-main"]);

        // Tag created → the version comes (the repository named by html_url only).
        tag_version(&repo, "1.2.0");
        let created = json!({"ref": "v1.2.0", "ref_type": "tag", "repository": {"html_url": url}});
        synced(&s, &github(&s, "create", SECRET, &created));
        assert_eq!(versions(&s), ["1.2.0", "1.0.0", "dev-main"]);

        // GitHub's default content type: `payload=<url-encoded JSON>`, signed as sent.
        tag_version(&repo, "1.3.0");
        let form = format!(
            "payload={}",
            form_encode(
                &json!({"ref": "refs/tags/v1.3.0", "repository": {"clone_url": url}}).to_string()
            )
        );
        let sig = sign(SECRET, form.as_bytes());
        let reply = hook(
            &s,
            "github",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("X-GitHub-Event", "push"),
                ("X-Hub-Signature-256", &sig),
            ],
            form.as_bytes(),
        );
        synced(&s, &reply);
        assert_eq!(versions(&s), ["1.3.0", "1.2.0", "1.0.0", "dev-main"]);

        // Events that change no version, repositories no package uses, broken bodies.
        let tasks_before = task_count(&s);
        let issues = github(
            &s,
            "issues",
            SECRET,
            &json!({"action": "opened", "repository": {"clone_url": url}}),
        );
        assert_eq!(issues.status, 202, "{}", issues.text());
        assert_eq!(issues.json()["ok"], true);
        assert!(
            issues.json()["ignored"]
                .as_str()
                .unwrap()
                .contains("issues")
        );
        let branch = github(
            &s,
            "create",
            SECRET,
            &json!({"ref": "x", "ref_type": "repository", "repository": {"clone_url": url}}),
        );
        assert_eq!(branch.status, 202);
        assert!(branch.json()["ignored"].is_string());
        let elsewhere = github(
            &s,
            "push",
            SECRET,
            &json!({"ref": "refs/heads/main", "repository": {
                "clone_url": "https://github.com/someone/else.git",
                "ssh_url": "git@github.com:someone/else.git",
            }}),
        );
        assert_eq!(elsewhere.status, 202, "{}", elsewhere.text());
        assert_eq!(
            elsewhere.json(),
            json!({"ok": true, "ignored": "no package uses this repository"})
        );
        let broken = b"{\"ref\": ";
        let sig = sign(SECRET, broken);
        let reply = hook(
            &s,
            "github",
            &[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", &sig)],
            broken,
        );
        assert_eq!(reply.status, 400, "{}", reply.text());
        assert!(reply.text().contains("JSON"), "{}", reply.text());
        assert_eq!(task_count(&s), tasks_before, "no task for ignored hooks");

        // The package's deliveries, newest first, with their outcomes; the refused ones could
        // not be trusted to name it and are listed only among all deliveries.
        let listed = deliveries(&s, "");
        let rows = listed["data"].as_array().unwrap();
        let statuses: Vec<i64> = rows
            .iter()
            .map(|r| r["status_code"].as_i64().unwrap())
            .collect();
        assert_eq!(
            statuses,
            [202, 202, 202, 202, 202, 202, 200],
            "{backend:?}: {listed}"
        );
        assert_eq!(listed["pagination"]["total"], 7);
        let outcome = |i: usize| rows[i]["outcome"].as_str().unwrap().to_string();
        assert!(outcome(0).starts_with("ignored"), "{}", outcome(0));
        assert!(outcome(1).contains("issues"), "{}", outcome(1));
        assert!(outcome(2).starts_with("sync queued"), "{}", outcome(2));
        assert!(outcome(3).contains("tag v1.2.0 created"), "{}", outcome(3));
        assert!(outcome(4).contains("tag v1.1.0 deleted"), "{}", outcome(4));
        assert!(outcome(5).contains("refs/tags/v1.1.0"), "{}", outcome(5));
        assert_eq!(outcome(6), "ping");
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row["provider"], "github");
            assert!(row["package_id"].is_i64());
            assert_eq!(row["task_id"].is_i64(), (2..=5).contains(&i), "{row}");
            assert_eq!(row["remote_ip"], "127.0.0.1");
        }
        assert_eq!(rows[5]["event"], "push");
        assert_eq!(rows[5]["repository_url"], url.as_str());
        assert!(rows[0]["created_at"].as_str().unwrap().ends_with('Z'));
        let paged = deliveries(&s, "?page=2&per_page=3");
        assert_eq!(paged["data"].as_array().unwrap().len(), 3);
        assert_eq!(paged["data"][0]["id"], rows[3]["id"]);
        assert_eq!(paged["pagination"]["total_pages"], 3);
        let refused: Vec<Value> = all_deliveries(&s)
            .into_iter()
            .filter(|r| r["status_code"] == 401)
            .collect();
        assert_eq!(refused.len(), 3, "{refused:?}");
        for row in &refused {
            assert!(row["package_id"].is_null(), "{row}");
            assert!(row["repository_url"].is_null(), "{row}");
            assert_eq!(row["event"], "push");
            assert_eq!(row["remote_ip"], "127.0.0.1");
            assert!(
                row["outcome"].as_str().unwrap().starts_with("refused"),
                "{row}"
            );
        }
        assert!(
            refused[0]["outcome"]
                .as_str()
                .unwrap()
                .contains("signature")
        );

        // The listing needs an admin.
        let anonymous = s.curl(&["/api/v1/packages/acme/widget/webhook-deliveries"]);
        assert_eq!(anonymous.status, 401);
        assert_eq!(anonymous.json()["error"]["code"], "UNAUTHORIZED");
        let missing = api(
            &s,
            "GET",
            "/api/v1/packages/acme/nothing/webhook-deliveries",
            None,
        );
        assert_eq!(missing.status, 404);
        // The package routes next to it still work.
        assert_eq!(
            api(&s, "GET", "/api/v1/packages/acme/widget", None).status,
            200
        );
    }
}

#[test]
fn gitlab_tokens_and_bitbucket_signatures() {
    const GITLAB: &str = "gl-t0ken";
    const BITBUCKET: &str = "bb-s3cret";
    for backend in backends() {
        let s = TestServer::start_with(
            backend,
            &[
                ("GITLAB_WEBHOOK_SECRET", GITLAB),
                ("BITBUCKET_WEBHOOK_SECRET", BITBUCKET),
            ],
        );
        let repo = widget_repo(s.dir.path());
        let url = add_widget(&s, &repo);
        let tasks_before = task_count(&s);

        // GitHub has no secret here: everything is refused, signed or not.
        let gh = github(
            &s,
            "push",
            "anything",
            &json!({"repository": {"clone_url": url}}),
        );
        assert_eq!(gh.status, 401, "{}", gh.text());
        assert!(gh.text().contains("GITHUB_WEBHOOK_SECRET"), "{}", gh.text());

        // GitLab: the token must match.
        tag_version(&repo, "1.1.0");
        let tag_push = json!({
            "object_kind": "tag_push",
            "ref": "refs/tags/v1.1.0",
            "project": {"git_http_url": url, "web_url": "https://gitlab.example.com/acme/widget"},
            "repository": {"homepage": "https://gitlab.example.com/acme/widget"},
        })
        .to_string();
        for token in [Some("wrong"), Some("gl-t0ke"), None] {
            let mut headers = vec![("X-Gitlab-Event", "Tag Push Hook")];
            if let Some(t) = token {
                headers.push(("X-Gitlab-Token", t));
            }
            let reply = hook(&s, "gitlab", &headers, tag_push.as_bytes());
            assert_eq!(reply.status, 401, "{token:?}: {}", reply.text());
            assert!(reply.text().contains("X-Gitlab-Token"), "{}", reply.text());
        }
        assert_eq!(task_count(&s), tasks_before);
        let reply = hook(
            &s,
            "gitlab",
            &[
                ("X-Gitlab-Event", "Tag Push Hook"),
                ("X-Gitlab-Token", GITLAB),
            ],
            tag_push.as_bytes(),
        );
        synced(&s, &reply);
        assert_eq!(versions(&s), ["1.1.0", "1.0.0", "dev-main"], "{backend:?}");
        let mr = hook(
            &s,
            "gitlab",
            &[
                ("X-Gitlab-Event", "Merge Request Hook"),
                ("X-Gitlab-Token", GITLAB),
            ],
            tag_push.as_bytes(),
        );
        assert_eq!(mr.status, 202);
        assert!(mr.json()["ignored"].is_string());

        // Bitbucket with a secret: the signature is required.
        tag_version(&repo, "1.2.0");
        let push = json!({
            "push": {"changes": [{"new": {"type": "tag", "name": "v1.2.0"}, "old": null}]},
            "repository": {"full_name": "acme/widget", "links": {"html": {"href": url}}},
        })
        .to_string();
        let tasks_before = task_count(&s);
        let unsigned = hook(
            &s,
            "bitbucket",
            &[("X-Event-Key", "repo:push")],
            push.as_bytes(),
        );
        assert_eq!(unsigned.status, 401, "{}", unsigned.text());
        let forged = sign("nope", push.as_bytes());
        let reply = hook(
            &s,
            "bitbucket",
            &[("X-Event-Key", "repo:push"), ("X-Hub-Signature", &forged)],
            push.as_bytes(),
        );
        assert_eq!(reply.status, 401);
        assert_eq!(task_count(&s), tasks_before);
        assert_eq!(versions(&s), ["1.1.0", "1.0.0", "dev-main"]);
        let sig = sign(BITBUCKET, push.as_bytes());
        let reply = hook(
            &s,
            "bitbucket",
            &[("X-Event-Key", "repo:push"), ("X-Hub-Signature", &sig)],
            push.as_bytes(),
        );
        synced(&s, &reply);
        assert_eq!(versions(&s), ["1.2.0", "1.1.0", "1.0.0", "dev-main"]);

        let rows = |listed: &[Value]| -> Vec<(String, i64, String)> {
            listed
                .iter()
                .map(|r| {
                    (
                        r["provider"].as_str().unwrap().to_string(),
                        r["status_code"].as_i64().unwrap(),
                        r["event"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        };
        let want = |expected: &[(&str, i64, &str)]| -> Vec<(String, i64, String)> {
            expected
                .iter()
                .map(|(p, c, e)| (p.to_string(), *c, e.to_string()))
                .collect()
        };
        let listed = deliveries(&s, "?per_page=100");
        assert_eq!(
            rows(listed["data"].as_array().unwrap()),
            want(&[
                ("bitbucket", 202, "repo:push"),
                ("gitlab", 202, "Merge Request Hook"),
                ("gitlab", 202, "Tag Push Hook"),
            ]),
            "{backend:?}: {listed}"
        );
        // The refused ones are among all deliveries, without a package.
        assert_eq!(
            rows(&all_deliveries(&s)),
            want(&[
                ("bitbucket", 202, "repo:push"),
                ("bitbucket", 401, "repo:push"),
                ("bitbucket", 401, "repo:push"),
                ("gitlab", 202, "Merge Request Hook"),
                ("gitlab", 202, "Tag Push Hook"),
                ("gitlab", 401, "Tag Push Hook"),
                ("gitlab", 401, "Tag Push Hook"),
                ("gitlab", 401, "Tag Push Hook"),
                ("github", 401, "push"),
            ]),
            "{backend:?}"
        );
        assert!(
            listed["data"][0]["outcome"]
                .as_str()
                .unwrap()
                .contains("tag v1.2.0")
        );
    }
}

#[test]
fn bitbucket_without_a_secret_takes_unsigned_hooks() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let repo = widget_repo(s.dir.path());
        let url = add_widget(&s, &repo);

        // No secrets at all: GitHub and GitLab refuse, Bitbucket accepts unsigned hooks.
        let body = json!({"repository": {"clone_url": url}, "project": {"git_http_url": url}});
        let gh = github(&s, "push", "guess", &body);
        assert_eq!(gh.status, 401);
        let gl = hook(
            &s,
            "gitlab",
            &[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", "")],
            body.to_string().as_bytes(),
        );
        assert_eq!(gl.status, 401, "{}", gl.text());
        assert!(gl.text().contains("GITLAB_WEBHOOK_SECRET"));

        tag_version(&repo, "1.1.0");
        let push = json!({
            "push": {"changes": [{"new": {"type": "branch", "name": "main"}}]},
            "repository": {"links": {"html": {"href": url}}},
        })
        .to_string();
        let reply = hook(
            &s,
            "bitbucket",
            &[("X-Event-Key", "repo:push")],
            push.as_bytes(),
        );
        synced(&s, &reply);
        assert_eq!(versions(&s), ["1.1.0", "1.0.0", "dev-main"], "{backend:?}");
        let ping = hook(
            &s,
            "bitbucket",
            &[("X-Event-Key", "diagnostics:ping")],
            b"{}",
        );
        assert_eq!(ping.status, 200);
        assert_eq!(ping.json(), json!({"ok": true}));
        let broken = hook(
            &s,
            "bitbucket",
            &[("X-Event-Key", "repo:push")],
            b"not json",
        );
        assert_eq!(broken.status, 400);
        let no_event = hook(&s, "bitbucket", &[], push.as_bytes());
        assert_eq!(no_event.status, 400);
        assert!(no_event.text().contains("X-Event-Key"));

        // Bodies over 1 MiB are refused before anything is read from them.
        let big = vec![b' '; 2 * 1024 * 1024];
        let reply = hook(&s, "bitbucket", &[("X-Event-Key", "repo:push")], &big);
        assert_eq!(reply.status, 413, "{}", reply.text());

        let listed = deliveries(&s, "");
        let first = &listed["data"][1];
        assert_eq!(first["status_code"], 202, "{listed}");
        assert!(
            first["outcome"].as_str().unwrap().contains("unsigned"),
            "{listed}"
        );
        assert_eq!(
            first["outcome"],
            "sync queued: push to branch main (unsigned: no secret configured)"
        );
        assert_eq!(listed["pagination"]["total"], 2, "{listed}");
    }
}

#[test]
fn a_monorepo_is_synced_once_for_all_its_packages() {
    const SECRET: &str = "gh-s3cret";
    for backend in backends() {
        let s = TestServer::start_with(backend, &[("GITHUB_WEBHOOK_SECRET", SECRET)]);
        let repo = s.dir.path().join("mono");
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        write(&repo, "composer.json", r#"{"name": "acme/mono"}"#);
        write(
            &repo,
            "packages/core/composer.json",
            r#"{"name": "acme/core"}"#,
        );
        tag_version(&repo, "1.0.0");
        let url = format!("file://{}", repo.display());
        let body = json!({"repository_url": url, "monorepo": "packages/*/composer.json"});
        let created = api(&s, "POST", "/api/v1/packages", Some(&body));
        assert_eq!(created.status, 201, "{backend:?}: {}", created.text());
        wait_for_task(&s, &created.json()["data"]["task"]);

        tag_version(&repo, "1.1.0");
        let reply = github(
            &s,
            "push",
            SECRET,
            &json!({"repository": {"clone_url": url}}),
        );
        assert_eq!(reply.status, 202, "{}", reply.text());
        let body = reply.json();
        assert_eq!(
            body["packages"],
            json!(["acme/mono", "acme/core"]),
            "{body}"
        );
        assert_eq!(body["tasks"].as_array().unwrap().len(), 1, "{body}");
        wait_for_task(&s, &body["tasks"][0]);
        let core = api(&s, "GET", "/api/v1/packages/acme/core", None).json();
        assert_eq!(
            core["data"]["versions"],
            json!(["1.1.0", "1.0.0", "dev-main"])
        );

        // The package found in the monorepo lists the delivery under the monorepo's task.
        let listed = api(
            &s,
            "GET",
            "/api/v1/packages/acme/core/webhook-deliveries",
            None,
        )
        .json();
        assert_eq!(listed["pagination"]["total"], 1, "{listed}");
        assert_eq!(listed["data"][0]["task_id"], body["tasks"][0]["id"]);
    }
}

/// Moves deliveries back in time, as if received `days_ago` days ago.
fn age_delivery(s: &TestServer, id: &Value, days_ago: i64) {
    let at = chrono::Utc::now().timestamp() - days_ago * 86_400;
    let id = id.as_i64().unwrap();
    let url = s.env["DATABASE_URL"].clone();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let db = cargoman::db::Db::connect(&url, 2).await.unwrap();
            sqlx::query("UPDATE webhook_deliveries SET created_at = $1 WHERE id = $2")
                .bind(at)
                .bind(id)
                .execute(db.pool())
                .await
                .unwrap();
            db.close().await;
        });
}

#[test]
fn forged_deliveries_keep_nothing_of_their_payload_and_deliveries_expire() {
    const SECRET: &str = "gh-s3cret";
    for backend in backends() {
        let mut s = TestServer::start_with(
            backend,
            &[
                ("GITHUB_WEBHOOK_SECRET", SECRET),
                ("WEBHOOK_DELIVERY_RETENTION_DAYS", "10"),
            ],
        );
        let repo = widget_repo(s.dir.path());
        let url = add_widget(&s, &repo);

        // A forged delivery of nearly 1 MiB that claims the package, with a long event header.
        let filler = "x".repeat(1000 * 1000);
        let forged = json!({"repository": {
            "clone_url": format!("https://example.invalid/{filler}"),
            "html_url": url,
        }});
        let event = format!("push{}", "y".repeat(4000));
        let reply = github(&s, &event, "not-the-secret", &forged);
        assert_eq!(reply.status, 401, "{}", reply.text());
        assert_eq!(deliveries(&s, "")["pagination"]["total"], 0, "{backend:?}");
        let all = all_deliveries(&s);
        assert_eq!(all.len(), 1, "{all:?}");
        let row = &all[0];
        assert!(row.to_string().len() < 1024, "{backend:?}: {row}");
        assert!(
            row["package_id"].is_null() && row["repository_url"].is_null(),
            "{row}"
        );
        let stored_event = row["event"].as_str().unwrap();
        assert!(
            stored_event.starts_with("pushyyy") && stored_event.len() <= 64,
            "{row}"
        );
        assert_eq!(row["status_code"], 401);
        assert_eq!(row["remote_ip"], "127.0.0.1");
        assert!(
            row["outcome"].as_str().unwrap().contains("signature"),
            "{row}"
        );

        // Deliveries older than the retention go at start (and every hour after)…
        let push = json!({"ref": "refs/heads/main", "repository": {"clone_url": url}});
        synced(&s, &github(&s, "push", SECRET, &push));
        let accepted = all_deliveries(&s)[0]["id"].clone();
        age_delivery(&s, &row["id"], 11);
        age_delivery(&s, &accepted, 9);
        s.restart();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while all_deliveries(&s).len() != 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "{backend:?}: not purged at start"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert_eq!(all_deliveries(&s)[0]["id"], accepted);

        // …and by the cleanup task, which says how many went.
        age_delivery(&s, &accepted, 12);
        let task = api(&s, "POST", "/api/v1/tasks/cleanup", None);
        assert_eq!(task.status, 202, "{}", task.text());
        let done = wait_for_task(&s, &task.json()["data"]);
        assert_eq!(done["result"]["webhook_deliveries_removed"], 1, "{done}");
        assert!(
            done["result"]["stripe_events_removed"].is_number(),
            "{done}"
        );
        assert!(
            done["result"]["audit_entries_removed"].is_number(),
            "{done}"
        );
        assert!(all_deliveries(&s).is_empty());
    }
}

//! Download statistics (`/api/v1/stats…`, Composer's notify-batch) and the audit log
//! (`/api/v1/audit`, retention), on every backend.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{ADMIN, Reply, TestServer, api, backends, git, wait_for_task, write};
use cargoman::db::Db;
use cargoman::model::download_stats::{self, Counts, Key};
use cargoman::model::package_ref::PackageRef;
use cargoman::model::{audit, downloads::DownloadCounter};
use serde_json::{Value, json};

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}")
}

fn as_token(s: &TestServer, token: &str, args: &[&str]) -> Reply {
    let header = bearer(token);
    let mut all = vec!["-H", header.as_str()];
    all.extend_from_slice(args);
    s.curl(&all)
}

/// A JSON call with a token (`None`: anonymous).
fn call(
    s: &TestServer,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Reply {
    let mut args: Vec<String> = vec!["-X".into(), method.into()];
    if let Some(t) = token {
        args.extend(["-H".into(), bearer(t)]);
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

/// Creates a team token as root and returns its plain value.
fn team_token(s: &TestServer, name: &str, level: &str) -> String {
    let r = call(
        s,
        Some(ADMIN),
        "POST",
        "/api/v1/tokens",
        Some(&json!({"name": name, "level": level}).to_string()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["data"]["token"].as_str().unwrap().to_string()
}

/// Polls a statistics route (as root) until `done` holds for its `data`; counts reach the
/// database with the counter's next flush (every 5 s).
fn wait_for_stats(s: &TestServer, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = s.admin(&[path]);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let data = r.json()["data"].clone();
        if done(&data) {
            return data;
        }
        assert!(
            Instant::now() < deadline,
            "{path}: counts never arrived: {data}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// The server's database, opened beside it (as the CLI would).
async fn open_db(s: &TestServer) -> Db {
    Db::connect(&s.env["DATABASE_URL"], 2).await.unwrap()
}

fn upload(s: &TestServer, path: &str, size: usize, seed: u8) {
    let f = s.make_file(&format!("upload-{seed}"), size, seed);
    let put = s.admin(&["--upload-file", f.to_str().unwrap(), path]);
    assert_eq!(put.status, 201, "{path}: {}", put.text());
}

const A: &str = "/api/packages/acme/generic/tool/1.0.0/a.bin";
const B: &str = "/api/packages/acme/generic/tool/2.0.0/b.bin";

#[test]
fn downloads_are_counted_per_version_package_and_day() {
    for backend in backends() {
        let mut s = TestServer::start(backend);
        upload(&s, A, 1000, 1);
        upload(&s, B, 10, 2);
        upload(&s, "/api/packages/other/generic/lib/1/c.bin", 10, 3);
        for _ in 0..3 {
            assert_eq!(s.admin(&[A]).status, 200);
        }
        assert_eq!(s.admin(&[B]).status, 200);
        // Neither a HEAD nor a 304 sends the file, so neither counts; a range does.
        assert_eq!(s.admin(&["-I", B]).status, 200);
        let etag = s.admin(&["-I", A]).header("etag").unwrap().to_string();
        assert_eq!(
            s.admin(&["-H", &format!("If-None-Match: {etag}"), A])
                .status,
            304
        );
        assert_eq!(s.admin(&["-r", "0-9", A]).status, 206);
        assert_eq!(
            s.admin(&["/api/packages/other/generic/lib/1/c.bin"]).status,
            200
        );

        let pkg = wait_for_stats(&s, "/api/v1/stats/packages/acme/tool", |d| {
            d["downloads"]["total"] == 5
        });
        assert_eq!(
            pkg["package"],
            json!({"owner": "acme", "format": "generic", "name": "tool"})
        );
        assert_eq!(
            pkg["downloads"],
            json!({"total": 5, "today": 5, "last_30_days": 5})
        );
        assert_eq!(
            pkg["installs"],
            json!({"total": 0, "today": 0, "last_30_days": 0})
        );
        assert_eq!(
            pkg["versions"],
            json!([
                {"version": "2.0.0", "downloads": 1, "installs": 0},
                {"version": "1.0.0", "downloads": 4, "installs": 0},
            ]),
            "{backend:?}"
        );
        let daily = pkg["daily"].as_array().unwrap();
        assert_eq!(daily.len(), 30, "30 days, zero-filled");
        assert_eq!(
            daily[29],
            json!({"date": today(), "downloads": 5, "installs": 0})
        );
        assert!(
            daily[..29]
                .iter()
                .all(|d| d["downloads"] == 0 && d["installs"] == 0)
        );
        let encoded = s.admin(&["/api/v1/stats/packages/acme%2Ftool"]);
        assert_eq!(encoded.status, 200, "{}", encoded.text());
        assert_eq!(encoded.json()["data"]["downloads"]["total"], 5);

        let v = s.admin(&["/api/v1/stats/packages/acme/tool/versions/1.0.0"]);
        assert_eq!(v.status, 200, "{}", v.text());
        let v = v.json()["data"].clone();
        assert_eq!(v["version"], "1.0.0");
        assert_eq!(v["downloads"]["total"], 4);
        assert_eq!(v["daily"].as_array().unwrap().len(), 30);
        assert_eq!(v["daily"][29]["downloads"], 4);
        let encoded = s.admin(&["/api/v1/stats/packages/acme%2Ftool/versions/2.0.0"]);
        assert_eq!(
            encoded.json()["data"]["downloads"]["total"],
            1,
            "{}",
            encoded.text()
        );
        for missing in [
            "/api/v1/stats/packages/acme/nothing",
            "/api/v1/stats/packages/nobody/tool",
            "/api/v1/stats/packages/acme/tool/versions/9.9.9",
            "/api/v1/stats/packages/acme%2Fnothing",
            "/api/v1/stats/packages/nothing",
        ] {
            let r = s.admin(&[missing]);
            assert_eq!(r.status, 404, "{missing}: {}", r.text());
            assert_eq!(r.json()["error"]["code"], "NOT_FOUND", "{missing}");
        }

        let all = s.admin(&["/api/v1/stats"]).json()["data"].clone();
        assert_eq!(all["packages"], 2);
        assert_eq!(all["versions"], 3);
        assert_eq!(
            all["downloads"],
            json!({"total": 6, "today": 6, "last_30_days": 6})
        );
        assert_eq!(all["installs"]["total"], 0);
        assert_eq!(
            all["top_packages"],
            json!([
                {"owner": "acme", "format": "generic", "name": "tool", "downloads": 5},
                {"owner": "other", "format": "generic", "name": "lib", "downloads": 1},
            ])
        );
        assert_eq!(
            all["customers"],
            json!({"total": 0, "active": 0, "suspended": 0, "frozen": 0, "expired": 0})
        );

        let week = s.admin(&["/api/v1/stats/daily?days=7"]).json()["data"].clone();
        let week = week.as_array().unwrap();
        assert_eq!(week.len(), 7);
        assert_eq!(
            week[6],
            json!({"date": today(), "downloads": 6, "installs": 0})
        );
        let one = s
            .admin(&["/api/v1/stats/daily?days=1&package=other/lib"])
            .json();
        assert_eq!(
            one["data"],
            json!([{"date": today(), "downloads": 1, "installs": 0}])
        );
        assert_eq!(
            s.admin(&["/api/v1/stats/daily"]).json()["data"]
                .as_array()
                .unwrap()
                .len(),
            30,
            "30 days by default"
        );
        for bad in ["days=0", "days=366", "days=-1", "days=many"] {
            let r = s.admin(&[&format!("/api/v1/stats/daily?{bad}")]);
            assert_eq!(r.status, 400, "{bad}: {}", r.text());
            assert_eq!(r.json()["error"]["code"], "VALIDATION_ERROR", "{bad}");
        }
        assert_eq!(s.admin(&["/api/v1/stats/daily?days=365"]).status, 200);
        assert_eq!(
            s.admin(&["/api/v1/stats/daily?package=acme/nope"]).status,
            404
        );
        assert_eq!(
            s.admin(&["/api/v1/stats/daily?customer=cust_nobody"])
                .status,
            404
        );

        // The counter still keeps versions.download_count.
        let counts: Vec<(String, i64)> = run(async {
            let db = open_db(&s).await;
            sqlx::query_as(
                "SELECT v.version, v.download_count FROM versions v JOIN packages p ON p.id = v.package_id \
                 WHERE p.name = 'tool' ORDER BY v.version",
            )
            .fetch_all(db.pool())
            .await
            .unwrap()
        });
        assert_eq!(counts, [("1.0.0".to_string(), 4), ("2.0.0".to_string(), 1)]);

        // Only administrators read statistics.
        let viewer = team_token(&s, "dashboard", "viewer");
        for path in [
            "/api/v1/stats",
            "/api/v1/stats/daily",
            "/api/v1/stats/packages/acme/tool",
            "/api/v1/stats/packages/acme/tool/versions/1.0.0",
        ] {
            let anonymous = s.curl(&[path]);
            assert_eq!(anonymous.status, 401, "{path}");
            assert_eq!(anonymous.json()["error"]["code"], "UNAUTHORIZED");
            assert_eq!(as_token(&s, &viewer, &[path]).status, 200, "viewer {path}");
        }

        // Counts not yet flushed are written at a graceful stop.
        assert_eq!(s.admin(&[B]).status, 200);
        s.restart();
        let after = s
            .admin(&["/api/v1/stats/packages/acme/tool/versions/2.0.0"])
            .json();
        assert_eq!(
            after["data"]["downloads"]["total"], 2,
            "{backend:?}: {after}"
        );
    }
}

/// A Composer package `acme/widget` with tag `v1.0.0` and branch `main`.
fn widget_repo(root: &Path) -> PathBuf {
    let repo = root.join("widget");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    write(
        &repo,
        "composer.json",
        &json!({"name": "acme/widget", "type": "library", "license": "MIT"}).to_string(),
    );
    write(&repo, "src/Widget.php", "<?php\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    git(&repo, &["tag", "v1.0.0"]);
    repo
}

fn add_widget(s: &TestServer) {
    let repo = widget_repo(s.dir.path());
    let created = api(
        s,
        "POST",
        "/api/v1/packages",
        Some(&json!({"repository_url": format!("file://{}", repo.display())})),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    wait_for_task(s, &created.json()["data"]["task"]);
}

fn notify(s: &TestServer, token: Option<&str>, path: &str, body: &str) -> Reply {
    call(s, token, "POST", path, Some(body))
}

#[test]
fn composer_notify_batch_counts_installs() {
    for backend in backends() {
        let s = TestServer::start(backend);
        add_widget(&s);

        // What Composer's InstallationManager::notifyInstalls posts: normalized versions.
        let batch = json!({"downloads": [
            {"name": "acme/widget", "version": "1.0.0.0"},
            {"name": "Acme/Widget", "version": "dev-main"},
            {"name": "acme/widget", "version": "9.9.9.9"},
            {"name": "nobody/nothing", "version": "1.0.0.0"},
        ]})
        .to_string();
        let ok = notify(&s, Some(ADMIN), "/downloads/", &batch);
        assert_eq!(ok.status, 200, "{backend:?}: {}", ok.text());
        assert_eq!(ok.json(), json!({"status": "success"}));
        let again = json!({"downloads": [{"name": "acme/widget", "version": "1.0.0.0", "downloaded": true}]});
        let ok = notify(&s, Some(ADMIN), "/downloads", &again.to_string());
        assert_eq!(ok.status, 200, "{}", ok.text());
        let empty = notify(&s, Some(ADMIN), "/downloads/", r#"{"downloads":[]}"#);
        assert_eq!(empty.status, 200);

        let anonymous = notify(&s, None, "/downloads/", &batch);
        assert_eq!(anonymous.status, 401);
        assert_eq!(anonymous.json()["status"], "error");
        for bad in [
            "{",
            r#"{"downloads":"x"}"#,
            r#"{"downloads":[{"name":"acme/widget"}]}"#,
            "[]",
        ] {
            let r = notify(&s, Some(ADMIN), "/downloads/", bad);
            assert_eq!(r.status, 400, "{bad}: {}", r.text());
            let body = r.json();
            assert_eq!(body["status"], "error", "{bad}");
            assert!(
                body["message"].as_str().unwrap().contains("downloads"),
                "{body}"
            );
        }
        // A viewer may read packages, so it may report installs too; its call counts.
        let viewer = team_token(&s, "laptop", "viewer");
        let mine = json!({"downloads": [{"name": "acme/widget", "version": "dev-main"}]});
        assert_eq!(
            notify(&s, Some(&viewer), "/downloads/", &mine.to_string()).status,
            200
        );

        // A dist download counts as a download of that version.
        assert_eq!(s.admin(&["/dist/acme/widget/1.0.0.zip"]).status, 200);

        let pkg = wait_for_stats(&s, "/api/v1/stats/packages/acme/widget", |d| {
            d["installs"]["total"] == 4 && d["downloads"]["total"] == 1
        });
        assert_eq!(
            pkg["package"],
            json!({"owner": "cargoman", "format": "composer", "name": "acme/widget"})
        );
        let by_version: Vec<(String, i64, i64)> = pkg["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["version"].as_str().unwrap().to_string(),
                    v["downloads"].as_i64().unwrap(),
                    v["installs"].as_i64().unwrap(),
                )
            })
            .collect();
        let mut by_version = by_version;
        by_version.sort();
        assert_eq!(
            by_version,
            [("1.0.0".to_string(), 1, 2), ("dev-main".to_string(), 0, 2)],
            "{backend:?}"
        );
        assert_eq!(
            pkg["daily"][29],
            json!({"date": today(), "downloads": 1, "installs": 4})
        );
        let v = s
            .admin(&["/api/v1/stats/packages/acme/widget/versions/dev-main"])
            .json();
        assert_eq!(v["data"]["installs"]["total"], 2);
        let all = s.admin(&["/api/v1/stats"]).json()["data"].clone();
        assert_eq!(
            all["installs"],
            json!({"total": 4, "today": 4, "last_30_days": 4})
        );
    }
}

#[test]
fn customer_downloads_and_their_latest_versions() {
    for backend in backends() {
        let s = TestServer::start(backend);
        add_widget(&s);
        upload(&s, "/api/packages/acme/generic/tool/1.0.0/a.bin", 10, 1);
        let today = download_stats::today();
        let (alice, bob) = run(async {
            let db = open_db(&s).await;
            let mut tx = db.begin_write().await.unwrap();
            let mut ids = Vec::new();
            for (public_id, status, expires_at) in [
                ("cust_alice", "active", None),
                ("cust_bob", "active", None),
                ("cust_carol", "suspended", None),
                ("cust_dave", "active", Some(1_000_000_000_i64)),
            ] {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO customers (public_id, name, status, expires_at, created_at, updated_at) \
                     VALUES ($1, $1, $2, $3, 0, 0) RETURNING id",
                )
                .bind(public_id)
                .bind(status)
                .bind(expires_at)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
                ids.push(id);
            }
            let version = |name: &str| {
                format!(
                    "SELECT v.id FROM versions v JOIN packages p ON p.id = v.package_id \
                     WHERE p.format = 'composer' AND v.version = '{name}'"
                )
            };
            let stable: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(version("1.0.0")))
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            let dev: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(version("dev-main")))
                .fetch_one(&mut *tx)
                .await
                .unwrap();
            let generic: i64 = sqlx::query_scalar(
                "SELECT v.id FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.format = 'generic'",
            )
            .fetch_one(&mut *tx)
            .await
            .unwrap();
            let (alice, bob) = (ids[0], ids[1]);
            let add = |day, version_id, customer_id, downloads| {
                let key = Key {
                    day,
                    version_id,
                    customer_id,
                };
                (
                    key,
                    Counts {
                        downloads,
                        installs: 0,
                    },
                )
            };
            // Alice: dev-main often long ago; yesterday 1.0.0 more than dev-main; a generic file today.
            for (key, counts) in [
                add(today - 10, dev, alice, 50),
                add(today - 1, dev, alice, 1),
                add(today - 1, stable, alice, 3),
                add(today, generic, alice, 1),
                add(today - 3, stable, bob, 2),
            ] {
                download_stats::add(&mut tx, key, counts).await.unwrap();
            }
            tx.commit().await.unwrap();
            // Bob downloads dev-main today, through the counter as the server does.
            let counter = DownloadCounter::default();
            counter.record(dev, Some(bob));
            counter.record_install(dev, Some(bob));
            counter.flush(&db).await.unwrap();

            let mut conn = db.pool().acquire().await.unwrap();
            let alice_latest = download_stats::latest_versions_for_customer(&mut conn, alice)
                .await
                .unwrap();
            let bob_latest = download_stats::latest_versions_for_customer(&mut conn, bob)
                .await
                .unwrap();
            let nobody = download_stats::latest_versions_for_customer(&mut conn, ids[2])
                .await
                .unwrap();
            assert!(nobody.is_empty());
            (alice_latest, bob_latest)
        });
        let pair = |owner: &str, format: &str, name: &str, version: &str| {
            let package = PackageRef {
                owner: owner.into(),
                format: format.into(),
                name: name.into(),
            };
            (package, version.to_string())
        };
        // Every format's packages, each with its own latest version.
        assert_eq!(
            alice,
            [
                pair("cargoman", "composer", "acme/widget", "1.0.0"),
                pair("acme", "generic", "tool", "1.0.0"),
            ],
            "{backend:?}"
        );
        assert_eq!(
            bob,
            [pair("cargoman", "composer", "acme/widget", "dev-main")],
            "{backend:?}"
        );

        let daily = s.admin(&["/api/v1/stats/daily?days=2&customer=cust_alice"]);
        assert_eq!(daily.status, 200, "{}", daily.text());
        assert_eq!(
            daily.json()["data"],
            json!([
                {"date": download_stats::date_of(today - 1), "downloads": 4, "installs": 0},
                {"date": download_stats::date_of(today), "downloads": 1, "installs": 0},
            ])
        );
        let bob_today =
            s.admin(&["/api/v1/stats/daily?days=1&customer=cust_bob&package=acme/widget"]);
        assert_eq!(
            bob_today.json()["data"],
            json!([{"date": download_stats::date_of(today), "downloads": 1, "installs": 1}])
        );
        let all = s.admin(&["/api/v1/stats"]).json()["data"].clone();
        assert_eq!(
            all["customers"],
            json!({"total": 4, "active": 2, "suspended": 1, "frozen": 0, "expired": 1}),
            "{backend:?}: an expiry in the past counts as expired"
        );
        // Rows written directly and through the counter add up.
        let widget = s.admin(&["/api/v1/stats/packages/acme/widget"]).json()["data"].clone();
        assert_eq!(widget["downloads"]["total"], 50 + 1 + 3 + 2 + 1);
        assert_eq!(widget["installs"]["total"], 1);
    }
}

/// A second Composer package, `acme/other`, with tag `v3.0.0`.
fn add_other(s: &TestServer) {
    let repo = s.dir.path().join("other");
    crate::common::synced_composer_package(s, &repo, "acme/other", "v3.0.0");
}

#[test]
fn customer_tokens_are_counted_for_their_customer_within_their_grants() {
    for backend in backends() {
        let s = TestServer::start(backend);
        add_widget(&s);
        add_other(&s);
        let created = api(
            &s,
            "POST",
            "/api/v1/customers",
            Some(&json!({"name": "Initech"})),
        );
        assert_eq!(created.status, 201, "{}", created.text());
        let customer = created.json()["data"].clone();
        let id = customer["id"].as_str().unwrap().to_string();
        let token = customer["token"].as_str().unwrap().to_string();
        let granted = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/packages"),
            Some(&json!({"package": "acme/widget", "constraint": "^1.0"})),
        );
        assert_eq!(granted.status, 201, "{}", granted.text());

        // Composer sends the customer token as the Basic password.
        let user = format!("token:{token}");
        let dist = s.curl(&["--user", &user, "/dist/acme/widget/1.0.0.zip"]);
        assert_eq!(dist.status, 200, "{backend:?}: {}", dist.text());
        let batch = json!({"downloads": [
            {"name": "acme/widget", "version": "1.0.0.0"},
            {"name": "acme/widget", "version": "dev-main"},
            {"name": "acme/other", "version": "3.0.0.0"},
        ]});
        let reported = s.curl(&[
            "--user",
            &user,
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &batch.to_string(),
            "/downloads/",
        ]);
        assert_eq!(reported.status, 200, "{}", reported.text());
        // The same batch from a team token counts everything, for no customer.
        assert_eq!(
            notify(&s, Some(ADMIN), "/downloads/", &batch.to_string()).status,
            200
        );

        let path = format!("/api/v1/stats/daily?days=1&customer={id}");
        let mine = wait_for_stats(&s, &path, |d| {
            d[0]["downloads"] == 1 && d[0]["installs"] == 1
        });
        assert_eq!(mine[0]["date"], today());
        let all = wait_for_stats(&s, "/api/v1/stats", |d| d["installs"]["total"] == 4);
        assert_eq!(all["downloads"]["total"], 1);
        assert_eq!(all["customers"]["active"], 1);
        let other = s.admin(&["/api/v1/stats/packages/acme/other"]).json()["data"].clone();
        assert_eq!(
            other["installs"]["total"], 1,
            "only the team token's report"
        );
        let dev = s
            .admin(&["/api/v1/stats/packages/acme/widget/versions/dev-main"])
            .json();
        assert_eq!(
            dev["data"]["installs"]["total"], 1,
            "dev-main is outside ^1.0"
        );

        let latest = run(async {
            let db = open_db(&s).await;
            let mut conn = db.pool().acquire().await.unwrap();
            let internal: i64 = sqlx::query_scalar("SELECT id FROM customers WHERE public_id = $1")
                .bind(&id)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            download_stats::latest_versions_for_customer(&mut conn, internal)
                .await
                .unwrap()
        });
        let widget = PackageRef {
            owner: "cargoman".into(),
            format: "composer".into(),
            name: "acme/widget".into(),
        };
        assert_eq!(latest, [(widget, "1.0.0".to_string())], "{backend:?}");

        // Creating the customer and its grant were administrative actions by root.
        let log = audit_entries(&s, ADMIN, "?action=POST%20/api/v1/customers");
        let actions: Vec<&str> = log["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "POST /api/v1/customers/{id}/packages",
                "POST /api/v1/customers"
            ]
        );
        assert!(
            log["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["actor"] == "root")
        );
    }
}

/// The audit log as a viewer reads it, newest first.
fn audit_entries(s: &TestServer, token: &str, query: &str) -> Value {
    let r = as_token(s, token, &[&format!("/api/v1/audit{query}")]);
    assert_eq!(r.status, 200, "{query}: {}", r.text());
    r.json()
}

#[test]
fn administrative_actions_are_audited_with_their_actor() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let started = chrono::Utc::now() - chrono::Duration::seconds(2);
        let zeta = call(
            &s,
            Some(ADMIN),
            "POST",
            "/api/v1/owners",
            Some(r#"{"name":"zeta"}"#),
        );
        assert_eq!(zeta.status, 201, "{}", zeta.text());
        let bot = team_token(&s, "ci-bot", "admin");
        let viewer = team_token(&s, "auditor", "viewer");
        let beta = call(
            &s,
            Some(&bot),
            "POST",
            "/api/v1/owners",
            Some(r#"{"name":"beta"}"#),
        );
        assert_eq!(beta.status, 201);
        assert_eq!(
            call(&s, Some(&bot), "DELETE", "/api/v1/owners/beta", None).status,
            204
        );

        // Not recorded: reads, refusals, failures, package uploads outside /api/v1.
        assert_eq!(as_token(&s, &bot, &["/api/v1/owners"]).status, 200);
        assert_eq!(
            call(
                &s,
                Some(&viewer),
                "POST",
                "/api/v1/owners",
                Some(r#"{"name":"gamma"}"#)
            )
            .status,
            403
        );
        assert_eq!(
            call(&s, None, "DELETE", "/api/v1/owners/zeta", None).status,
            401
        );
        assert_eq!(
            call(
                &s,
                Some(&bot),
                "POST",
                "/api/v1/owners",
                Some(r#"{"name":"ZETA"}"#)
            )
            .status,
            409
        );
        assert_eq!(
            call(&s, Some(&bot), "POST", "/api/v1/owners", Some("{")).status,
            400
        );
        upload(&s, "/api/packages/acme/generic/tool/1.0.0/a.bin", 10, 1);

        let log = audit_entries(&s, &viewer, "");
        assert_eq!(log["pagination"]["total"], 5, "{backend:?}: {log}");
        let rows: Vec<(String, String, String, i64)> = log["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["actor"].as_str().unwrap().to_string(),
                    e["action"].as_str().unwrap().to_string(),
                    e["target"].as_str().unwrap().to_string(),
                    e["status"].as_i64().unwrap(),
                )
            })
            .collect();
        let row = |actor: &str, action: &str, target: &str, status| {
            (
                actor.to_string(),
                action.to_string(),
                target.to_string(),
                status,
            )
        };
        assert_eq!(
            rows,
            [
                row(
                    "ci-bot",
                    "DELETE /api/v1/owners/{owner}",
                    "/api/v1/owners/beta",
                    204
                ),
                row("ci-bot", "POST /api/v1/owners", "/api/v1/owners", 201),
                row("root", "POST /api/v1/tokens", "/api/v1/tokens", 201),
                row("root", "POST /api/v1/tokens", "/api/v1/tokens", 201),
                row("root", "POST /api/v1/owners", "/api/v1/owners", 201),
            ],
            "{backend:?}"
        );
        let newest = &log["data"][0];
        assert_eq!(newest["method"], "DELETE");
        assert_eq!(newest["path"], "/api/v1/owners/beta");
        assert_eq!(newest["ip"], "127.0.0.1");
        assert!(newest["details"].is_null());
        let at = chrono::DateTime::parse_from_rfc3339(newest["at"].as_str().unwrap()).unwrap();
        assert!(at >= started, "{at}");

        // Filters and pagination.
        let by_bot = audit_entries(&s, &viewer, "?actor=ci-bot");
        assert_eq!(by_bot["pagination"]["total"], 2);
        let deletes = audit_entries(&s, &viewer, "?action=DELETE");
        assert_eq!(deletes["pagination"]["total"], 1);
        let tokens = audit_entries(&s, &viewer, "?action=POST%20/api/v1/tokens");
        assert_eq!(tokens["pagination"]["total"], 2);
        let future = audit_entries(&s, &viewer, "?since=2999-01-01T00:00:00Z");
        assert_eq!(future["pagination"]["total"], 0);
        let past = audit_entries(&s, &viewer, "?until=2001-01-01T00:00:00Z");
        assert_eq!(past["pagination"]["total"], 0);
        let window = format!(
            "?since={}&until=2999-01-01T00:00:00Z&actor=root",
            started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        assert_eq!(
            audit_entries(&s, &viewer, &window)["pagination"]["total"],
            3
        );
        let page = audit_entries(&s, &viewer, "?per_page=2&page=3");
        assert_eq!(page["pagination"]["total_pages"], 3);
        assert_eq!(page["data"][0]["action"], "POST /api/v1/owners");
        assert_eq!(page["data"][0]["actor"], "root");
        let bad = as_token(&s, &viewer, &["/api/v1/audit?since=yesterday"]);
        assert_eq!(bad.status, 400);
        assert_eq!(bad.json()["error"]["code"], "VALIDATION_ERROR");

        let anonymous = s.curl(&["/api/v1/audit"]);
        assert_eq!(anonymous.status, 401);
        assert_eq!(anonymous.json()["error"]["code"], "UNAUTHORIZED");
        // Reading the log is not an action either.
        assert_eq!(audit_entries(&s, &viewer, "")["pagination"]["total"], 5);
    }
}

fn old_entry(s: &TestServer, action: &str, at: i64) {
    run(async {
        let db = open_db(s).await;
        let mut tx = db.begin_write().await.unwrap();
        audit::record_at(
            &mut tx,
            &audit::NewEntry {
                actor: "stripe",
                action,
                target: Some("cust_x"),
                details: Some(json!({"event": "evt_1"})),
                ip: None,
                method: "POST",
                path: "/api/webhooks/stripe",
                status: 200,
            },
            at,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    });
}

fn actions(s: &TestServer) -> Vec<String> {
    let log = audit_entries(s, ADMIN, "?per_page=100");
    log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn audit_entries_older_than_the_retention_are_purged() {
    for backend in backends() {
        let mut s = TestServer::start_with(backend, &[("AUDIT_LOG_RETENTION_DAYS", "10")]);
        let now = chrono::Utc::now().timestamp();
        let day = 86_400;
        old_entry(&s, "stripe.eleven_days", now - 11 * day);
        // Purged at start (and every hour after).
        s.restart();
        let deadline = Instant::now() + Duration::from_secs(30);
        while actions(&s).contains(&"stripe.eleven_days".to_string()) {
            assert!(
                Instant::now() < deadline,
                "{backend:?}: not purged at start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }

        // And by the cleanup task, which reports how many went.
        old_entry(&s, "stripe.twelve_days", now - 12 * day);
        old_entry(&s, "stripe.nine_days", now - 9 * day);
        let recorded = audit_entries(&s, ADMIN, "?action=stripe.nine");
        assert_eq!(recorded["data"][0]["details"], json!({"event": "evt_1"}));
        assert_eq!(recorded["data"][0]["target"], "cust_x");
        assert!(recorded["data"][0]["ip"].is_null());
        let task = call(&s, Some(ADMIN), "POST", "/api/v1/tasks/cleanup", None);
        assert_eq!(task.status, 202, "{}", task.text());
        let done = wait_for_task(&s, &task.json()["data"]);
        assert_eq!(
            done["result"]["audit_entries_removed"], 1,
            "{backend:?}: {done}"
        );
        assert!(done["result"]["blob_rows_removed"].is_number(), "{done}");
        let left = actions(&s);
        assert!(left.contains(&"stripe.nine_days".to_string()), "{left:?}");
        assert!(
            !left.contains(&"stripe.twelve_days".to_string()),
            "{left:?}"
        );
        // The cleanup call itself is an administrative action.
        assert!(
            left.contains(&"POST /api/v1/tasks/cleanup".to_string()),
            "{left:?}"
        );
    }
}

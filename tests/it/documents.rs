//! Rendered documents across migration 9, which moved package documents (text) and repository
//! documents (bytes) into one table: a database an older release left is migrated at the next
//! start with every body byte-identical, every `updated_at` kept and every ETag filled in.

use std::path::{Path, PathBuf};

use cargoman::db::Db;
use cargoman::model::documents::{self, Document, Scope};
use cargoman::model::{owners, packages};
use serde_json::json;

use crate::common::{
    Reply, TestServer, api, backends, git, new_database_url, wait_for_task, write,
};

const PACKAGE: &str = "acme/tools";
/// The package's documents, as the Composer routes and the management API name them.
const DOCUMENTS: [&str; 4] = ["p2", "p2~dev", "p1", "readme"];
const ROUTES: [&str; 3] = [
    "/p2/acme/tools.json",
    "/p2/acme/tools~dev.json",
    "/p/acme/tools.json",
];
const README: &str = "/api/v1/packages/acme/tools/readme";
/// A repository document that is not text: bytes no UTF-8 decoder would keep.
const CORE_DB: &[u8] = &[0x1f, 0x8b, 0x00, 0xff, 0xfe, b'\\', b'\n', 0x80, 0x00];

/// A package whose documents hold what a careless text-to-bytes conversion would change:
/// backslashes (PostgreSQL's bytea input reads them as escapes) and non-ASCII text.
fn package_repo(root: &Path) -> PathBuf {
    let repo = root.join("tools");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let manifest = json!({
        "name": PACKAGE,
        "description": "Outils pour café ☕ — \"quoted\", tab\t, slash \\ end",
        "license": "MIT",
        "autoload": {"psr-4": {"Acme\\Café\\Tools\\": "src/"}}
    });
    write(&repo, "composer.json", &manifest.to_string());
    write(
        &repo,
        "README.md",
        "# Café ☕\n\n`C:\\tools` — «ça marche»\n",
    );
    write(
        &repo,
        "src/Tool.php",
        "<?php\nnamespace Acme\\Café\\Tools;\n",
    );
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    git(&repo, &["tag", "v1.0.0"]);
    repo
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// The package's stored documents, in `DOCUMENTS` order.
async fn stored(db: &Db) -> Vec<Document> {
    let mut conn = db.pool().acquire().await.unwrap();
    let owner = owners::find(&mut conn, "cargoman").await.unwrap().unwrap();
    let package = packages::find_package(&mut conn, owner.id, "composer", PACKAGE)
        .await
        .unwrap()
        .unwrap();
    let mut found = Vec::new();
    for name in DOCUMENTS {
        let document = documents::get(&mut conn, package.document_scope(), name)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no {name} document"));
        found.push(document);
    }
    found
}

/// What the Composer routes and the README call answer.
fn served(s: &TestServer) -> Vec<Reply> {
    let mut replies: Vec<Reply> = ROUTES.iter().map(|route| s.admin(&[route])).collect();
    replies.push(api(s, "GET", README, None));
    for reply in &replies {
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    replies
}

/// Builds, on the new database `url`, the schema an older release left (migrations up to 8)
/// holding documents as that release stored them: the package's as text, and a repository's.
async fn older_database(url: &str, originals: &[Document]) {
    let db = Db::connect(url, 2).await.unwrap();
    cargoman::db::run_migrations_up_to(&db, 8).await.unwrap();
    let owner = |name: &str| {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO owners (name, lower_name, created_at) VALUES ($1, $1, 1) RETURNING id",
        )
        .bind(name.to_string())
        .fetch_one(db.pool())
    };
    let cargoman_id = owner("cargoman").await.unwrap();
    let package_id: i64 = sqlx::query_scalar(
        "INSERT INTO packages (owner_id, format, name, lower_name, created_at) \
         VALUES ($1, 'composer', $2, $2, 1) RETURNING id",
    )
    .bind(cargoman_id)
    .bind(PACKAGE)
    .fetch_one(db.pool())
    .await
    .unwrap();
    for (name, document) in DOCUMENTS.iter().zip(originals) {
        sqlx::query(
            "INSERT INTO documents (package_id, name, body, updated_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(package_id)
        .bind(*name)
        .bind(String::from_utf8(document.body.clone()).unwrap())
        .bind(document.updated_at)
        .execute(db.pool())
        .await
        .unwrap();
    }
    let arch_id = owner("arch").await.unwrap();
    sqlx::query(
        "INSERT INTO repository_documents (owner_id, format, name, body, sha256, updated_at) \
         VALUES ($1, 'pacman', 'core.db', $2, $3, 1700000000)",
    )
    .bind(arch_id)
    .bind(CORE_DB)
    .bind(sha256_hex(CORE_DB))
    .execute(db.pool())
    .await
    .unwrap();
    db.close().await;
}

fn sha256_hex(data: &[u8]) -> String {
    cargoman::blobs::digest::sha256_hex(data)
}

#[test]
fn documents_of_an_older_schema_migrate_intact() {
    for backend in backends() {
        // Real Composer documents, rendered by a sync on a current server.
        let s = TestServer::start(backend);
        let repo = package_repo(s.dir.path());
        let created = api(
            &s,
            "POST",
            "/api/v1/packages",
            Some(&json!({"repository_url": format!("file://{}", repo.display()), "type": "git"})),
        );
        assert_eq!(created.status, 201, "{backend:?}: {}", created.text());
        wait_for_task(&s, &created.json()["data"]["task"]);
        let before = served(&s);
        let originals = block_on(async {
            let db = Db::connect(&s.env["DATABASE_URL"], 2).await.unwrap();
            let found = stored(&db).await;
            db.close().await;
            found
        });
        assert!(
            String::from_utf8_lossy(&originals[0].body).contains("Acme\\\\Café\\\\Tools"),
            "the documents hold what the test is about"
        );

        // The same documents in an older release's tables; the next start migrates them.
        let old = tempfile::tempdir().unwrap();
        let url = new_database_url(backend, old.path());
        block_on(older_database(&url, &originals));
        let migrated = TestServer::start_with(backend, &[("DATABASE_URL", &url)]);
        for (after, before) in served(&migrated).iter().zip(&before) {
            assert_eq!(after.body, before.body, "{backend:?}: byte-identical");
            assert_eq!(
                after.header("last-modified"),
                before.header("last-modified"),
                "{backend:?}: same time"
            );
        }
        let p2 = &before[0];
        let since = format!("If-Modified-Since: {}", p2.header("last-modified").unwrap());
        assert_eq!(migrated.admin(&["-H", &since, ROUTES[0]]).status, 304);
        let etag = format!("\"{}\"", originals[0].sha256);
        let current = format!("If-None-Match: {etag}");
        assert_eq!(migrated.admin(&["-H", &current, ROUTES[0]]).status, 304);
        drop(migrated);

        block_on(async {
            let db = Db::connect(&url, 2).await.unwrap();
            // Stored as before, each with the hash a current release would have given it.
            let after = stored(&db).await;
            for (after, original) in after.iter().zip(&originals) {
                assert_eq!(after.body, original.body, "{backend:?}");
                assert_eq!(after.updated_at, original.updated_at, "{backend:?}");
                assert_eq!(after.sha256, sha256_hex(&original.body), "{backend:?}");
            }
            let mut conn = db.pool().acquire().await.unwrap();
            let arch = owners::find(&mut conn, "arch").await.unwrap().unwrap();
            let pacman = Scope::repository(arch.id, "pacman");
            let core = documents::get(&mut conn, pacman, "core.db")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(core.body, CORE_DB, "{backend:?}");
            assert_eq!(core.sha256, sha256_hex(CORE_DB));
            assert_eq!(core.updated_at, 1700000000);

            // The upsert finds migrated rows: the same body keeps its time, a new one moves it.
            let owner = owners::find(&mut conn, "cargoman").await.unwrap().unwrap();
            let package = packages::find_package(&mut conn, owner.id, "composer", PACKAGE)
                .await
                .unwrap()
                .unwrap();
            let p2 = package.document_scope();
            documents::put(&mut conn, p2, "p2", &originals[0].body)
                .await
                .unwrap();
            let kept = documents::get(&mut conn, p2, "p2").await.unwrap().unwrap();
            assert_eq!(kept.updated_at, originals[0].updated_at, "{backend:?}");
            documents::put(&mut conn, pacman, "core.db", b"new")
                .await
                .unwrap();
            let moved = documents::get(&mut conn, pacman, "core.db")
                .await
                .unwrap()
                .unwrap();
            assert!(moved.updated_at > core.updated_at, "{backend:?}");

            // The old tables are gone.
            for table in ["documents", "repository_documents"] {
                let query = format!("SELECT COUNT(*) FROM {table}");
                let gone = sqlx::query(sqlx::AssertSqlSafe(query))
                    .execute(&mut *conn)
                    .await;
                assert!(gone.is_err(), "{backend:?}: {table} is still there");
            }
            drop(conn);
            db.close().await;
        });
    }
}

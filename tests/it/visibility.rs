//! Owner visibility (public, limited, private) on the read routes of every format, the owners API
//! that sets it, and the migration that gives existing owners `private`.

use serde_json::json;

use crate::common::{Reply, TestServer, api, backends};

const PUBLIC_FILE: &str = "/api/packages/oss/generic/tool/1.0/f.bin";
const LIMITED_FILE: &str = "/api/packages/inner/generic/tool/1.0/f.bin";
const PRIVATE_FILE: &str = "/api/packages/acme/generic/tool/1.0/f.bin";

fn with_token(s: &TestServer, token: &str, args: &[&str]) -> Reply {
    let header = format!("Authorization: Bearer {token}");
    let mut all = vec!["-H", header.as_str()];
    all.extend_from_slice(args);
    s.curl(&all)
}

fn create_owner(s: &TestServer, name: &str, visibility: &str) {
    let r = api(
        s,
        "POST",
        "/api/v1/owners",
        Some(&json!({"name": name, "visibility": visibility})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["data"]["visibility"], visibility);
}

fn set_visibility(s: &TestServer, owner: &str, visibility: &str) -> Reply {
    api(
        s,
        "PATCH",
        &format!("/api/v1/owners/{owner}"),
        Some(&json!({ "visibility": visibility })),
    )
}

/// `oss` public, `inner` limited, `acme` private (created by the upload, so by default), each
/// with one Generic file; returns its content.
fn three_owners(s: &TestServer) -> Vec<u8> {
    create_owner(s, "oss", "public");
    create_owner(s, "inner", "limited");
    let f = s.make_file("f.bin", 1000, 7);
    for path in [PUBLIC_FILE, LIMITED_FILE, PRIVATE_FILE] {
        let put = s.admin(&["--upload-file", f.to_str().unwrap(), path]);
        assert_eq!(put.status, 201, "{path}: {}", put.text());
    }
    std::fs::read(f).unwrap()
}

fn assert_basic_challenge(r: &Reply, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.text());
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Basic"), "{what}: {challenge:?}");
}

/// Creates a customer and a token of `scope` for it; returns the token.
fn customer_token(s: &TestServer, scope: &str) -> String {
    let r = api(
        s,
        "POST",
        "/api/v1/customers",
        Some(&json!({"name": scope})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["data"]["id"].as_str().unwrap().to_string();
    let r = api(
        s,
        "POST",
        &format!("/api/v1/customers/{id}/tokens"),
        Some(&json!({"name": scope, "scope": scope})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["data"]["plain_token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn team_token(s: &TestServer, level: &str) -> String {
    let r = api(
        s,
        "POST",
        "/api/v1/tokens",
        Some(&json!({"name": level, "level": level})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["data"]["token"].as_str().unwrap().to_string()
}

#[test]
fn anonymous_reads_public_owners_only() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let bytes = three_owners(&s);

        let get = s.curl(&[PUBLIC_FILE]);
        assert_eq!(get.status, 200, "{backend:?}: {}", get.text());
        assert_eq!(get.body, bytes);
        let head = s.curl(&["-I", PUBLIC_FILE]);
        assert_eq!(head.status, 200, "{backend:?}");
        assert_eq!(head.header("content-length"), Some("1000"));
        let range = s.curl(&["-r", "0-9", PUBLIC_FILE]);
        assert_eq!(range.status, 206);
        assert_eq!(range.body, &bytes[..10]);
        // A missing file of a public owner is an honest 404.
        let missing = s.curl(&["/api/packages/oss/generic/tool/1.0/none.bin"]);
        assert_eq!(missing.status, 404, "{backend:?}");

        // Private, limited and unknown owners: 401 with the challenge, so clients retry with
        // credentials; an unknown owner looks like a private one.
        for path in [
            PRIVATE_FILE,
            LIMITED_FILE,
            "/api/packages/nobody/generic/tool/1.0/f.bin",
        ] {
            assert_basic_challenge(&s.curl(&[path]), path);
            assert_basic_challenge(&s.curl(&["-I", path]), path);
        }

        // Writes always need a token, also to a public owner.
        let f = s.make_file("g.bin", 10, 2);
        let put = s.curl(&[
            "--upload-file",
            f.to_str().unwrap(),
            "/api/packages/oss/generic/tool/2.0/g.bin",
        ]);
        assert_basic_challenge(&put, "anonymous PUT");
        assert_basic_challenge(&s.curl(&["-X", "DELETE", PUBLIC_FILE]), "DELETE");
        assert_basic_challenge(
            &s.curl(&["-X", "DELETE", "/api/packages/oss/generic/tool/1.0"]),
            "DELETE version",
        );
        let viewer = team_token(&s, "viewer");
        let put = with_token(
            &s,
            &viewer,
            &[
                "--upload-file",
                f.to_str().unwrap(),
                "/api/packages/oss/generic/tool/2.0/g.bin",
            ],
        );
        assert_eq!(
            put.status, 403,
            "a viewer may not publish to a public owner"
        );
        assert_eq!(s.curl(&[PUBLIC_FILE]).status, 200, "still there");

        // Back to private: counts at once.
        let r = set_visibility(&s, "oss", "private");
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["data"]["visibility"], "private");
        assert_basic_challenge(&s.curl(&[PUBLIC_FILE]), "made private");
        assert_eq!(s.admin(&[PUBLIC_FILE]).status, 200);
        assert_eq!(set_visibility(&s, "oss", "public").status, 200);
        assert_eq!(s.curl(&[PUBLIC_FILE]).status, 200);
    }
}

#[test]
fn limited_owners_need_any_valid_token() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let bytes = three_owners(&s);
        let viewer = team_token(&s, "viewer");
        let download = customer_token(&s, "download");
        let webhook = customer_token(&s, "webhook");

        assert_basic_challenge(&s.curl(&[LIMITED_FILE]), "anonymous on limited");
        assert_basic_challenge(
            &with_token(&s, "cma_not_a_token", &[LIMITED_FILE]),
            "a wrong token is no token",
        );
        for (token, who) in [(&viewer, "viewer"), (&download, "customer download")] {
            let r = with_token(&s, token, &[LIMITED_FILE]);
            assert_eq!(r.status, 200, "{backend:?} {who}: {}", r.text());
            assert_eq!(r.body, bytes);
            // Public owners too; private ones only for members.
            assert_eq!(with_token(&s, token, &[PUBLIC_FILE]).status, 200, "{who}");
        }
        assert_eq!(with_token(&s, &viewer, &[PRIVATE_FILE]).status, 200);
        // A customer sees of a private owner what its grants give (nothing in Generic), and a
        // token that cannot read at all reads no limited owner.
        assert_eq!(with_token(&s, &download, &[PRIVATE_FILE]).status, 403);
        assert_eq!(with_token(&s, &webhook, &[LIMITED_FILE]).status, 403);
        assert_eq!(with_token(&s, &webhook, &[PUBLIC_FILE]).status, 200);
        // A customer never writes through visibility.
        let f = s.make_file("g.bin", 10, 2);
        let put = with_token(
            &s,
            &download,
            &[
                "--upload-file",
                f.to_str().unwrap(),
                "/api/packages/inner/generic/tool/2.0/g.bin",
            ],
        );
        assert_eq!(put.status, 403, "{backend:?}");
    }
}

#[test]
fn owners_api_sets_and_validates_visibility() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let r = api(
            &s,
            "POST",
            "/api/v1/owners",
            Some(&json!({"name": "plain"})),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(r.json()["data"]["visibility"], "private", "the default");
        for (method, path, body) in [
            (
                "POST",
                "/api/v1/owners",
                json!({"name": "x", "visibility": "internal"}),
            ),
            (
                "PATCH",
                "/api/v1/owners/plain",
                json!({"visibility": "Public"}),
            ),
            ("PATCH", "/api/v1/owners/plain", json!({"visibility": 1})),
            ("PATCH", "/api/v1/owners/plain", json!({})),
        ] {
            let r = api(&s, method, path, Some(&body));
            assert_eq!(r.status, 400, "{backend:?} {method} {body}: {}", r.text());
            assert_eq!(r.json()["error"]["code"], "VALIDATION_ERROR");
        }
        let named = api(
            &s,
            "PATCH",
            "/api/v1/owners/plain",
            Some(&json!({"visibility": "everyone"})),
        );
        let message = named.json()["error"]["message"].to_string();
        assert!(message.contains("public, limited or private"), "{message}");
        assert_eq!(set_visibility(&s, "nobody", "public").status, 404);

        let r = set_visibility(&s, "PLAIN", "limited");
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["data"]["name"], "plain");
        let shown = s.admin(&["/api/v1/owners/plain"]).json();
        assert_eq!(shown["data"]["visibility"], "limited");
        let listed = s.admin(&["/api/v1/owners"]).json();
        assert_eq!(listed["data"][0]["visibility"], "limited");

        let viewer = team_token(&s, "viewer");
        let r = with_token(
            &s,
            &viewer,
            &[
                "-X",
                "PATCH",
                "-H",
                "Content-Type: application/json",
                "-d",
                r#"{"visibility":"public"}"#,
                "/api/v1/owners/plain",
            ],
        );
        assert_eq!(r.status, 403, "a viewer may not change visibility");
    }
}

/// The management API is the team's: its listings answer no outsider, so they never show a
/// private owner (or a public one) to anonymous callers or customers.
#[test]
fn listings_never_show_private_owners_to_outsiders() {
    for backend in backends() {
        let s = TestServer::start(backend);
        three_owners(&s);
        let download = customer_token(&s, "download");
        for path in [
            "/api/v1/owners",
            "/api/v1/owners/acme",
            "/api/v1/owners/oss",
            "/api/v1/owners/acme/packages",
            "/api/v1/owners/oss/packages",
            "/api/v1/owners/acme/packages/generic/tool/versions",
            "/api/v1/stats",
        ] {
            let anonymous = s.curl(&[path]);
            assert_eq!(anonymous.status, 401, "{backend:?} {path}");
            assert!(!anonymous.text().contains("acme"), "{path}");
            let customer = with_token(&s, &download, &[path]);
            assert_eq!(customer.status, 403, "{backend:?} {path}");
            assert!(!customer.text().contains("acme"), "{path}");
        }
    }
}

/// Gitea's and Nitro's Composer dialects and the main Composer repository follow the same rule.
#[test]
fn composer_reads_follow_visibility() {
    for backend in backends() {
        let s = TestServer::start(backend);
        create_owner(&s, "oss", "public");
        for owner in ["oss", "acme"] {
            assert_eq!(
                s.curl(&[&format!("/api/packages/{owner}/composer/list.json")])
                    .status,
                if owner == "oss" { 200 } else { 401 },
                "{backend:?} Gitea {owner}"
            );
            assert_eq!(
                s.curl(&[&format!("/repositories/default/{owner}/packages/list.json")])
                    .status,
                if owner == "oss" { 200 } else { 401 },
                "{backend:?} Nitro {owner}"
            );
        }
        assert_basic_challenge(
            &s.curl(&["/api/packages/acme/composer/packages.json"]),
            "Gitea private",
        );

        // The Git-synced repository (owner `cargoman`): grants until its owner is public, then
        // anyone reads it whole.
        let download = customer_token(&s, "download");
        assert_eq!(s.curl(&["/packages.json"]).status, 401);
        create_owner(&s, "cargoman", "public");
        let r = s.curl(&["/packages.json"]);
        assert_eq!(r.status, 200, "{backend:?}: {}", r.text());
        assert_eq!(with_token(&s, &download, &["/packages.json"]).status, 200);
        assert_eq!(set_visibility(&s, "cargoman", "private").status, 200);
        assert_eq!(s.curl(&["/packages.json"]).status, 401);
    }
}

/// A database with owners at schema 5 (the column dropped and migration 6 forgotten) migrates to
/// 6 at the next start with every owner private, whatever it was before.
#[test]
fn existing_owners_migrate_to_private() {
    for backend in backends() {
        let mut s = TestServer::start(backend);
        three_owners(&s);
        let url = s.env["DATABASE_URL"].clone();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let db = cargoman::db::Db::connect(&url, 2).await.unwrap();
                for sql in [
                    "ALTER TABLE owners DROP COLUMN visibility",
                    "DELETE FROM schema_migrations WHERE version = 6",
                ] {
                    sqlx::query(sql).execute(db.pool()).await.unwrap();
                }
                db.close().await;
            });
        s.restart();
        let listed = s.admin(&["/api/v1/owners"]).json();
        let owners = listed["data"].as_array().unwrap();
        assert_eq!(owners.len(), 3, "{listed}");
        for owner in owners {
            assert_eq!(owner["visibility"], "private", "{backend:?} {owner}");
        }
        assert_basic_challenge(&s.curl(&[PUBLIC_FILE]), "private after migrating");
        assert_eq!(s.admin(&[PUBLIC_FILE]).status, 200);
    }
}

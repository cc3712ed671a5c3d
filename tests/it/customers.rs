//! Customers, grants, lifecycle states and scoped tokens, proven with the real `composer` client.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{TestServer, api, backends, git, wait_for_task, write};
use serde_json::{Value, json};

/// `acme/core` with tags 1.0.0, 1.1.0 and 2.0.0.
fn core_repo(root: &Path) -> PathBuf {
    let repo = root.join("core");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let manifest = json!({
        "name": "acme/core",
        "description": "Core",
        "type": "library",
        "license": "proprietary",
        "autoload": {"psr-4": {"Acme\\Core\\": "src/"}}
    });
    write(&repo, "composer.json", &manifest.to_string());
    for version in ["1.0.0", "1.1.0", "2.0.0"] {
        write(
            &repo,
            "src/Core.php",
            &format!(
                "<?php\nnamespace Acme\\Core;\nclass Core {{ const VERSION = '{version}'; }}\n"
            ),
        );
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", version]);
        git(&repo, &["tag", &format!("v{version}")]);
    }
    repo
}

/// The quick-start's step 2 for `acme/core`, waiting for its first sync.
pub(crate) fn add_core(s: &TestServer) {
    let repo = core_repo(s.dir.path());
    let created = api(
        s,
        "POST",
        "/api/v1/packages",
        Some(&json!({
            "name": "acme/core",
            "repository_url": format!("file://{}", repo.display()),
            "type": "github"
        })),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    wait_for_task(s, &created.json()["data"]["task"]);
}

/// Creates a customer; returns (id, initial token).
fn customer(s: &TestServer, name: &str, external_id: Option<&str>) -> (String, String) {
    let mut body = json!({"name": name, "email": "dev@example.com"});
    if let Some(ext) = external_id {
        body["external_id"] = json!(ext);
    }
    let reply = api(s, "POST", "/api/v1/customers", Some(&body));
    assert_eq!(reply.status, 201, "{}", reply.text());
    let data = reply.json()["data"].clone();
    (
        data["id"].as_str().unwrap().to_string(),
        data["token"].as_str().unwrap().to_string(),
    )
}

fn grant(s: &TestServer, id: &str, package: &str, constraint: &str) {
    let reply = api(
        s,
        "POST",
        &format!("/api/v1/customers/{id}/packages"),
        Some(&json!({"package": package, "constraint": constraint})),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
}

/// GET with a customer token as Composer sends it (HTTP Basic, user `token`).
fn get_as(s: &TestServer, token: &str, path: &str) -> common::Reply {
    let user = format!("token:{token}");
    s.curl(&["--user", &user, path])
}

pub(crate) fn p2_versions(s: &TestServer, token: &str, package: &str) -> Vec<String> {
    let reply = get_as(s, token, &format!("/p2/{package}.json"));
    if reply.status == 404 {
        return Vec::new();
    }
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["packages"][package]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["version"].as_str().map(str::to_string))
        .collect()
}

fn project(s: &TestServer, name: &str) -> PathBuf {
    let dir = s.dir.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    write(
        &dir,
        "composer.json",
        &json!({"name": "test/app"}).to_string(),
    );
    dir
}

fn composer(dir: &Path, args: &[&str]) -> Output {
    common::composer(dir, None, args)
}

fn ok(out: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "composer failed: {text}");
    text
}

fn failed(out: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "composer should have failed: {text}");
    text
}

/// A project configured the way the quick-start's step 5 says.
fn configured_project(s: &TestServer, name: &str, token: &str) -> PathBuf {
    let dir = project(s, name);
    let host = s.base.trim_start_matches("http://");
    ok(&composer(
        &dir,
        &["config", "repositories.my-registry", "composer", &s.base],
    ));
    ok(&composer(
        &dir,
        &["config", &format!("http-basic.{host}"), "token", token],
    ));
    ok(&composer(&dir, &["config", "secure-http", "false"]));
    ok(&composer(
        &dir,
        &["config", "repositories.packagist.org", "false"],
    ));
    dir
}

fn installed_version(dir: &Path, package: &str) -> String {
    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("composer.lock")).unwrap()).unwrap();
    lock["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == package)
        .map(|p| p["version"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[test]
fn quick_start_works_verbatim() {
    for backend in backends() {
        let s = TestServer::start(backend);
        add_core(&s);
        let reply = api(
            &s,
            "POST",
            "/api/v1/customers",
            Some(&json!({"name": "Acme Corp", "email": "dev@acme.com"})),
        );
        assert_eq!(reply.status, 201, "{}", reply.text());
        let data = reply.json()["data"].clone();
        assert_eq!(data["status"], "active");
        assert_eq!(data["name"], "Acme Corp");
        let id = data["id"].as_str().unwrap();
        assert!(id.starts_with("cust_"), "{data}");
        let token = data["token"].as_str().unwrap();
        assert!(token.starts_with("tok_"), "{data}");
        grant(&s, id, "acme/core", "*");

        let dir = configured_project(&s, "quick", token);
        ok(&composer(&dir, &["require", "acme/core"]));
        assert_eq!(installed_version(&dir, "acme/core"), "2.0.0", "{backend:?}");
        assert!(dir.join("vendor/acme/core/src/Core.php").exists());

        // Composer reported the install to `notify-batch`; counts are written every few seconds.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let stats = api(&s, "GET", "/api/v1/stats/packages/acme/core", None).json();
            if stats["data"]["installs"]["total"] == 1 && stats["data"]["downloads"]["total"] == 1 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{backend:?}: {stats}");
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
    }
}

#[test]
fn grants_limit_what_composer_resolves() {
    for backend in backends() {
        let s = TestServer::start(backend);
        add_core(&s);
        let (a, token_a) = customer(&s, "A", None);
        let (_b, token_b) = customer(&s, "B", None);
        grant(&s, &a, "acme/core", "^1.0");

        // A sees 1.x only; B sees nothing at all.
        assert_eq!(p2_versions(&s, &token_a, "acme/core"), ["1.1.0", "1.0.0"]);
        assert_eq!(p2_versions(&s, &token_b, "acme/core"), Vec::<String>::new());
        let index = get_as(&s, &token_b, "/packages.json").json();
        assert_eq!(index["available-packages"], json!([]), "{index}");
        let index = get_as(&s, &token_a, "/packages.json").json();
        assert_eq!(index["available-packages"], json!(["acme/core"]), "{index}");
        // Composer 1 metadata is filtered the same way.
        let p1 = get_as(&s, &token_a, "/p/acme/core.json").json();
        let mut v1: Vec<&String> = p1["packages"]["acme/core"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        v1.sort();
        assert_eq!(v1, ["1.0.0", "1.1.0"]);

        // A guessed URL outside the grant is refused, with a reason Composer shows.
        let denied = get_as(&s, &token_a, "/dist/acme/core/2.0.0.zip");
        assert_eq!(denied.status, 403, "{}", denied.text());
        assert_eq!(denied.header("content-type"), Some("application/json"));
        assert!(
            denied.json()["warning"]
                .as_str()
                .unwrap()
                .contains("acme/core")
        );
        assert_eq!(
            get_as(&s, &token_a, "/dist/acme/core/1.1.0.zip").status,
            200
        );
        assert_eq!(
            get_as(&s, &token_b, "/dist/acme/core/1.0.0.zip").status,
            403
        );

        let dir = configured_project(&s, "a", &token_a);
        ok(&composer(&dir, &["require", "acme/core"]));
        assert_eq!(installed_version(&dir, "acme/core"), "1.1.0");
        let out = failed(&composer(&dir, &["require", "acme/core:^2.0"]));
        assert!(out.contains("acme/core"), "{out}");

        let dir = configured_project(&s, "b", &token_b);
        let out = failed(&composer(&dir, &["require", "acme/core"]));
        assert!(out.contains("acme/core"), "{out}");

        // Changing the grant counts on the next request, even for a client holding a cached copy.
        let user_a = format!("token:{token_a}");
        let cached = get_as(&s, &token_a, "/p2/acme/core.json");
        let since = format!(
            "If-Modified-Since: {}",
            cached.header("last-modified").unwrap()
        );
        let revalidated = s.curl(&["--user", &user_a, "-H", &since, "/p2/acme/core.json"]);
        assert_eq!(revalidated.status, 304);
        grant(&s, &a, "acme/core", "^2.0");
        let revalidated = s.curl(&["--user", &user_a, "-H", &since, "/p2/acme/core.json"]);
        assert_eq!(
            revalidated.status, 200,
            "a grant change must move Last-Modified"
        );
        assert_eq!(p2_versions(&s, &token_a, "acme/core"), ["2.0.0"]);
        let removed = api(
            &s,
            "DELETE",
            &format!("/api/v1/customers/{a}/packages/acme%2Fcore"),
            None,
        );
        assert_eq!(removed.status, 204, "{}", removed.text());
        assert_eq!(p2_versions(&s, &token_a, "acme/core"), Vec::<String>::new());
    }
}

#[test]
fn lifecycle_states_as_composer_sees_them() {
    for backend in backends() {
        let s = TestServer::start(backend);
        add_core(&s);
        let (id, token) = customer(&s, "Acme", Some("cus_stripe1"));
        grant(&s, &id, "acme/core", "*");
        let dir = configured_project(&s, "life", &token);
        ok(&composer(&dir, &["require", "acme/core:^1.0"]));

        let reply = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/suspend"),
            Some(&json!({"reason": "Payment failed"})),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.json()["data"]["status"], "suspended");
        // Nothing from Composer's cache: the archive must come from the server.
        std::fs::remove_dir_all(dir.join("vendor")).unwrap();
        std::fs::remove_dir_all(dir.join(".composer-cache")).unwrap();
        let out = failed(&composer(&dir, &["install"]));
        assert!(out.contains("403"), "{out}");
        assert!(out.contains("Payment failed"), "{out}");
        assert_eq!(get_as(&s, &token, "/packages.json").status, 403);

        let reply = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/reactivate"),
            None,
        );
        assert_eq!(reply.json()["data"]["status"], "active", "{}", reply.text());
        ok(&composer(&dir, &["install"]));

        // Frozen: only the frozen version is listed and downloadable.
        let reply = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/freeze"),
            Some(&json!({"versions": [{"package": "acme/core", "version": "1.0.0"}]})),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.json()["data"]["status"], "frozen");
        assert_eq!(p2_versions(&s, &token, "acme/core"), ["1.0.0"]);
        assert_eq!(get_as(&s, &token, "/dist/acme/core/1.1.0.zip").status, 403);
        let frozen = configured_project(&s, "frozen", &token);
        ok(&composer(&frozen, &["require", "acme/core"]));
        assert_eq!(installed_version(&frozen, "acme/core"), "1.0.0");
        failed(&composer(&frozen, &["require", "acme/core:^2.0"]));

        let bad = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/freeze"),
            Some(&json!({"versions": [{"package": "acme/core", "version": "9.9.9"}]})),
        );
        assert_eq!(bad.status, 400, "{}", bad.text());

        // Expired, explicitly or by its end date passing.
        let reply = api(&s, "POST", &format!("/api/v1/customers/{id}/expire"), None);
        assert_eq!(reply.json()["data"]["status"], "expired");
        assert_eq!(get_as(&s, &token, "/p2/acme/core.json").status, 403);
        api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/reactivate"),
            None,
        );
        assert_eq!(get_as(&s, &token, "/p2/acme/core.json").status, 200);
        let reply = api(
            &s,
            "PATCH",
            &format!("/api/v1/customers/{id}"),
            Some(&json!({"expires_at": "2020-01-01T00:00:00Z"})),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.json()["data"]["status"], "expired");
        let denied = get_as(&s, &token, "/p2/acme/core.json");
        assert_eq!(denied.status, 403);
        assert!(denied.text().contains("expired"), "{}", denied.text());
        let listed = api(&s, "GET", "/api/v1/customers?status=expired", None).json();
        assert_eq!(listed["pagination"]["total"], 1, "{listed}");
        // Reactivation clears the past end date.
        let reply = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/reactivate"),
            None,
        );
        assert_eq!(reply.json()["data"]["status"], "active");
        assert!(reply.json()["data"]["expires_at"].is_null());
        assert_eq!(get_as(&s, &token, "/p2/acme/core.json").status, 200);
    }
}

#[test]
fn scoped_tokens_rotate_and_revoke_at_once() {
    for backend in backends() {
        let s = TestServer::start_with(backend, &[("MAX_TOKENS_PER_CUSTOMER", "3")]);
        add_core(&s);
        let (id, _initial) = customer(&s, "Acme", None);
        grant(&s, &id, "acme/core", "*");

        let made = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/tokens"),
            Some(&json!({"name": "CI", "scope": "download", "package_scopes": ["acme/*"]})),
        );
        assert_eq!(made.status, 201, "{}", made.text());
        let made = made.json()["data"].clone();
        let plain = made["plain_token"].as_str().unwrap().to_string();
        assert_eq!(made["composer_auth"]["username"], "token");
        assert_eq!(made["composer_auth"]["password"], plain.as_str());
        assert_eq!(made["token"]["scope"], "download");
        let token_id = made["token"]["id"].as_i64().unwrap();
        assert_eq!(p2_versions(&s, &plain, "acme/core").len(), 3);

        // Listing never shows values; use is recorded.
        let listed = api(&s, "GET", &format!("/api/v1/customers/{id}/tokens"), None).json();
        assert!(!listed.to_string().contains(&plain));
        let shown = api(
            &s,
            "GET",
            &format!("/api/v1/customers/{id}/tokens/{token_id}"),
            None,
        )
        .json();
        assert!(shown["data"]["last_used_at"].is_string(), "{shown}");
        assert_eq!(shown["data"]["last_used_ip"], "127.0.0.1");

        // A scope outside the package hides it.
        let other = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/tokens"),
            Some(&json!({"name": "other", "scope": "download", "package_scopes": ["other/*"]})),
        )
        .json()["data"]["plain_token"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(p2_versions(&s, &other, "acme/core"), Vec::<String>::new());

        // The per-customer maximum (3 here: the initial one and two more).
        let over = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/tokens"),
            Some(&json!({"name": "too many"})),
        );
        assert_eq!(over.status, 409, "{}", over.text());

        // A download token cannot upload nor use the management API.
        let user = format!("token:{plain}");
        let put = s.curl(&[
            "--user",
            &user,
            "-X",
            "PUT",
            "--data-binary",
            "x",
            "/api/packages/acme/generic/tool/1.0/tool.bin",
        ]);
        assert_eq!(put.status, 403, "{}", put.text());
        let mgmt = s.curl(&[
            "-H",
            &format!("Authorization: Bearer {plain}"),
            "/api/v1/customers",
        ]);
        assert_eq!(mgmt.status, 403, "{}", mgmt.text());

        // Rotation: the old value dies at once, the new one works with the same settings.
        let rotated = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/tokens/{token_id}/rotate"),
            None,
        );
        assert_eq!(rotated.status, 200, "{}", rotated.text());
        let new_plain = rotated.json()["data"]["plain_token"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(get_as(&s, &plain, "/packages.json").status, 401);
        assert_eq!(p2_versions(&s, &new_plain, "acme/core").len(), 3);

        let revoked = api(
            &s,
            "DELETE",
            &format!("/api/v1/customers/{id}/tokens/{token_id}"),
            None,
        );
        assert_eq!(revoked.status, 200, "{}", revoked.text());
        assert_eq!(get_as(&s, &new_plain, "/packages.json").status, 401);

        // Legacy routes: regenerate leaves one new token, DELETE /token revokes all.
        let regen = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/token/regenerate"),
            None,
        );
        assert_eq!(regen.status, 200, "{}", regen.text());
        let fresh = regen.json()["data"]["token"].as_str().unwrap().to_string();
        assert_eq!(get_as(&s, &other, "/packages.json").status, 401);
        assert_eq!(get_as(&s, &fresh, "/packages.json").status, 200);
        let gone = api(&s, "DELETE", &format!("/api/v1/customers/{id}/token"), None);
        assert_eq!(gone.status, 200, "{}", gone.text());
        assert_eq!(get_as(&s, &fresh, "/packages.json").status, 401);

        // Bad requests name the problem.
        for (body, needle) in [
            (json!({"name": "x", "scope": "root"}), "scope"),
            (
                json!({"name": "x", "package_scopes": ["../etc"]}),
                "package scope",
            ),
            (
                json!({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}),
                "past",
            ),
            (json!({"name": "x", "expires_at": "tomorrow"}), "RFC 3339"),
            (json!({"name": ""}), "name"),
        ] {
            let reply = api(
                &s,
                "POST",
                &format!("/api/v1/customers/{id}/tokens"),
                Some(&body),
            );
            assert_eq!(reply.status, 400, "{body}: {}", reply.text());
            assert!(reply.text().contains(needle), "{body}: {}", reply.text());
        }
    }
}

/// POSTs a Stripe event signed the way Stripe signs it.
fn stripe(s: &TestServer, secret: &str, event: &Value) -> common::Reply {
    let body = event.to_string();
    let signature =
        cargoman::billing::stripe::sign(secret, body.as_bytes(), cargoman::clock::now());
    s.curl(&[
        "-X",
        "POST",
        "-H",
        &format!("Stripe-Signature: {signature}"),
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &body,
        "/api/webhooks/stripe",
    ])
}

fn stripe_event(kind: &str, customer: &str) -> Value {
    let id = format!("evt_{kind}_{customer}");
    stripe_event_at(&id, kind, customer, cargoman::clock::now())
}

/// An event with its own id, created at `created` (unix seconds).
fn stripe_event_at(id: &str, kind: &str, customer: &str, created: i64) -> Value {
    json!({
        "id": id,
        "object": "event",
        "created": created,
        "type": kind,
        "data": {"object": {"id": "in_1", "object": "invoice", "customer": customer, "status": "open"}}
    })
}

fn status_of(s: &TestServer, id: &str) -> String {
    api(s, "GET", &format!("/api/v1/customers/{id}"), None).json()["data"]["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn stripe_events_drive_the_lifecycle() {
    const SECRET: &str = "whsec_test_secret";
    for backend in backends() {
        let s = TestServer::start_with(backend, &[("STRIPE_WEBHOOK_SECRET", SECRET)]);
        add_core(&s);
        let (id, token) = customer(&s, "Paying", Some("cus_paying"));
        grant(&s, &id, "acme/core", "*");
        // What the customer has: it downloaded 1.1.0.
        assert_eq!(get_as(&s, &token, "/dist/acme/core/1.1.0.zip").status, 200);

        let failed = stripe(
            &s,
            SECRET,
            &stripe_event("invoice.payment_failed", "cus_paying"),
        );
        assert_eq!(failed.status, 200, "{}", failed.text());
        assert_eq!(failed.json()["outcome"]["action"], "suspended");
        assert_eq!(status_of(&s, &id), "suspended");
        let denied = get_as(&s, &token, "/p2/acme/core.json");
        assert_eq!(denied.status, 403);
        assert!(
            denied.text().contains("payment failed"),
            "{}",
            denied.text()
        );

        assert_eq!(
            stripe(&s, SECRET, &stripe_event("invoice.paid", "cus_paying")).status,
            200
        );
        assert_eq!(status_of(&s, &id), "active");

        let deleted = stripe(
            &s,
            SECRET,
            &stripe_event("customer.subscription.deleted", "cus_paying"),
        );
        assert_eq!(deleted.status, 200, "{}", deleted.text());
        assert_eq!(status_of(&s, &id), "frozen");
        assert_eq!(p2_versions(&s, &token, "acme/core"), ["1.1.0"]);

        // Forged, stale or unsigned events change nothing.
        let body = stripe_event("invoice.payment_failed", "cus_paying").to_string();
        let forged =
            cargoman::billing::stripe::sign("wrong", body.as_bytes(), cargoman::clock::now());
        let stale =
            cargoman::billing::stripe::sign(SECRET, body.as_bytes(), cargoman::clock::now() - 3600);
        for header in [forged, stale, String::new()] {
            let r = s.curl(&[
                "-X",
                "POST",
                "-H",
                &format!("Stripe-Signature: {header}"),
                "--data-binary",
                &body,
                "/api/webhooks/stripe",
            ]);
            assert_eq!(r.status, 400, "{header}: {}", r.text());
        }
        assert_eq!(status_of(&s, &id), "frozen");

        // Unknown customers and uninteresting events are acknowledged, not retried forever.
        let other = stripe(
            &s,
            SECRET,
            &stripe_event("invoice.payment_failed", "cus_unknown"),
        );
        assert_eq!(other.status, 200);
        assert_eq!(other.json()["outcome"]["action"], "ignored");
        let other = stripe(&s, SECRET, &stripe_event("charge.refunded", "cus_paying"));
        assert_eq!(other.json()["outcome"]["action"], "ignored");

        // Each change is in the audit log under the actor "stripe".
        let audit = api(&s, "GET", "/api/v1/audit?actor=stripe", None).json();
        let actions: Vec<&str> = audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "stripe.customer.subscription.deleted",
                "stripe.invoice.paid",
                "stripe.invoice.payment_failed"
            ],
            "{audit}"
        );
    }
}

#[test]
fn stripe_events_count_once_and_late_ones_change_nothing() {
    const SECRET: &str = "whsec_test_secret";
    for backend in backends() {
        let s = TestServer::start_with(backend, &[("STRIPE_WEBHOOK_SECRET", SECRET)]);
        let (id, _) = customer(&s, "Late", Some("cus_late"));
        let now = cargoman::clock::now();
        let send = |event: &Value| {
            let reply = stripe(&s, SECRET, event);
            assert_eq!(reply.status, 200, "{backend:?}: {}", reply.text());
            reply.json()["outcome"].clone()
        };
        let failed = stripe_event_at(
            "evt_failed_1",
            "invoice.payment_failed",
            "cus_late",
            now - 120,
        );
        let paid = stripe_event_at("evt_paid_1", "invoice.paid", "cus_late", now - 60);
        assert_eq!(send(&failed)["action"], "suspended");
        assert_eq!(send(&paid)["action"], "reactivated");
        assert_eq!(status_of(&s, &id), "active");

        // Stripe retries the failure after the payment: acknowledged, nothing changes.
        let replayed = send(&failed);
        assert_eq!(replayed["action"], "ignored", "{replayed}");
        assert!(
            replayed["reason"]
                .as_str()
                .unwrap()
                .contains("applied already"),
            "{replayed}"
        );
        assert_eq!(status_of(&s, &id), "active", "{backend:?}");
        // Another failure created before the payment but delivered after it is stale.
        let older = stripe_event_at(
            "evt_failed_0",
            "invoice.payment_failed",
            "cus_late",
            now - 90,
        );
        let stale = send(&older);
        assert_eq!(stale["action"], "ignored", "{stale}");
        assert!(
            stale["reason"]
                .as_str()
                .unwrap()
                .contains("before the last event"),
            "{stale}"
        );
        assert_eq!(status_of(&s, &id), "active");
        // A replayed payment is no change either; a newer failure still suspends.
        assert_eq!(send(&paid)["action"], "ignored");
        let newer = stripe_event_at("evt_failed_2", "invoice.payment_failed", "cus_late", now);
        assert_eq!(send(&newer)["action"], "suspended");
        assert_eq!(status_of(&s, &id), "suspended");

        let audit = api(&s, "GET", "/api/v1/audit?actor=stripe", None).json();
        let events: Vec<&str> = audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["details"]["event"].as_str().unwrap())
            .collect();
        assert_eq!(
            events,
            ["evt_failed_2", "evt_paid_1", "evt_failed_1"],
            "{audit}"
        );
    }
}

#[test]
fn stripe_webhooks_are_refused_without_a_secret() {
    let s = TestServer::start(common::Backend::SqliteFs);
    let r = stripe(&s, "anything", &stripe_event("invoice.paid", "cus_x"));
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("STRIPE_WEBHOOK_SECRET"), "{}", r.text());
}

#[test]
fn collections_are_granted_as_a_unit() {
    for backend in backends() {
        let s = TestServer::start(backend);
        add_core(&s);
        let made = api(
            &s,
            "POST",
            "/api/v1/collections",
            Some(
                &json!({"name": "Enterprise Suite", "slug": "enterprise", "packages": ["acme/core"]}),
            ),
        );
        assert_eq!(made.status, 201, "{}", made.text());
        assert_eq!(made.json()["data"]["packages"], json!(["acme/core"]));
        let (id, token) = customer(&s, "Big", None);
        let granted = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/packages"),
            Some(&json!({"collection": "enterprise", "constraint": "^1.0"})),
        );
        assert_eq!(granted.status, 201, "{}", granted.text());
        assert_eq!(p2_versions(&s, &token, "acme/core"), ["1.1.0", "1.0.0"]);

        let holders = api(&s, "GET", "/api/v1/packages/acme/core/customers", None).json();
        assert_eq!(holders["data"][0]["id"], id.as_str(), "{holders}");
        assert_eq!(holders["data"][0]["via_collection"], "enterprise");
        assert_eq!(holders["data"][0]["constraint"], "^1.0");

        // Membership changes reach every holder at once.
        let patched = api(
            &s,
            "PATCH",
            "/api/v1/collections/enterprise",
            Some(&json!({"packages": []})),
        );
        assert_eq!(patched.status, 200, "{}", patched.text());
        assert_eq!(p2_versions(&s, &token, "acme/core"), Vec::<String>::new());
        api(
            &s,
            "PATCH",
            "/api/v1/collections/enterprise",
            Some(&json!({"packages": ["acme/core"]})),
        );
        assert_eq!(p2_versions(&s, &token, "acme/core").len(), 2);
        assert_eq!(
            api(&s, "DELETE", "/api/v1/collections/enterprise", None).status,
            204
        );
        assert_eq!(p2_versions(&s, &token, "acme/core"), Vec::<String>::new());
        assert_eq!(
            api(&s, "GET", "/api/v1/collections/enterprise", None).status,
            404
        );

        // PUT replaces every grant at once and checks all before writing any.
        let bad = api(
            &s,
            "PUT",
            &format!("/api/v1/customers/{id}/packages"),
            Some(&json!({"packages": [{"package": "acme/core"}, {"package": "acme/missing"}]})),
        );
        assert_eq!(bad.status, 404, "{}", bad.text());
        assert_eq!(p2_versions(&s, &token, "acme/core"), Vec::<String>::new());
        let put = api(
            &s,
            "PUT",
            &format!("/api/v1/customers/{id}/packages"),
            Some(&json!({"packages": [{"package": "acme/core", "constraint": ">=1.1 <3.0"}]})),
        );
        assert_eq!(put.status, 200, "{}", put.text());
        assert_eq!(p2_versions(&s, &token, "acme/core"), ["2.0.0", "1.1.0"]);
    }
}

#[test]
fn customer_api_rejects_bad_input_clearly() {
    for backend in backends() {
        let s = TestServer::start(backend);
        add_core(&s);
        let (id, token) = customer(&s, "Acme", Some("ext-1"));
        let cases: Vec<(&str, String, Value, u16, &str)> = vec![
            (
                "POST",
                "/api/v1/customers".into(),
                json!({"name": ""}),
                400,
                "name",
            ),
            (
                "POST",
                "/api/v1/customers".into(),
                json!({"name": "x", "email": "nope"}),
                400,
                "e-mail",
            ),
            (
                "POST",
                "/api/v1/customers".into(),
                json!({"name": "x", "external_id": "ext-1"}),
                409,
                "ext-1",
            ),
            (
                "POST",
                "/api/v1/customers".into(),
                json!({"name": "x", "color": "red"}),
                400,
                "color",
            ),
            (
                "PATCH",
                format!("/api/v1/customers/{id}"),
                json!({"colour": 1}),
                400,
                "colour",
            ),
            (
                "GET",
                "/api/v1/customers/cust_missing".into(),
                Value::Null,
                404,
                "cust_missing",
            ),
            (
                "GET",
                "/api/v1/customers?status=happy".into(),
                Value::Null,
                400,
                "happy",
            ),
            (
                "POST",
                format!("/api/v1/customers/{id}/packages"),
                json!({"package": "acme/core", "constraint": "^^1"}),
                400,
                "^^1",
            ),
            (
                "POST",
                format!("/api/v1/customers/{id}/packages"),
                json!({"package": "acme/nope"}),
                404,
                "acme/nope",
            ),
            (
                "POST",
                format!("/api/v1/customers/{id}/packages"),
                json!({"package": "../etc"}),
                400,
                "invalid",
            ),
            (
                "POST",
                format!("/api/v1/customers/{id}/packages"),
                json!({"package": "acme/core", "collection": "x"}),
                400,
                "exactly one",
            ),
            (
                "POST",
                format!("/api/v1/customers/{id}/jwt"),
                Value::Null,
                400,
                "JWT_SECRET",
            ),
            (
                "POST",
                "/api/v1/collections".into(),
                json!({"name": "x", "slug": "Bad Slug"}),
                400,
                "slug",
            ),
            (
                "DELETE",
                format!("/api/v1/customers/{id}/packages/acme/core"),
                Value::Null,
                404,
                "no grant",
            ),
        ];
        for (method, path, body, status, needle) in cases {
            let body = (!body.is_null()).then_some(&body);
            let r = api(&s, method, &path, body);
            assert_eq!(
                r.status,
                status,
                "{backend:?} {method} {path}: {}",
                r.text()
            );
            let error = r.json()["error"].clone();
            assert!(
                error["message"].as_str().unwrap_or("").contains(needle),
                "{method} {path}: {error}"
            );
        }

        let by_ext = api(&s, "GET", "/api/v1/customers/by-external/ext-1", None).json();
        assert_eq!(by_ext["data"]["id"], id.as_str());
        api(&s, "POST", &format!("/api/v1/customers/{id}/suspend"), None);
        let listed = api(
            &s,
            "GET",
            "/api/v1/customers?status=suspended&per_page=5",
            None,
        )
        .json();
        assert_eq!(listed["pagination"]["total"], 1, "{listed}");
        assert_eq!(listed["data"][0]["id"], id.as_str());

        // Deleting a customer kills its tokens at once.
        assert_eq!(
            api(&s, "DELETE", &format!("/api/v1/customers/{id}"), None).status,
            204
        );
        assert_eq!(get_as(&s, &token, "/packages.json").status, 401);
        assert_eq!(
            api(&s, "GET", &format!("/api/v1/customers/{id}"), None).status,
            404
        );
    }
}

#[test]
fn jwts_work_as_composer_credentials() {
    for backend in backends() {
        let s = TestServer::start_with(backend, &[("JWT_SECRET", "a-long-test-secret")]);
        add_core(&s);
        let (id, _) = customer(&s, "Jwt", None);
        grant(&s, &id, "acme/core", "~1.0.0");
        let issued = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/jwt"),
            Some(&json!({"scope": "download", "expires_in": 600})),
        );
        assert_eq!(issued.status, 201, "{}", issued.text());
        let jwt = issued.json()["data"]["token"].as_str().unwrap().to_string();
        assert_eq!(p2_versions(&s, &jwt, "acme/core"), ["1.0.0"]);
        let dir = configured_project(&s, "jwt", &jwt);
        ok(&composer(&dir, &["require", "acme/core:~1.0.0"]));
        // It follows the customer's state like any token, and a tampered one is refused.
        api(&s, "POST", &format!("/api/v1/customers/{id}/suspend"), None);
        assert_eq!(get_as(&s, &jwt, "/packages.json").status, 403);
        let tampered = format!("{}x", &jwt[..jwt.len() - 1]);
        assert_eq!(get_as(&s, &tampered, "/packages.json").status, 401);
    }
}

#[test]
fn token_rows_are_read_on_every_request_when_the_cache_is_off() {
    let s = TestServer::start_with(common::Backend::SqliteFs, &[("AUTH_CACHE_TTL_MS", "0")]);
    let (id, token) = customer(&s, "Strict", None);
    assert_eq!(get_as(&s, &token, "/packages.json").status, 200);
    let out = s.cli(&["customer", "suspend", &id]);
    assert!(out.status.success());
    assert_eq!(get_as(&s, &token, "/packages.json").status, 403);
}

#[test]
fn cli_manages_customers_and_tokens() {
    let s = TestServer::start(common::Backend::SqliteFs);
    add_core(&s);
    let run = |args: &[&str]| {
        let out = s.cli(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let created: Value = serde_json::from_str(&run(&[
        "--json",
        "customer",
        "create",
        "--name",
        "Cli Corp",
        "--external-id",
        "cli-1",
    ]))
    .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    grant(&s, &id, "acme/core", "*");
    assert!(run(&["customer", "list"]).contains(&id));
    let token: Value = serde_json::from_str(&run(&[
        "--json",
        "token",
        "create",
        "--customer",
        &id,
        "--scope",
        "download",
        "--packages",
        "acme/*",
        "--expires-in-days",
        "30",
    ]))
    .unwrap();
    let plain = token["plain_token"].as_str().unwrap().to_string();
    let token_id = token["id"].as_i64().unwrap().to_string();
    assert_eq!(p2_versions(&s, &plain, "acme/core").len(), 3);
    assert!(run(&["token", "list", &id]).contains("download"));

    // The CLI is another process: the server sees its changes once its cached token rows are
    // older than AUTH_CACHE_TTL_MS (1 s by default), never later.
    let settles_to = |token: &str, status: u16| {
        let started = std::time::Instant::now();
        while get_as(&s, token, "/packages.json").status != status {
            assert!(
                started.elapsed() < std::time::Duration::from_millis(1500),
                "not {status} after 1.5 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    run(&["customer", "suspend", &id, "--reason", "cli test"]);
    settles_to(&plain, 403);
    run(&["customer", "reactivate", &id]);
    settles_to(&plain, 200);

    let rotated: Value =
        serde_json::from_str(&run(&["--json", "token", "rotate", &token_id])).unwrap();
    settles_to(&plain, 401);
    let new_plain = rotated["plain_token"].as_str().unwrap().to_string();
    assert_eq!(get_as(&s, &new_plain, "/packages.json").status, 200);
    run(&["token", "revoke", &token_id]);
    settles_to(&new_plain, 401);

    let refused = s.cli(&["customer", "delete", &id]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    run(&["customer", "delete", &id, "--force"]);
    assert_eq!(s.cli(&["customer", "show", &id]).status.code(), Some(1));
}

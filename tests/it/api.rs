//! Management API: owners, listings, envelope, pagination, limits; graceful stop.

use crate::common;

use crate::common::{ADMIN, TestServer, backends};

fn json_post(s: &TestServer, path: &str, body: &str) -> common::Reply {
    s.curl(&[
        "-H",
        &format!("Authorization: Bearer {ADMIN}"),
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        body,
        path,
    ])
}

#[test]
fn owners_crud_and_pagination() {
    for backend in backends() {
        let s = TestServer::start(backend);
        for name in ["zeta", "alpha", "Mid"] {
            let r = json_post(&s, "/api/v1/owners", &format!(r#"{{"name":"{name}"}}"#));
            assert_eq!(r.status, 201, "{}", r.text());
            assert_eq!(r.json()["data"]["name"], name);
        }
        let dup = json_post(&s, "/api/v1/owners", r#"{"name":"ALPHA"}"#);
        assert_eq!(dup.status, 409);
        assert_eq!(dup.json()["error"]["code"], "CONFLICT");
        let bad = json_post(&s, "/api/v1/owners", r#"{"name":"../etc"}"#);
        assert_eq!(bad.status, 400);
        assert_eq!(bad.json()["error"]["code"], "VALIDATION_ERROR");

        let page1 = s.admin(&["/api/v1/owners?per_page=2"]).json();
        assert_eq!(page1["pagination"]["total"], 3);
        assert_eq!(page1["pagination"]["total_pages"], 2);
        let names: Vec<&str> = page1["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["alpha", "Mid"]);
        let page2 = s.admin(&["/api/v1/owners?per_page=2&page=2"]).json();
        assert_eq!(page2["data"][0]["name"], "zeta");
        assert_eq!(
            s.admin(&["/api/v1/owners?page=x"]).json()["error"]["code"],
            "VALIDATION_ERROR"
        );

        // An owner holding packages cannot be deleted; an empty one can.
        let f = s.make_file("f", 10, 1);
        let put = s.admin(&[
            "--upload-file",
            f.to_str().unwrap(),
            "/api/packages/mid/generic/p/1/f",
        ]);
        assert_eq!(put.status, 201);
        assert_eq!(s.admin(&["-X", "DELETE", "/api/v1/owners/Mid"]).status, 409);
        assert_eq!(
            s.admin(&["-X", "DELETE", "/api/v1/owners/zeta"]).status,
            204
        );
        let gone = s.admin(&["/api/v1/owners/zeta"]);
        assert_eq!(gone.status, 404);
        assert_eq!(gone.json()["error"]["code"], "NOT_FOUND");

        let packages = s
            .admin(&["/api/v1/owners/mid/packages?format=generic"])
            .json();
        assert_eq!(packages["data"][0]["name"], "p");
        assert_eq!(packages["data"][0]["format"], "generic");
        let none = s.admin(&["/api/v1/owners/mid/packages?format=npm"]).json();
        assert_eq!(none["pagination"]["total"], 0);

        let unknown = s.admin(&["/api/v1/no/such/route"]);
        assert_eq!(unknown.status, 404);
        assert_eq!(unknown.json()["error"]["code"], "NOT_FOUND");
    }
}

#[test]
fn checksums_are_computed_on_first_request_and_kept() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let f = s.make_file("abc", 0, 0);
        std::fs::write(&f, b"abc").unwrap();
        let put = s.admin(&[
            "--upload-file",
            f.to_str().unwrap(),
            "/api/packages/o/generic/p/1/abc",
        ]);
        assert_eq!(put.status, 201);
        let path = "/api/v1/owners/o/packages/generic/p/versions/1/files";
        let plain = s.admin(&[path]).json();
        assert!(plain["data"]["files"][0]["blob"].get("md5").is_none());
        let all = s.admin(&[&format!("{path}?checksums=all")]).json();
        let blob = &all["data"]["files"][0]["blob"];
        assert_eq!(
            blob["md5"], "900150983cd24fb0d6963f7d28e17f72",
            "{backend:?}"
        );
        assert_eq!(blob["sha1"], "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert!(
            blob["sha512"]
                .as_str()
                .unwrap()
                .starts_with("ddaf35a193617aba")
        );
        let kept = s.admin(&[path]).json();
        assert_eq!(
            kept["data"]["files"][0]["blob"]["md5"],
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(s.admin(&[&format!("{path}?checksums=some")]).status, 400);
    }
}

#[test]
fn oversized_json_bodies_are_refused() {
    for backend in backends() {
        oversized_json_on(backend);
    }
}

fn oversized_json_on(backend: common::Backend) {
    let s = TestServer::start(backend);
    let huge = format!(r#"{{"name":"{}"}}"#, "a".repeat(2 * 1024 * 1024));
    let path = s.dir.path().join("huge.json");
    std::fs::write(&path, huge).unwrap();
    let r = s.curl(&[
        "-H",
        &format!("Authorization: Bearer {ADMIN}"),
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &format!("@{}", path.display()),
        "/api/v1/owners",
    ]);
    assert_eq!(r.status, 413, "{}", r.text());
}

#[test]
fn graceful_stop_lets_an_upload_in_flight_finish() {
    for backend in backends() {
        graceful_stop_on(backend);
    }
}

fn graceful_stop_on(backend: common::Backend) {
    use std::io::{Read, Write};
    let mut s = TestServer::start(backend);
    let addr = s.base.trim_start_matches("http://").to_string();
    let path = "/api/packages/acme/generic/slow/1/f.bin";
    let body = common::pseudo_random(4 << 20, 3);
    let expected = body.clone();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    conn.write_all(&body[..1 << 20]).unwrap();
    let uploader = std::thread::spawn(move || {
        // Keep sending while the server is asked to stop.
        std::thread::sleep(std::time::Duration::from_millis(500));
        conn.write_all(&body[1 << 20..]).unwrap();
        let mut reply = String::new();
        conn.read_to_string(&mut reply).unwrap();
        reply
    });
    std::thread::sleep(std::time::Duration::from_millis(100));
    s.restart();
    let reply = uploader.join().unwrap();
    assert!(reply.starts_with("HTTP/1.1 201"), "{backend:?}: {reply}");
    let get = s.admin(&[path]);
    assert_eq!(get.status, 200);
    assert_eq!(get.body, expected);
}

#[test]
fn tasks_can_be_queued_and_followed() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let cleanup = json_post(&s, "/api/v1/tasks/cleanup", "");
        assert_eq!(cleanup.status, 202, "{}", cleanup.text());
        let done = common::wait_for_task(&s, &cleanup.json()["data"]);
        assert_eq!(done["kind"], "cleanup");
        assert!(done["result"]["blob_rows_removed"].is_number(), "{done}");
        let queued = json_post(&s, "/api/v1/tasks", r#"{"kind":"cleanup"}"#);
        assert_eq!(queued.status, 202, "{}", queued.text());
        common::wait_for_task(&s, &queued.json()["data"]);
        let bad = json_post(&s, "/api/v1/tasks", r#"{"kind":"mine-bitcoin"}"#);
        assert_eq!(bad.status, 400);
        assert!(bad.text().contains("composer.sync"), "{}", bad.text());
        let listed = s.admin(&["/api/v1/tasks"]).json();
        assert_eq!(listed["pagination"]["total"], 2);
        assert_eq!(
            s.admin(&["/api/v1/tasks/failed"]).json()["pagination"]["total"],
            0
        );
        assert_eq!(
            s.admin(&["/api/v1/tasks/pending"]).json()["pagination"]["total"],
            0
        );
        assert_eq!(s.admin(&["/api/v1/tasks/424242"]).status, 404);
        assert_eq!(s.curl(&["/api/v1/tasks"]).status, 401);
    }
}

#[test]
fn unknown_routes_answer_in_the_error_style_around_them() {
    for backend in backends() {
        let s = TestServer::start(backend);
        // Management API: the envelope.
        let api = s.curl(&["/api/v1/no/such/route"]);
        assert_eq!(api.status, 404);
        assert_eq!(api.json()["data"], serde_json::Value::Null);
        assert_eq!(api.json()["error"]["code"], "NOT_FOUND");

        // Nitro's prefixes: Nitro's `{"error", "message", "details"}`, at any depth.
        for (path, details) in [
            ("/repositories/main", serde_json::json!({})),
            (
                "/repositories/main/php/no/such/file",
                serde_json::json!({"storage": "main", "repository": "php"}),
            ),
            (
                "/api/repository/php/nothing",
                serde_json::json!({"repository": "php"}),
            ),
        ] {
            let nitro = s.curl(&["-X", "POST", path]);
            assert_eq!(nitro.status, 404, "{path}");
            let body = nitro.json();
            assert_eq!(body["error"], "Not Found", "{path}: {body}");
            assert_eq!(body["message"], "no such route in Nitro's repositories");
            assert_eq!(body["details"], details, "{path}");
        }

        // Anywhere else: a short plain-text message, not an empty body.
        for path in ["/no/such/route", "/api/packages/acme", "/p2"] {
            let plain = s.curl(&[path]);
            assert_eq!(plain.status, 404, "{path}");
            assert_eq!(plain.text(), "no such route\n", "{path}");
            assert!(
                plain
                    .header("content-type")
                    .is_some_and(|t| t.starts_with("text/plain")),
                "{path}: {plain:?}"
            );
        }
    }
}

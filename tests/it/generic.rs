//! Generic registry (seeds 001/002) with curl as the client, on every backend.

use crate::common;

use crate::common::{Backend, TestServer, backends};

const F: &str = "/api/packages/acme/generic/tool/1.0.0/f.bin";

#[test]
fn publish_download_range_delete_and_restart() {
    for backend in backends() {
        let mut s = TestServer::start(backend);
        let file = s.make_file("f.bin", 3 * 1024 * 1024 + 17, 1);
        let file_arg = file.to_str().unwrap();
        let bytes = std::fs::read(&file).unwrap();

        let put = s.admin(&["--upload-file", file_arg, F]);
        assert_eq!(put.status, 201, "{backend:?}: {}", put.text());
        let again = s.admin(&["--upload-file", file_arg, F]);
        assert_eq!(again.status, 409, "{backend:?}");
        assert!(again.text().contains("already exists"));

        let get = s.admin(&[F]);
        assert_eq!(get.status, 200);
        assert_eq!(get.body, bytes, "{backend:?}: same bytes back");
        assert_eq!(get.header("content-type"), Some("application/octet-stream"));
        assert_eq!(
            get.header("content-length"),
            Some(bytes.len().to_string().as_str())
        );
        let etag = get.header("etag").unwrap().to_string();
        let modified = get.header("last-modified").unwrap().to_string();

        let range = s.admin(&["-r", "100-199", F]);
        assert_eq!(range.status, 206);
        assert_eq!(range.body, &bytes[100..200]);
        assert_eq!(
            range.header("content-range"),
            Some(format!("bytes 100-199/{}", bytes.len()).as_str())
        );
        let tail = s.admin(&["-r", "-10", F]);
        assert_eq!(tail.status, 206);
        assert_eq!(tail.body, &bytes[bytes.len() - 10..]);
        let beyond = s.admin(&["-r", &format!("{}-", bytes.len()), F]);
        assert_eq!(beyond.status, 416);
        assert_eq!(
            beyond.header("content-range"),
            Some(format!("bytes */{}", bytes.len()).as_str())
        );

        let inm = format!("If-None-Match: {etag}");
        assert_eq!(s.admin(&["-H", &inm, F]).status, 304);
        let ims = format!("If-Modified-Since: {modified}");
        assert_eq!(s.admin(&["-H", &ims, F]).status, 304);
        let stale = "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT";
        assert_eq!(s.admin(&["-H", stale, F]).status, 200);
        let if_range = s.admin(&["-H", "If-Range: \"other\"", "-r", "0-9", F]);
        assert_eq!(if_range.status, 200, "stale If-Range gets the whole file");

        let head = s.admin(&["-I", F]);
        assert_eq!(head.status, 200);
        // curl -I prints the headers where the body would go: no content was sent.
        assert!(head.body.len() < 1024, "HEAD sent a body");
        assert_eq!(
            head.header("content-length"),
            Some(bytes.len().to_string().as_str())
        );

        s.restart();
        let after = s.admin(&[F]);
        assert_eq!(after.status, 200, "{backend:?}: data survives a restart");
        assert_eq!(after.body, bytes);

        assert_eq!(s.admin(&["-X", "DELETE", F]).status, 204);
        assert_eq!(s.admin(&[F]).status, 404);
        assert_eq!(s.admin(&["-X", "DELETE", F]).status, 404);
        let fsck = s.cli(&["fsck", "--verify"]);
        assert!(
            fsck.status.success(),
            "{backend:?}: nothing left behind: {}",
            String::from_utf8_lossy(&fsck.stdout)
        );
    }
}

#[test]
fn versions_files_and_shared_content() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let a = s.make_file("a.bin", 4096, 2);
        let a_arg = a.to_str().unwrap();
        let base = "/api/packages/acme/generic/tool";
        for path in ["/1.0/a.bin", "/1.0/copy.bin", "/2.0/a.bin"] {
            let put = s.admin(&["--upload-file", a_arg, &format!("{base}{path}")]);
            assert_eq!(put.status, 201, "{backend:?} {path}: {}", put.text());
        }
        // Identical content is stored once.
        let fsck = s.cli(&["--json", "fsck"]);
        let report: serde_json::Value = serde_json::from_slice(&fsck.stdout).unwrap();
        assert_eq!(report["blobs_checked"], 1, "{backend:?}");

        // Deleting one user of a blob keeps it for the others.
        assert_eq!(
            s.admin(&["-X", "DELETE", &format!("{base}/1.0/a.bin")])
                .status,
            204
        );
        assert_eq!(s.admin(&[&format!("{base}/1.0/copy.bin")]).status, 200);

        // Deleting the last file removes the version.
        assert_eq!(
            s.admin(&["-X", "DELETE", &format!("{base}/1.0/copy.bin")])
                .status,
            204
        );
        let versions = s.admin(&["/api/v1/owners/acme/packages/generic/tool/versions"]);
        let list = versions.json();
        let names: Vec<&str> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["2.0"], "{backend:?}");

        // Deleting a version deletes its files; then the package is gone too.
        assert_eq!(
            s.admin(&["-X", "DELETE", &format!("{base}/2.0")]).status,
            204
        );
        assert_eq!(
            s.admin(&["-X", "DELETE", &format!("{base}/2.0")]).status,
            404
        );
        assert_eq!(s.admin(&[&format!("{base}/2.0/a.bin")]).status, 404);
        let pkgs = s.admin(&["/api/v1/owners/acme/packages"]).json();
        assert_eq!(pkgs["pagination"]["total"], 0);
        let fsck = s.cli(&["fsck", "--verify"]);
        assert!(fsck.status.success(), "{backend:?}: no orphan blob");
    }
}

#[test]
fn uploader_and_digest_are_recorded() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let f = s.make_file("x.tar.gz", 1000, 3);
        let bytes = std::fs::read(&f).unwrap();
        let path = "/api/packages/team/generic/pkg/1.0.0-rc.1+build/x.tar.gz";
        assert_eq!(
            s.admin(&["--upload-file", f.to_str().unwrap(), path])
                .status,
            201
        );
        let files = s
            .admin(&["/api/v1/owners/team/packages/generic/pkg/versions/1.0.0-rc.1+build/files"])
            .json();
        let file = &files["data"]["files"][0];
        assert_eq!(file["name"], "x.tar.gz");
        assert_eq!(file["blob"]["size"], 1000);
        assert_eq!(file["properties"]["uploaded_by"], "root");
        let sha = file["blob"]["sha256"].as_str().unwrap();
        assert_eq!(sha.len(), 64);
        let get = s.admin(&[path]);
        assert_eq!(get.header("x-checksum-sha256"), Some(sha));
        assert_eq!(get.body, bytes);
    }
}

#[test]
fn announced_checksum_must_match() {
    for backend in backends() {
        announced_checksum_on(backend);
    }
}

fn announced_checksum_on(backend: Backend) {
    let s = TestServer::start(backend);
    let f = s.make_file("c.bin", 100, 4);
    let arg = f.to_str().unwrap();
    let wrong = format!("X-Checksum-Sha256: {}", "0".repeat(64));
    let r = s.admin(&["-H", &wrong, "--upload-file", arg, F]);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("SHA-256"), "{}", r.text());
    assert_eq!(s.admin(&[F]).status, 404, "nothing stored");
    let malformed = s.admin(&["-H", "X-Checksum-Sha256: xyz", "--upload-file", arg, F]);
    assert_eq!(malformed.status, 400);
    let sha = sha256_hex(&std::fs::read(&f).unwrap());
    let right = format!("X-Checksum-Sha256: {sha}");
    assert_eq!(
        s.admin(&["-H", &right, "--upload-file", arg, F]).status,
        201
    );
    let gc = s.cli(&["gc", "--grace-seconds", "0"]);
    assert!(gc.status.success());
    let fsck = s.cli(&["fsck"]);
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stdout)
    );
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data))
}

#[test]
fn bad_names_versions_and_files_are_400() {
    for backend in backends() {
        bad_names_on(backend);
    }
}

fn bad_names_on(backend: Backend) {
    let s = TestServer::start(backend);
    let f = s.make_file("ok.bin", 10, 5);
    let arg = f.to_str().unwrap();
    // Every character class outside [A-Za-z0-9.+_-], percent-encoded so curl sends it as is.
    let bad_chars = [
        "%20", "%21", "%22", "%23", "%24", "%25", "%26", "%27", "%28", "%2A", "%2C", "%2F", "%3A",
        "%3B", "%3C", "%3D", "%3E", "%3F", "%40", "%5B", "%5C", "%5D", "%5E", "%60", "%7B", "%7C",
        "%7D", "%7E", "%00", "%0A", "%7F", "%C3%A4",
    ];
    for c in bad_chars {
        let name = format!("/api/packages/acme/generic/a{c}b/1.0/ok.bin");
        assert_eq!(
            s.admin(&["--upload-file", arg, &name]).status,
            400,
            "name with {c}"
        );
        let file = format!("/api/packages/acme/generic/pkg/1.0/a{c}b");
        assert_eq!(
            s.admin(&["--upload-file", arg, &file]).status,
            400,
            "file with {c}"
        );
    }
    for version in ["%20", "%201.0", "1.0%20", "%091.0", "1.0%0A", "..", "1%2F0"] {
        let path = format!("/api/packages/acme/generic/pkg/{version}/ok.bin");
        assert_eq!(
            s.admin(&["--path-as-is", "--upload-file", arg, &path])
                .status,
            400,
            "version {version:?}"
        );
    }
    // Dot segments, sent raw: curl would resolve them before sending.
    for path in [
        "/api/packages/acme/generic/../1.0/ok.bin",
        "/api/packages/acme/generic/pkg/1.0/..",
        "/api/packages/acme/generic/pkg/1.0/.",
        "/api/packages/acme/generic/%2E%2E/1.0/ok.bin",
        "/api/packages/acme/generic/pkg/1.0/%2E%2E",
        "/api/packages/acme/generic/pkg/1.0/..%2F..%2Fetc",
        "/api/packages/.acme/generic/pkg/1.0/ok.bin",
        "/api/packages/../generic/pkg/1.0/ok.bin",
    ] {
        let status = common::raw_put(&s, path, b"0123456789");
        assert_eq!(status, 400, "{path}");
    }
    // Empty parts do not match the route.
    for path in [
        "/api/packages/acme/generic//1.0/ok.bin",
        "/api/packages/acme/generic/pkg//ok.bin",
        "/api/packages/acme/generic/pkg/1.0/",
    ] {
        let status = common::raw_put(&s, path, b"0123456789");
        assert!(matches!(status, 400 | 404 | 405), "{path}: {status}");
    }
    // Nothing of the above was stored.
    let owners = s.admin(&["/api/v1/owners"]).json();
    assert_eq!(owners["pagination"]["total"], 0, "{owners}");
    // Reads of invalid names are simply not found.
    assert_eq!(
        s.admin(&["/api/packages/acme/generic/a%20b/1.0/ok.bin"])
            .status,
        404
    );
}

#[test]
fn body_over_the_limit_is_413_and_leaves_nothing() {
    for backend in backends() {
        let s = TestServer::start_with(backend, &[("MAX_UPLOAD_SIZE", "1000")]);
        let big = s.make_file("big.bin", 5000, 6);
        let arg = big.to_str().unwrap();
        let r = s.admin(&["--upload-file", arg, F]);
        assert_eq!(r.status, 413, "{backend:?}");
        // Chunked (no Content-Length): refused while streaming.
        let chunked = s.admin(&["-H", "Transfer-Encoding: chunked", "--upload-file", arg, F]);
        assert_eq!(chunked.status, 413, "{backend:?}: {}", chunked.text());
        assert_eq!(s.admin(&[F]).status, 404);
        let small = s.make_file("small.bin", 1000, 7);
        assert_eq!(
            s.admin(&["--upload-file", small.to_str().unwrap(), F])
                .status,
            201
        );
        let fsck = s.cli(&["fsck"]);
        assert!(
            fsck.status.success(),
            "{backend:?}: {}",
            String::from_utf8_lossy(&fsck.stdout)
        );
    }
}

#[test]
fn client_disconnecting_mid_upload_leaves_nothing() {
    use std::io::Write;
    for backend in backends() {
        let s = TestServer::start(backend);
        let addr = s.base.trim_start_matches("http://").to_string();
        let mut conn = std::net::TcpStream::connect(&addr).unwrap();
        let auth = format!("Authorization: Bearer {}\r\n", common::ADMIN);
        write!(
            conn,
            "PUT {F} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 20000000\r\n\r\n"
        )
        .unwrap();
        let chunk = common::pseudo_random(1 << 20, 8);
        for _ in 0..8 {
            conn.write_all(&chunk).unwrap();
        }
        drop(conn);
        // The server notices, aborts, and nothing becomes visible.
        let mut clean = false;
        for _ in 0..100 {
            std::thread::sleep(std::time::Duration::from_millis(100));
            assert_eq!(s.admin(&[F]).status, 404);
            let gc = s.cli(&["gc", "--grace-seconds", "0"]);
            assert!(gc.status.success());
            let fsck = s.cli(&["--json", "fsck"]);
            let report: serde_json::Value = serde_json::from_slice(&fsck.stdout).unwrap();
            if fsck.status.success() && report["blobs_checked"] == 0 {
                clean = true;
                break;
            }
        }
        assert!(
            clean,
            "{backend:?}: an interrupted upload left something behind"
        );
        assert_eq!(s.admin(&[F]).status, 404);
    }
}

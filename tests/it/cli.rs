//! The `cargoman` binary: generated admin token, graceful stop, exit codes, missing databases,
//! `gc` and `fsck`, package listings, team tokens and resetting the root token.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Backend, TestServer, backends};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn cargoman(dir: &std::path::Path, env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargoman"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server did not start on {port}");
}

/// Starts `cargoman serve`; returns the child and everything it printed on stdout so far
/// (read until the listener is up).
fn serve(dir: &std::path::Path, port: u16) -> (std::process::Child, String) {
    let mut child = cargoman(
        dir,
        &[("HOST", "127.0.0.1".into()), ("RUST_LOG", "warn".into())],
    )
    .args(["serve", "--port", &port.to_string()])
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    wait_healthy(port);
    std::thread::sleep(Duration::from_millis(200));
    let printed: Vec<String> = rx.try_iter().collect();
    (child, printed.join("\n"))
}

fn stop(mut child: std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful stop exits 0, got {exit:?}");
}

#[test]
fn first_start_generates_an_admin_token_shown_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.bin"), b"payload").unwrap();
    let port = free_port();
    let (child, printed) = serve(dir.path(), port);
    let token = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("ADMIN_TOKEN="))
        .unwrap_or_else(|| panic!("no token printed: {printed}"))
        .to_string();
    let url = format!("http://127.0.0.1:{port}/api/packages/acme/generic/p/1/f.bin");
    let put = common::curl(
        &["--user", &format!("x:{token}"), "--upload-file", "f.bin"],
        &url,
    );
    // curl runs in the test's cwd; use an absolute path instead.
    let put = if put.status == 201 {
        put
    } else {
        let file = dir.path().join("f.bin");
        common::curl(
            &[
                "--user",
                &format!("x:{token}"),
                "--upload-file",
                file.to_str().unwrap(),
            ],
            &url,
        )
    };
    assert_eq!(put.status, 201, "{}", put.text());
    // The default embedded setup lives under ./data.
    assert!(dir.path().join("data/cargoman.db").exists());
    assert!(dir.path().join("data/packages/blobs").is_dir());
    stop(child);

    let (child, printed) = serve(dir.path(), port);
    assert!(
        !printed.contains("ADMIN_TOKEN="),
        "printed twice: {printed}"
    );
    let get = common::curl(&["--user", &format!("x:{token}")], &url);
    assert_eq!(get.status, 200);
    assert_eq!(get.body, b"payload");
    assert_eq!(common::curl(&["--user", "x:wrong"], &url).status, 401);
    stop(child);
}

#[test]
fn exit_codes_name_configuration_and_database_problems() {
    let dir = tempfile::tempdir().unwrap();
    let bad_storage = cargoman(dir.path(), &[("STORAGE_BACKEND", "ftp".into())])
        .arg("migrate")
        .output()
        .unwrap();
    assert_eq!(bad_storage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_storage.stderr).contains("STORAGE_BACKEND"));
    // A directory where the database file should be: SQLite cannot open it.
    let not_a_file = dir.path().join("db-dir");
    std::fs::create_dir(&not_a_file).unwrap();
    let bad_db = cargoman(
        dir.path(),
        &[("DATABASE_URL", format!("sqlite://{}", not_a_file.display()))],
    )
    .arg("migrate")
    .output()
    .unwrap();
    assert_eq!(bad_db.status.code(), Some(3), "{bad_db:?}");
    let migrated = cargoman(dir.path(), &[]).arg("migrate").output().unwrap();
    assert!(migrated.status.success(), "{migrated:?}");
    let env_file = dir.path().join("custom.env");
    std::fs::write(&env_file, "PORT=notaport\n").unwrap();
    let bad_env = cargoman(dir.path(), &[])
        .args(["--config", env_file.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert_eq!(bad_env.status.code(), Some(2));
}

#[test]
fn commands_on_a_missing_database_name_it_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let expected = dir.path().join("data/cargoman.db");
    let commands: &[&[&str]] = &[
        &["gc"],
        &["fsck"],
        &["package", "list"],
        &["customer", "list"],
        &["token", "list", "cust_x"],
        &["team-token", "list"],
        &["admin-token", "reset"],
    ];
    for command in commands {
        let out = cargoman(dir.path(), &[]).args(*command).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{command:?}: {stderr}");
        assert!(
            stderr.contains(&expected.display().to_string()),
            "{command:?}: {stderr}"
        );
    }
    assert!(!dir.path().join("data").exists(), "nothing was created");

    // A file without Cargoman's tables is no registry either.
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(&expected, b"").unwrap();
    let empty = cargoman(dir.path(), &[]).arg("gc").output().unwrap();
    assert_eq!(empty.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("no Cargoman tables"));

    // `migrate` creates it; then the same commands work.
    let migrated = cargoman(dir.path(), &[]).arg("migrate").output().unwrap();
    assert!(migrated.status.success(), "{migrated:?}");
    let gc = cargoman(dir.path(), &[]).arg("gc").output().unwrap();
    assert!(gc.status.success(), "{gc:?}");
}

#[test]
fn an_unreachable_postgresql_is_named_with_its_cause_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let started = Instant::now();
    let out = cargoman(
        dir.path(),
        &[(
            "DATABASE_URL",
            format!("postgres://cargo:s3cret@127.0.0.1:{port}/registry"),
        )],
    )
    .arg("customer")
    .arg("list")
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(5), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(stderr.to_lowercase().contains("refused"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn a_missing_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = cargoman(dir.path(), &[])
        .args(["--config", "no-such.env", "migrate"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no-such.env"), "{stderr}");
    assert!(!dir.path().join("data").exists());
}

#[test]
fn logs_to_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = cargoman(dir.path(), &[("RUST_LOG", "info".into())])
        .arg("migrate")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("applied migration"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
}

/// Filesystem only: the test damages blob files on disk behind the server's back.
#[test]
fn fsck_finds_missing_corrupt_and_stray_objects_and_gc_cleans() {
    let s = TestServer::start(Backend::SqliteFs);
    let a = s.make_file("a.bin", 5000, 1);
    let b = s.make_file("b.bin", 6000, 2);
    for (f, name) in [(&a, "a.bin"), (&b, "b.bin")] {
        let path = format!("/api/packages/acme/generic/p/1/{name}");
        assert_eq!(
            s.admin(&["--upload-file", f.to_str().unwrap(), &path])
                .status,
            201
        );
    }
    assert!(s.cli(&["fsck", "--verify"]).status.success());

    let blobs_dir = s.dir.path().join("packages/blobs");
    let mut objects: Vec<_> = walk(&blobs_dir);
    objects.sort_by_key(|p| std::fs::metadata(p).unwrap().len());
    assert_eq!(objects.len(), 2);
    // Same size, different content: only --verify sees it.
    let mut content = std::fs::read(&objects[0]).unwrap();
    content[10] ^= 0xff;
    std::fs::write(&objects[0], &content).unwrap();
    assert!(s.cli(&["fsck"]).status.success(), "size still matches");
    let verify = s.cli(&["fsck", "--verify"]);
    assert_eq!(verify.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("corrupt"));

    std::fs::remove_file(&objects[1]).unwrap();
    let stray = blobs_dir.join("ff/strayobject");
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::write(&stray, b"junk").unwrap();
    let report = s.cli(&["--json", "fsck"]);
    assert_eq!(report.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(json["missing"].as_array().unwrap().len(), 1, "{json}");
    assert_eq!(json["unreferenced"][0], "blobs/ff/strayobject");

    // gc leaves young objects alone, then removes the stray one.
    let gc = s.cli(&["--json", "gc"]);
    let gc_json: serde_json::Value = serde_json::from_slice(&gc.stdout).unwrap();
    assert_eq!(gc_json["objects_removed"], 0);
    let gc = s.cli(&["--json", "gc", "--grace-seconds", "0"]);
    let gc_json: serde_json::Value = serde_json::from_slice(&gc.stdout).unwrap();
    assert_eq!(gc_json["objects_removed"], 1, "{gc_json}");
    assert!(!stray.exists());
}

/// Filesystem only: temporary upload files exist only there (an S3 multipart upload that never
/// completed is not listed).
#[test]
fn fsck_reports_temporary_upload_files_apart_and_exits_0_for_them() {
    let s = TestServer::start(Backend::SqliteFs);
    let a = s.make_file("a.bin", 3000, 3);
    let put = s.admin(&[
        "--upload-file",
        a.to_str().unwrap(),
        "/api/packages/acme/generic/p/1/a.bin",
    ]);
    assert_eq!(put.status, 201);
    // What a server killed in the middle of an upload leaves behind.
    let leftover = s.dir.path().join("packages/tmp/0123456789abcdef");
    std::fs::write(&leftover, b"half an upload").unwrap();

    let text = s.cli(&["fsck"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert_eq!(text.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("temporary upload file tmp/0123456789abcdef"),
        "{stdout}"
    );
    assert!(!stdout.contains("unreferenced"), "{stdout}");
    let json = s.cli(&["--json", "fsck"]);
    assert_eq!(json.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["temporary_uploads"][0], "tmp/0123456789abcdef");
    assert_eq!(report["unreferenced"].as_array().unwrap().len(), 0);

    // A blob row whose object is gone is a real problem.
    for object in walk(&s.dir.path().join("packages/blobs")) {
        std::fs::remove_file(object).unwrap();
    }
    let broken = s.cli(&["fsck"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stdout).contains("missing object"));

    // With no server running (after a crash) gc may skip the grace period.
    let gc = s.cli(&["--json", "gc", "--grace-seconds", "0"]);
    let gc: serde_json::Value = serde_json::from_slice(&gc.stdout).unwrap();
    assert_eq!(gc["objects_removed"], 1, "{gc}");
    assert!(!leftover.exists());
}

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The token value a command printed once (`… (shown once): VALUE` or `ADMIN_TOKEN=VALUE`).
fn shown_value(out: &std::process::Output) -> String {
    let text = stdout(out);
    text.lines()
        .find_map(|l| {
            l.split_once("(shown once): ")
                .map(|(_, v)| v)
                .or_else(|| l.trim().strip_prefix("ADMIN_TOKEN="))
        })
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no value in {text}"))
}

/// Status of `GET /api/v1/owners` with `token` as Bearer token.
fn owners_status(s: &TestServer, token: &str) -> u16 {
    s.curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        "/api/v1/owners",
    ])
    .status
}

#[test]
fn package_list_shows_every_format_and_says_when_empty() {
    for backend in backends() {
        let s = TestServer::start(backend);
        assert_eq!(stdout(&s.cli(&["package", "list"])).trim(), "no packages");
        let file = s.make_file("tool.tar.gz", 100, 1);
        for version in ["1.0.0", "1.1.0"] {
            let path = format!("/api/packages/acme/generic/tool/{version}/tool.tar.gz");
            let put = s.admin(&["--upload-file", file.to_str().unwrap(), &path]);
            assert_eq!(put.status, 201, "{}", put.text());
        }
        let listed = stdout(&s.cli(&["package", "list"]));
        assert_eq!(
            listed.trim(),
            "generic\tacme\ttool\t1.1.0\t2 version(s)",
            "{backend:?}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&stdout(&s.cli(&["--json", "package", "list"]))).unwrap();
        assert_eq!(json[0]["owner"], "acme");
        assert_eq!(json[0]["format"], "generic");
        assert_eq!(json[0]["name"], "tool");
        assert_eq!(json[0]["versions"], 2);
        assert_eq!(
            stdout(&s.cli(&["package", "list", "--format", "composer"])).trim(),
            "no composer packages"
        );
    }
}

#[test]
fn team_tokens_round_trip_through_the_command_line() {
    for backend in backends() {
        // Every request re-reads the token row, so a change made by the CLI counts at once.
        let s = TestServer::start_with(backend, &[("AUTH_CACHE_TTL_MS", "0")]);
        assert_eq!(
            stdout(&s.cli(&["team-token", "list"])).trim(),
            "no team tokens"
        );
        let bad = s.cli(&["team-token", "create", "--name", "x", "--level", "god"]);
        assert_eq!(bad.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("level must be"));

        let ci = s.cli(&["team-token", "create", "--name", "ci", "--level", "viewer"]);
        let ci_token = shown_value(&ci);
        assert!(ci_token.starts_with("cma_"), "{ci_token}");
        assert_eq!(owners_status(&s, &ci_token), 200);
        // The same JSON as the API: the row plus `token`.
        let ops: serde_json::Value = serde_json::from_str(&stdout(&s.cli(&[
            "--json",
            "team-token",
            "create",
            "--name",
            "ops",
            "--level",
            "admin",
            "--expires-in-days",
            "30",
        ])))
        .unwrap();
        assert_eq!(ops["level"], "admin");
        assert_eq!(ops["kind"], "team");
        assert!(ops["expires_at"].is_string(), "{ops}");
        let ops_id = ops["id"].as_i64().unwrap().to_string();
        let ops_token = ops["token"].as_str().unwrap().to_string();
        assert_eq!(owners_status(&s, &ops_token), 200);
        let via_api = common::api(&s, "GET", &format!("/api/v1/tokens/{ops_id}"), None).json();
        assert_eq!(via_api["data"]["name"], "ops");

        let listed = stdout(&s.cli(&["team-token", "list"]));
        assert_eq!(listed.lines().count(), 2, "{listed}");
        assert!(listed.contains("\tviewer\tlive\tci"), "{listed}");
        let json: serde_json::Value =
            serde_json::from_str(&stdout(&s.cli(&["--json", "team-token", "list"]))).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 2);
        assert!(json[0].get("token").is_none(), "values are never listed");

        let rotated = shown_value(&s.cli(&["team-token", "rotate", &ops_id]));
        assert_eq!(
            owners_status(&s, &ops_token),
            401,
            "the old value is refused"
        );
        assert_eq!(owners_status(&s, &rotated), 200);
        stdout(&s.cli(&["team-token", "revoke", &ops_id]));
        assert_eq!(
            owners_status(&s, &rotated),
            401,
            "a revoked token is refused"
        );
        assert!(stdout(&s.cli(&["team-token", "list"])).contains("\tadmin\trevoked\tops"));
        let again = s.cli(&["team-token", "rotate", &ops_id]);
        assert_eq!(
            again.status.code(),
            Some(1),
            "a revoked token stays revoked"
        );
        assert_eq!(owners_status(&s, &ci_token), 200);
    }
}

#[test]
fn a_lost_generated_root_token_is_replaced_by_admin_token_reset() {
    for backend in backends() {
        let mut s = TestServer::start(backend);
        // With ADMIN_TOKEN set there is no generated token to replace.
        let refused = s.cli(&["admin-token", "reset"]);
        assert_eq!(refused.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&refused.stderr).contains("ADMIN_TOKEN"));

        // Without it the server generates one at its first start; say it was lost.
        s.env.remove("ADMIN_TOKEN");
        s.restart();
        let first = shown_value(&s.cli(&["admin-token", "reset"]));
        assert!(first.starts_with("cmr_"), "{first}");
        s.restart();
        assert_eq!(owners_status(&s, &first), 200);
        assert_eq!(owners_status(&s, common::ADMIN), 401);

        let json: serde_json::Value =
            serde_json::from_str(&stdout(&s.cli(&["--json", "admin-token", "reset"]))).unwrap();
        let second = json["token"].as_str().unwrap().to_string();
        s.restart();
        assert_eq!(owners_status(&s, &second), 200);
        assert_eq!(
            owners_status(&s, &first),
            401,
            "the replaced token is refused"
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

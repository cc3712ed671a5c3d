//! Clients too slow to be real ones are cut off: a request head not finished within
//! `HEADER_READ_TIMEOUT`, and a body slower than `UPLOAD_MIN_BYTES_PER_SECOND` over
//! `UPLOAD_MIN_RATE_WINDOW` (both shortened here).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::{ADMIN, TestServer, backends};

fn connect(s: &TestServer) -> TcpStream {
    let conn = TcpStream::connect(s.base.trim_start_matches("http://")).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    conn
}

/// Waits for the server to close the connection; how long it took.
fn closed_after(mut conn: TcpStream) -> Duration {
    let started = Instant::now();
    let mut answer = Vec::new();
    match conn.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the connection stayed open: {e}"),
    }
    started.elapsed()
}

#[test]
fn a_client_that_stalls_in_its_request_head_is_disconnected() {
    for backend in backends() {
        let s = TestServer::start_with(backend, &[("HEADER_READ_TIMEOUT", "1")]);
        let mut half = connect(&s);
        half.write_all(b"GET /health HTTP/1.1\r\nHost: cargoman\r\nX-Slow: ")
            .unwrap();
        let waited = closed_after(half);
        assert!(waited < Duration::from_secs(10), "{backend:?}: {waited:?}");
        // Saying nothing at all is no better.
        let waited = closed_after(connect(&s));
        assert!(waited < Duration::from_secs(10), "{backend:?}: {waited:?}");
        // Others are served as before.
        assert_eq!(s.curl(&["/health"]).status, 200);
    }
}

/// Sends a request head announcing `length` bytes, then trickles 10 bytes every 200 ms until
/// the server answers; returns the answer's status.
fn trickle(s: &TestServer, method_path: &str, length: usize) -> u16 {
    let mut conn = connect(s);
    write!(
        conn,
        "{method_path} HTTP/1.1\r\nHost: cargoman\r\nAuthorization: Bearer {ADMIN}\r\nContent-Length: {length}\r\n\r\n"
    )
    .unwrap();
    // Read on another thread, so the answer is taken in before the server's close could drop it.
    let answered = Arc::new(AtomicBool::new(false));
    let reader = {
        let mut conn = conn.try_clone().unwrap();
        let answered = answered.clone();
        std::thread::spawn(move || {
            let mut answer = Vec::new();
            let _ = conn.read_to_end(&mut answer);
            answered.store(true, Ordering::Release);
            answer
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut sent = 0;
    while !answered.load(Ordering::Acquire) && sent < length && Instant::now() < deadline {
        if conn.write_all(b"0123456789").is_err() {
            break;
        }
        sent += 10;
        std::thread::sleep(Duration::from_millis(200));
    }
    let answer = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {answer:?}"))
}

#[test]
fn an_upload_that_trickles_is_refused_and_stores_nothing() {
    for backend in backends() {
        let s = TestServer::start_with(
            backend,
            &[
                ("UPLOAD_MIN_BYTES_PER_SECOND", "1000"),
                ("UPLOAD_MIN_RATE_WINDOW", "1"),
            ],
        );
        let generic = "/api/packages/acme/generic/tool/1.0.0/slow.bin";
        let composer = "/api/packages/acme/composer?version=1.0.0";
        for path in [generic, composer] {
            let started = Instant::now();
            let status = trickle(&s, &format!("PUT {path}"), 100_000);
            assert_eq!(status, 408, "{backend:?} {path}");
            assert!(started.elapsed() < Duration::from_secs(15), "{path}");
        }
        let missing = s.admin(&[generic]);
        assert_eq!(missing.status, 404, "{}", missing.text());
        // No stray object in storage, no blob row without its object.
        let fsck = s.cli(&["fsck"]);
        assert!(
            fsck.status.success(),
            "{backend:?}: {}",
            String::from_utf8_lossy(&fsck.stdout)
        );

        // An upload at a normal pace is not affected.
        let file = s.make_file("fast.bin", 512 * 1024, 7);
        let put = s.admin(&["--upload-file", file.to_str().unwrap(), generic]);
        assert_eq!(put.status, 201, "{}", put.text());
    }
}

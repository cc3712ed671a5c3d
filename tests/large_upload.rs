//! A 1 GiB upload streams: the server's memory stays flat, and the bytes come back intact.
//! Its own test binary, so the process's peak memory reflects this upload alone.

mod common;

use common::{TestServer, backends};

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn one_gib_upload_keeps_memory_flat() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let path = s.dir.path().join("big.bin");
        {
            use std::io::Write;
            let block = common::pseudo_random(1 << 20, 9);
            let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            for i in 0..1024u32 {
                f.write_all(&i.to_le_bytes()).unwrap();
                f.write_all(&block[4..]).unwrap();
            }
        }
        let url = "/api/packages/acme/generic/big/1.0/big.bin";
        let before = peak_rss_kib();
        let put = s.admin(&["--upload-file", path.to_str().unwrap(), url]);
        assert_eq!(put.status, 201, "{backend:?}: {}", put.text());
        let grown_mib = (peak_rss_kib() - before) / 1024;
        assert!(
            grown_mib < 100,
            "{backend:?}: peak memory grew by {grown_mib} MiB during a 1 GiB upload"
        );
        let downloaded = s.dir.path().join("back.bin");
        let get = std::process::Command::new("curl")
            .args(["-sSf", "--user", &format!("a:{}", common::ADMIN), "-o"])
            .arg(&downloaded)
            .arg(s.url(url))
            .status()
            .unwrap();
        assert!(get.success(), "{backend:?}: download failed");
        let same = std::process::Command::new("cmp")
            .arg(&path)
            .arg(&downloaded)
            .output()
            .unwrap();
        assert!(
            same.status.success(),
            "{backend:?}: downloaded bytes differ: {}",
            String::from_utf8_lossy(&same.stderr)
        );
        std::fs::remove_file(&downloaded).unwrap();
    }
}

//! The NuGet feed driven by the real clients: NuGet.exe 5.8 on mono (v3: push, install with
//! dependency resolution, list through the v2 gallery it finds in the service index, search,
//! delete) and Debian's nuget 2.8 (v2 only: install, list), with packages built by `nuget pack`
//! in the test; plus raw HTTP for bad packages, the push forms clients differ in, paging and
//! customer grants.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::common::{ADMIN, Reply, TestServer, api, backends, describe};

const OWNER: &str = "acme";

fn feed(s: &TestServer) -> String {
    s.url(&format!("/api/packages/{OWNER}/nuget"))
}

/// NuGet.exe 5.8 from the tools folder (`scripts/services.sh`); missing is a failure, not a skip.
fn nuget_exe() -> PathBuf {
    let dir = std::env::var("CARGOMAN_TEST_NODE_CLIENTS").expect(
        "CARGOMAN_TEST_NODE_CLIENTS is not set: run the suite with ./scripts/test.sh (services_install, services_start)",
    );
    let path = Path::new(&dir).join("nuget-exe/nuget-5.8.0.exe");
    assert!(
        path.exists(),
        "{} is missing: run services_install",
        path.display()
    );
    path
}

/// One user of the clients: a home of its own (NuGet caches globally under it) with a
/// `NuGet.Config` naming the feed, with credentials when given a token.
struct User {
    home: tempfile::TempDir,
}

impl User {
    fn new(s: &TestServer, token: Option<&str>) -> User {
        let home = tempfile::tempdir().unwrap();
        let credentials = token.map_or(String::new(), |token| {
            format!(
                "<packageSourceCredentials><cargoman><add key=\"Username\" value=\"ci\" /><add key=\"ClearTextPassword\" value=\"{token}\" /></cargoman></packageSourceCredentials>"
            )
        });
        std::fs::write(
            home.path().join("NuGet.Config"),
            format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration><packageSources><clear /><add key=\"cargoman\" value=\"{}/index.json\" protocolVersion=\"3\" allowInsecureConnections=\"true\" /></packageSources>{credentials}</configuration>\n",
                feed(s)
            ),
        )
        .unwrap();
        User { home }
    }

    fn path(&self, sub: &str) -> PathBuf {
        let p = self.home.path().join(sub);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    fn config(&self) -> String {
        self.home.path().join("NuGet.Config").display().to_string()
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.home.path())
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("NUGET_PACKAGES", self.home.path().join("packages"));
        cmd
    }

    /// Runs NuGet.exe 5.8 (`-ConfigFile` and `-NonInteractive` added where it takes them).
    fn nuget_exe(&self, args: &[&str]) -> Output {
        let mut cmd = self.command("mono");
        cmd.arg(nuget_exe()).args(args).arg("-NonInteractive");
        if args[0] != "search" {
            cmd.args(["-ConfigFile", &self.config()]);
        }
        cmd.output().expect("mono is installed")
    }

    fn nuget_exe_ok(&self, args: &[&str]) -> String {
        let out = self.nuget_exe(args);
        assert!(
            out.status.success(),
            "nuget.exe {args:?}: {}",
            describe(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs Debian's nuget 2.8 in a pseudo-terminal with a size: its `list` justifies its
    /// output to the console's width and prints blank lines forever when that width is 0.
    fn nuget_2(&self, args: &[&str]) -> String {
        let line = format!(
            "stty cols 200 rows 50; nuget {} -NonInteractive",
            args.join(" ")
        );
        let out = self
            .command("script")
            .args(["-qec", &line, "/dev/null"])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("script (util-linux) is installed");
        assert!(out.status.success(), "nuget {args:?}: {}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Builds a package with `nuget pack` (Debian's nuget 2.8) and returns its path.
    fn pack(&self, id: &str, version: &str, dependencies: &[(&str, &str)]) -> PathBuf {
        let src = self.path(&format!("src/{id}-{version}"));
        std::fs::create_dir_all(src.join("content")).unwrap();
        std::fs::write(src.join("content/hello.txt"), format!("{id} {version}\n")).unwrap();
        let deps: String = dependencies
            .iter()
            .map(|(d, range)| format!("<dependency id=\"{d}\" version=\"{range}\" />"))
            .collect();
        std::fs::write(
            src.join(format!("{id}.nuspec")),
            format!(
                "<?xml version=\"1.0\"?>\n<package xmlns=\"http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd\"><metadata><id>{id}</id><version>{version}</version><authors>Ann</authors><description>{id} says hello</description><dependencies><group targetFramework=\"net45\">{deps}</group></dependencies></metadata><files><file src=\"content/hello.txt\" target=\"content/hello.txt\" /></files></package>\n"
            ),
        )
        .unwrap();
        let out_dir = self.path("out");
        let out = self
            .command("nuget")
            .current_dir(&src)
            .args([
                "pack",
                &format!("{id}.nuspec"),
                "-NonInteractive",
                "-OutputDirectory",
            ])
            .arg(&out_dir)
            .output()
            .expect("nuget is installed");
        assert!(out.status.success(), "nuget pack: {}", describe(&out));
        // nuget 2.8 names the file after the version as written (`1.0`, not `1.0.0`).
        let file = out_dir.join(format!("{id}.{version}.nupkg"));
        assert!(file.is_file(), "nuget pack made no {}", file.display());
        file
    }
}

fn get(s: &TestServer, token: Option<&str>, path: &str) -> Reply {
    let path = format!("/api/packages/{OWNER}/nuget/{path}");
    match token {
        Some(token) => s.curl(&["--user", &format!("ci:{token}"), &path]),
        None => s.curl(&[&path]),
    }
}

fn flat_versions(s: &TestServer, id: &str) -> Value {
    let r = get(s, Some(ADMIN), &format!("package/{id}/index.json"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["versions"].clone()
}

#[test]
fn nuget_exe_pushes_installs_lists_searches_and_deletes() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let user = User::new(&s, Some(ADMIN));
        let core_1 = user.pack("Acme.Core", "1.0", &[]);
        let core_15 = user.pack("Acme.Core", "1.5.0", &[]);
        let core_2 = user.pack("Acme.Core", "2.0.0", &[]);
        let app = user.pack("Acme.App", "2.0.0-beta", &[("Acme.Core", "[1.5,2.0)")]);
        for package in [&core_1, &core_15, &core_2, &app] {
            let out = user.nuget_exe_ok(&[
                "push",
                package.to_str().unwrap(),
                "-Source",
                "cargoman",
                "-ApiKey",
                ADMIN,
            ]);
            assert!(out.contains("Your package was pushed"), "{out}");
        }
        // The same version again: refused with 409, whatever its spelling in the nuspec.
        let again = user.nuget_exe(&[
            "push",
            core_1.to_str().unwrap(),
            "-Source",
            "cargoman",
            "-ApiKey",
            ADMIN,
        ]);
        assert!(!again.status.success());
        assert!(describe(&again).contains("409"), "{}", describe(&again));
        assert_eq!(
            flat_versions(&s, "acme.core"),
            json!(["1.0.0", "1.5.0", "2.0.0"])
        );

        // Install resolves the dependency within its range (NuGet takes the lowest that fits).
        let into = user.path("installed");
        user.nuget_exe_ok(&[
            "install",
            "Acme.App",
            "-Prerelease",
            "-Source",
            "cargoman",
            "-OutputDirectory",
            into.to_str().unwrap(),
        ]);
        let hello =
            std::fs::read_to_string(into.join("Acme.Core.1.5.0/content/hello.txt")).unwrap();
        assert_eq!(hello, "Acme.Core 1.5.0\n");
        assert!(into.join("Acme.App.2.0.0-beta").is_dir());

        // `list` goes through the v2 feed the service index names as the gallery.
        let listed = user.nuget_exe_ok(&["list", "Acme", "-Source", "cargoman", "-PreRelease"]);
        assert!(listed.contains("Acme.App 2.0.0-beta"), "{listed}");
        assert!(listed.contains("Acme.Core 2.0.0"), "{listed}");
        let listed = user.nuget_exe_ok(&["list", "Acme", "-Source", "cargoman", "-AllVersions"]);
        assert!(
            listed.contains("Acme.Core 1.5.0") && !listed.contains("2.0.0-beta"),
            "{listed}"
        );
        // `search` reads the v3 search service (the config in the home holds the source).
        let found = user.nuget_exe_ok(&["search", "core", "-Source", "cargoman"]);
        assert!(found.contains("Acme.Core | 2.0.0"), "{found}");
        assert!(!found.contains("Acme.App"), "{found}");

        // Delete names the id as written; the documents follow.
        let out = user.nuget_exe_ok(&[
            "delete",
            "Acme.Core",
            "2.0.0",
            "-Source",
            "cargoman",
            "-ApiKey",
            ADMIN,
        ]);
        assert!(out.contains("deleted successfully"), "{out}");
        assert_eq!(flat_versions(&s, "acme.core"), json!(["1.0.0", "1.5.0"]));
        let index = get(&s, Some(ADMIN), "registration/acme.core/index.json").json();
        assert_eq!(index["items"][0]["upper"], "1.5.0");
        user.nuget_exe_ok(&[
            "delete",
            "Acme.App",
            "2.0.0-beta",
            "-Source",
            "cargoman",
            "-ApiKey",
            ADMIN,
        ]);
        assert_eq!(
            get(&s, Some(ADMIN), "package/acme.app/index.json").status,
            404
        );
    }
}

#[test]
fn anonymous_reads_of_a_private_feed_are_challenged() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let r = get(&s, None, "index.json");
        assert_eq!(r.status, 401);
        assert!(
            r.header("www-authenticate")
                .unwrap_or_default()
                .starts_with("Basic realm=")
        );
        // NuGet.exe answers the challenge with the configured credentials; without them it fails.
        let anonymous = User::new(&s, None);
        let out = anonymous.nuget_exe(&["search", "x", "-Source", "cargoman"]);
        assert!(!out.status.success() || !String::from_utf8_lossy(&out.stdout).contains("Acme"));
        let user = User::new(&s, Some(ADMIN));
        let core = user.pack("Acme.Core", "1.0.0", &[]);
        user.nuget_exe_ok(&[
            "push",
            core.to_str().unwrap(),
            "-Source",
            "cargoman",
            "-ApiKey",
            ADMIN,
        ]);
        // A wrong key is refused, and so is NuGet.exe's retry with empty credentials (a user
        // with credentials in its config would retry with those, and succeed).
        let other = user.pack("Acme.Other", "1.0.0", &[]);
        let out = anonymous.nuget_exe(&[
            "push",
            other.to_str().unwrap(),
            "-Source",
            "cargoman",
            "-ApiKey",
            "wrong",
        ]);
        assert!(!out.status.success(), "{}", describe(&out));
        assert_eq!(
            get(&s, Some(ADMIN), "package/acme.other/index.json").status,
            404
        );
    }
}

#[test]
fn nuget_2_installs_and_lists_from_the_v2_feed_of_a_public_owner() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let r = api(
            &s,
            "POST",
            "/api/v1/owners",
            Some(&json!({"name": OWNER, "visibility": "public"})),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let user = User::new(&s, None);
        for (id, version, deps) in [
            ("Acme.Core", "1.0", vec![]),
            ("Acme.Core", "1.2.0", vec![]),
            ("Acme.App", "3.0.0", vec![("Acme.Core", "1.1")]),
        ] {
            let package = user.pack(id, version, &deps);
            let r = s.curl(&[
                "-H",
                &format!("X-NuGet-ApiKey: {ADMIN}"),
                "-F",
                &format!("package=@{}", package.display()),
                "-X",
                "PUT",
                &format!("/api/packages/{OWNER}/nuget/api/v2/package/"),
            ]);
            assert_eq!(r.status, 201, "{id} {version}: {}", r.text());
        }
        let source = feed(&s);
        let into = user.path("installed");
        let out = user.nuget_2(&[
            "install",
            "Acme.App",
            "-Source",
            &source,
            "-OutputDirectory",
            into.to_str().unwrap(),
        ]);
        assert!(
            out.contains("Successfully installed 'Acme.App 3.0.0'"),
            "{out}"
        );
        // `1.1` means 1.1 or newer; nuget 2.8 takes the lowest that fits.
        assert!(
            into.join("Acme.Core.1.2.0/content/hello.txt").is_file(),
            "{out}"
        );
        let listed = user.nuget_2(&["list", "-Source", &source]);
        assert!(
            listed.contains("Acme.App 3.0.0") && listed.contains("Acme.Core 1.2.0"),
            "{listed}"
        );
        let all = user.nuget_2(&["list", "Core", "-AllVersions", "-Source", &source]);
        assert!(
            all.contains("Acme.Core 1.0.0") && !all.contains("Acme.App"),
            "{all}"
        );
        // Writes still need a token.
        let package = user.pack("Acme.Core", "9.0.0", &[]);
        let data = format!("@{}", package.display());
        let path = format!("/api/packages/{OWNER}/nuget/");
        let r = s.curl(&["-X", "PUT", "--data-binary", &data, &path]);
        assert_eq!(r.status, 401);
    }
}

/// A zip of `files` (name, content).
fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in files {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(data.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn nuspec(id: &str, version: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><package><metadata><id>{id}</id><version>{version}</version><authors>a</authors><description>d</description></metadata></package>"
    )
}

/// Pushes `body` as NuGet.exe does (multipart) or raw; returns the reply.
fn push(s: &TestServer, body: &[u8], multipart: bool) -> Reply {
    let file = s.dir.path().join(format!("push-{}.nupkg", rand_suffix()));
    std::fs::write(&file, body).unwrap();
    let key = format!("X-NuGet-ApiKey: {ADMIN}");
    let path = format!("/api/packages/{OWNER}/nuget/");
    let form = format!("package=@{}", file.display());
    if multipart {
        s.curl(&["-H", &key, "-X", "PUT", "-F", &form, &path])
    } else {
        // Raw and chunked, as curl streams a file it cannot size (`--upload-file` would append
        // the file name to a URL ending in '/').
        let data = format!("@{}", file.display());
        s.curl(&[
            "-H",
            &key,
            "-H",
            "Transfer-Encoding: chunked",
            "-H",
            "Content-Type: application/octet-stream",
            "-X",
            "PUT",
            "--data-binary",
            &data,
            &path,
        ])
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

#[test]
fn bad_packages_are_refused_and_nothing_is_stored() {
    for backend in backends() {
        let s = TestServer::start_with(backend, &[("MAX_UPLOAD_SIZE", "100000")]);
        let good = nuspec("Acme.Bad", "1.0.0");
        let large = crate::common::pseudo_random(150_000, 3);
        let large = String::from_utf8_lossy(&large).into_owned();
        let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
            ("not a zip", b"hello".to_vec(), 400, "zip"),
            (
                "no nuspec",
                zip_of(&[("lib/a.dll", "x")]),
                400,
                "no .nuspec",
            ),
            (
                "two nuspecs",
                zip_of(&[("a.nuspec", &good), ("b.nuspec", &good)]),
                400,
                "several .nuspec",
            ),
            (
                "invalid id",
                zip_of(&[("a.nuspec", &nuspec("Acme..Bad", "1.0.0"))]),
                400,
                "package id",
            ),
            (
                "invalid version",
                zip_of(&[("a.nuspec", &nuspec("Acme.Bad", "1.0.0.0.1"))]),
                400,
                "NuGet version",
            ),
            (
                "not a nuspec",
                zip_of(&[("a.nuspec", "<nope>")]),
                400,
                "nuspec",
            ),
            (
                "zip-slip",
                zip_of(&[("a.nuspec", &good), ("../../evil.txt", "x")]),
                400,
                "unsafe path",
            ),
            (
                "absolute",
                zip_of(&[("a.nuspec", &good), ("/etc/evil", "x")]),
                400,
                "unsafe path",
            ),
            (
                "oversize",
                zip_of(&[("a.nuspec", &good), ("big.bin", &large)]),
                413,
                "limit",
            ),
        ];
        for multipart in [true, false] {
            for (what, body, status, says) in &cases {
                let r = push(&s, body, multipart);
                assert_eq!(
                    r.status,
                    *status,
                    "{backend:?} {what} multipart={multipart}: {}",
                    r.text()
                );
                assert!(r.text().contains(says), "{what}: {}", r.text());
            }
        }
        assert_eq!(
            get(&s, Some(ADMIN), "package/acme.bad/index.json").status,
            404
        );
        // Not even the owner was created.
        assert_eq!(
            api(&s, "GET", &format!("/api/v1/owners/{OWNER}"), None).status,
            404
        );
        // The same package, well formed, goes in by either form; ids and versions compare
        // case-insensitively and normalized.
        let ok = zip_of(&[("Acme.Bad.nuspec", &nuspec("Acme.Bad", "1.0-RC"))]);
        assert_eq!(push(&s, &ok, false).status, 201);
        let same = zip_of(&[("x.nuspec", &nuspec("acme.bad", "1.0.0.0-rc"))]);
        assert_eq!(push(&s, &same, true).status, 409);
        assert_eq!(flat_versions(&s, "ACME.BAD"), json!(["1.0.0-rc"]));
        let nuspec_file = get(&s, Some(ADMIN), "package/Acme.Bad/1.0.0-RC/acme.bad.nuspec");
        assert_eq!(nuspec_file.status, 200);
        assert!(nuspec_file.text().contains("<id>Acme.Bad</id>"));
        let nupkg = get(
            &s,
            Some(ADMIN),
            "package/acme.bad/1.0.0-rc/acme.bad.1.0.0-rc.nupkg",
        );
        assert_eq!(nupkg.body, ok);
        let v2 = get(&s, Some(ADMIN), "package/acme.bad/1.0.0-rc");
        assert_eq!(v2.body, ok);
    }
}

#[test]
fn registrations_beyond_128_versions_are_paged_and_clients_follow_the_pages() {
    for backend in backends() {
        let s = TestServer::start(backend);
        for patch in 0..130 {
            let body = zip_of(&[("p.nuspec", &nuspec("Acme.Many", &format!("1.0.{patch}")))]);
            let r = push(&s, &body, patch % 2 == 0);
            assert_eq!(r.status, 201, "{}", r.text());
        }
        let index = get(&s, Some(ADMIN), "registration/acme.many/index.json").json();
        assert_eq!(index["count"], 2, "{backend:?}");
        assert!(index["items"][0].get("items").is_none());
        assert_eq!(index["items"][1]["lower"], "1.0.128");
        let page_url = index["items"][1]["@id"].as_str().unwrap();
        let page = s.curl(&[
            "--user",
            &format!("ci:{ADMIN}"),
            page_url.trim_start_matches(&s.base),
        ]);
        assert_eq!(page.status, 200, "{}", page.text());
        assert_eq!(page.json()["items"].as_array().unwrap().len(), 2);
        assert_eq!(
            get(&s, Some(ADMIN), "registration/acme.many/page/2.json").status,
            404
        );
        let leaf = get(&s, Some(ADMIN), "registration/acme.many/1.0.129.json").json();
        assert!(
            leaf["packageContent"]
                .as_str()
                .unwrap()
                .ends_with("/acme.many.1.0.129.nupkg")
        );
        // NuGet.exe finds a version that only a page holds.
        let user = User::new(&s, Some(ADMIN));
        let into = user.path("installed");
        user.nuget_exe_ok(&[
            "install",
            "Acme.Many",
            "-Version",
            "1.0.129",
            "-Source",
            "cargoman",
            "-OutputDirectory",
            into.to_str().unwrap(),
        ]);
        assert!(into.join("Acme.Many.1.0.129").is_dir());
        let page = |n: usize| {
            get(
                &s,
                Some(ADMIN),
                &format!("registration/acme.many/page/{n}.json"),
            )
            .json()
        };
        assert_eq!(page(0)["items"].as_array().unwrap().len(), 128);
        assert_eq!(page(0)["upper"], "1.0.127");
        // A version deleted from the first page shifts the versions after it: both pages follow.
        let r = s.admin(&[
            "-X",
            "DELETE",
            &format!("/api/packages/{OWNER}/nuget/Acme.Many/1.0.5"),
        ]);
        assert_eq!(r.status, 204, "{}", r.text());
        assert_eq!(page(0)["upper"], "1.0.128");
        assert_eq!(page(1)["items"].as_array().unwrap().len(), 1);
        assert_eq!(page(1)["lower"], "1.0.129");
        // Deleting down to 127 versions puts them inline again; the old page is gone.
        for patch in [128, 129] {
            let r = s.admin(&[
                "-X",
                "DELETE",
                &format!("/api/packages/{OWNER}/nuget/api/v2/package/Acme.Many/1.0.{patch}"),
            ]);
            assert_eq!(r.status, 204, "{}", r.text());
        }
        let index = get(&s, Some(ADMIN), "registration/acme.many/index.json").json();
        assert_eq!(index["items"][0]["items"].as_array().unwrap().len(), 127);
        assert_eq!(
            get(&s, Some(ADMIN), "registration/acme.many/page/1.json").status,
            404
        );
    }
}

#[test]
fn customers_see_the_versions_their_nuget_ranges_allow() {
    for backend in backends() {
        let s = TestServer::start(backend);
        for version in ["0.9.0", "1.0.0", "1.5.0", "2.0.0"] {
            let body = zip_of(&[("p.nuspec", &nuspec("Acme.Core", version))]);
            assert_eq!(push(&s, &body, true).status, 201);
        }
        let body = zip_of(&[("p.nuspec", &nuspec("Acme.Hidden", "1.0.0"))]);
        assert_eq!(push(&s, &body, true).status, 201);
        let r = api(
            &s,
            "POST",
            "/api/v1/customers",
            Some(&json!({"name": "Shop"})),
        );
        let (id, token) = (
            r.json()["data"]["id"].as_str().unwrap().to_string(),
            r.json()["data"]["token"].as_str().unwrap().to_string(),
        );
        // Not a NuGet range: refused by the grant API.
        let grant = |constraint: &str| {
            api(
                &s,
                "POST",
                &format!("/api/v1/customers/{id}/packages"),
                Some(
                    &json!({"format": "nuget", "owner": OWNER, "package": "Acme.Core", "constraint": constraint}),
                ),
            )
        };
        assert_eq!(grant("^1.0").status, 400);
        assert_eq!(grant("[1.0,2.0)").status, 201);
        let t = Some(token.as_str());
        assert_eq!(get(&s, t, "index.json").status, 200);
        let flat = get(&s, t, "package/acme.core/index.json");
        assert_eq!(flat.json()["versions"], json!(["1.0.0", "1.5.0"]));
        let index = get(&s, t, "registration/acme.core/index.json").json();
        assert_eq!(index["items"][0]["count"], 2);
        assert_eq!(
            get(&s, t, "package/acme.core/1.5.0/acme.core.1.5.0.nupkg").status,
            200
        );
        assert_eq!(
            get(&s, t, "package/acme.core/2.0.0/acme.core.2.0.0.nupkg").status,
            403
        );
        assert_eq!(get(&s, t, "registration/acme.core/2.0.0.json").status, 403);
        assert_eq!(get(&s, t, "package/acme.hidden/index.json").status, 404);
        let search = get(&s, t, "query?q=acme").json();
        assert_eq!(search["totalHits"], 1);
        assert_eq!(search["data"][0]["version"], "1.5.0");
        // `_` and `%` in a search are plain characters (`acme.core` has an `e.c`, no `e_c`).
        let search = get(&s, Some(ADMIN), "query?q=e_c").json();
        assert_eq!(search["totalHits"], 0, "{search}");
        let search = get(&s, Some(ADMIN), "query?q=E.C").json();
        assert_eq!(search["totalHits"], 1, "{search}");
        let v2 = get(&s, t, "FindPackagesById()?id='Acme.Core'").text();
        assert!(
            v2.contains("<d:Version>1.5.0</d:Version>") && !v2.contains("2.0.0<"),
            "{v2}"
        );
        // The customer installs with NuGet.exe within its grant.
        let user = User::new(&s, Some(&token));
        let into = user.path("installed");
        user.nuget_exe_ok(&[
            "install",
            "Acme.Core",
            "-Source",
            "cargoman",
            "-OutputDirectory",
            into.to_str().unwrap(),
        ]);
        assert!(into.join("Acme.Core.1.5.0").is_dir());
        // Customers never write.
        assert_eq!(
            s.curl(&[
                "--user",
                &format!("ci:{token}"),
                "-X",
                "DELETE",
                &format!("/api/packages/{OWNER}/nuget/Acme.Core/1.0.0")
            ])
            .status,
            403
        );
    }
}

#[test]
fn v2_odata_documents() {
    for backend in backends() {
        let s = TestServer::start(backend);
        for version in ["1.0.0", "1.1.0-beta"] {
            let body = zip_of(&[("p.nuspec", &nuspec("Acme.Core", version))]);
            assert_eq!(push(&s, &body, true).status, 201);
        }
        let t = Some(ADMIN);
        let root = get(&s, t, "");
        assert!(
            root.text().contains("<collection href=\"Packages\">"),
            "{}",
            root.text()
        );
        let metadata = get(&s, t, "$metadata").text();
        assert!(metadata.contains("FunctionImport Name=\"FindPackagesById\""));
        let count = get(&s, t, "FindPackagesById()/$count?id='acme.core'");
        assert_eq!(count.text(), "2");
        let latest = get(
            &s,
            t,
            "Search()?$filter=IsLatestVersion&searchTerm='core'&includePrerelease=false",
        )
        .text();
        assert!(
            latest.contains("<d:Version>1.0.0</d:Version>") && !latest.contains("1.1.0-beta"),
            "{latest}"
        );
        let absolute = get(
            &s,
            t,
            "Search()?$filter=IsAbsoluteLatestVersion&searchTerm=''&includePrerelease=true",
        )
        .text();
        assert!(
            absolute.contains("<d:Version>1.1.0-beta</d:Version>"),
            "{absolute}"
        );
        let paged = get(&s, t, "Packages()?$skip=1&$top=1").text();
        assert_eq!(paged.matches("<entry>").count(), 1);
        assert!(paged.contains("1.1.0-beta"), "{paged}");
        let by_id = get(&s, t, "Packages()?$filter=tolower(Id)%20eq%20'acme.core'").text();
        assert_eq!(by_id.matches("<entry>").count(), 2);
        let entry = get(&s, t, "Packages(Id='Acme.Core',Version='1.0')");
        assert_eq!(entry.status, 200);
        assert!(
            entry
                .text()
                .contains("<d:PackageHashAlgorithm>SHA512</d:PackageHashAlgorithm>")
        );
        assert_eq!(
            get(&s, t, "Packages(Id='Acme.Core',Version='3.0')").status,
            404
        );
        assert_eq!(
            get(&s, t, "Packages()?$filter=Downloads%20gt%203").status,
            400
        );
    }
}

/// A minimal portable PDB: an ECMA-335 metadata root whose `#Pdb` stream starts with `guid`
/// (what the symbol server reads; a debugger asks by that GUID).
fn portable_pdb(guid: [u8; 16]) -> Vec<u8> {
    let mut pdb = Vec::new();
    pdb.extend(b"BSJB");
    pdb.extend([1, 0, 1, 0, 0, 0, 0, 0]);
    pdb.extend(12u32.to_le_bytes());
    pdb.extend(b"PDB v1.0\0\0\0\0");
    pdb.extend([0, 0, 1, 0]);
    // One stream header (offset, size, name), then the stream.
    pdb.extend(48u32.to_le_bytes());
    pdb.extend(32u32.to_le_bytes());
    pdb.extend(b"#Pdb\0\0\0\0");
    assert_eq!(pdb.len(), 48);
    pdb.extend(guid);
    pdb.extend([0; 16]);
    pdb
}

#[test]
fn symbol_packages_are_pushed_with_their_package_and_served_by_signature() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let user = User::new(&s, Some(ADMIN));
        let package = user.pack("Acme.Sym", "1.0.0", &[]);
        let guid: [u8; 16] = [
            0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde, 1, 2, 3, 4, 5, 6, 7, 8,
        ];
        let pdb = portable_pdb(guid);
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("Acme.Sym.nuspec", options).unwrap();
        zip.write_all(
            b"<package><metadata><id>Acme.Sym</id><version>1.0.0</version><authors>a</authors><description>d</description><packageTypes><packageType name=\"SymbolsPackage\" /></packageTypes></metadata></package>",
        )
        .unwrap();
        zip.start_file("lib/net45/Acme.Sym.pdb", options).unwrap();
        zip.write_all(&pdb).unwrap();
        let snupkg = zip.finish().unwrap().into_inner();
        let snupkg_path = package.with_extension("snupkg");
        std::fs::write(&snupkg_path, &snupkg).unwrap();

        // Without its package first, a symbol package has nowhere to go.
        let key = format!("X-NuGet-ApiKey: {ADMIN}");
        let form = format!("package=@{}", snupkg_path.display());
        let path = format!("/api/packages/{OWNER}/nuget/symbolpackage");
        let r = s.curl(&["-H", &key, "-X", "PUT", "-F", &form, &path]);
        assert_eq!(r.status, 404, "{}", r.text());

        // NuGet.exe pushes the .snupkg next to the .nupkg to the symbol service it finds.
        let out = user.nuget_exe_ok(&[
            "push",
            package.to_str().unwrap(),
            "-Source",
            "cargoman",
            "-ApiKey",
            ADMIN,
        ]);
        assert!(out.contains("symbolpackage"), "{out}");
        let signature = "123456789ABCDEF00102030405060708FFFFFFFF";
        let got = get(
            &s,
            Some(ADMIN),
            &format!("symbols/acme.sym.pdb/{signature}/acme.sym.pdb"),
        );
        assert_eq!(got.status, 200, "{}", got.text());
        assert_eq!(got.body, pdb);
        let other = get(
            &s,
            Some(ADMIN),
            "symbols/acme.sym.pdb/00000000000000000000000000000000FFFFFFFF/acme.sym.pdb",
        );
        assert_eq!(other.status, 404);
        let snupkg_file = get(
            &s,
            Some(ADMIN),
            "package/acme.sym/1.0.0/acme.sym.1.0.0.snupkg",
        );
        assert_eq!(
            snupkg_file.status, 404,
            "the flat container serves packages only"
        );
        // Again: 409, and the first push's files stay.
        let r = s.curl(&["-H", &key, "-X", "PUT", "-F", &form, &path]);
        assert_eq!(r.status, 409, "{}", r.text());
        assert_eq!(
            get(
                &s,
                Some(ADMIN),
                &format!("symbols/acme.sym.pdb/{signature}/acme.sym.pdb")
            )
            .status,
            200
        );
        // Anonymous readers of a private owner are challenged.
        assert_eq!(
            get(
                &s,
                None,
                &format!("symbols/acme.sym.pdb/{signature}/acme.sym.pdb")
            )
            .status,
            401
        );
    }
}

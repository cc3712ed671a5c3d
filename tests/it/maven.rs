//! The Maven repository driven by the real clients: Debian's `mvn` 3.8 (deploy of a release and
//! of SNAPSHOT builds, `deploy:deploy-file`, `dependency:get`, a consumer build resolving
//! transitively and through a version range) and Gradle 4.4 (resolve), installed by
//! `scripts/services.sh`; plus raw HTTP for bad input, customers and visibility.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{ADMIN, Reply, TestServer, api, backends, describe, make_public};

const OWNER: &str = "acme";

fn repository(s: &TestServer) -> String {
    s.url(&format!("/api/packages/{OWNER}/maven"))
}

fn path(rest: &str) -> String {
    format!("/api/packages/{OWNER}/maven/{rest}")
}

/// Plugin versions Debian's Maven repository holds (the super-POM's defaults are not there).
const PLUGINS: &str = r#"
      <plugin><artifactId>maven-deploy-plugin</artifactId><version>3.0.0</version></plugin>
      <plugin><artifactId>maven-install-plugin</artifactId><version>3.1.0</version></plugin>
      <plugin><artifactId>maven-resources-plugin</artifactId><version>3.3.0</version></plugin>
      <plugin><artifactId>maven-compiler-plugin</artifactId><version>3.10.1</version></plugin>
      <plugin><artifactId>maven-jar-plugin</artifactId><version>3.3.0</version></plugin>
      <plugin><artifactId>maven-surefire-plugin</artifactId><version>2.22.3</version></plugin>"#;

/// One user of mvn: a settings.xml (central mirrored to Debian's local repository, the server's
/// credentials under id `cargoman` unless anonymous) and a local repository of its own.
struct Mvn {
    home: tempfile::TempDir,
    repository: String,
}

impl Mvn {
    fn new(s: &TestServer, password: Option<&str>) -> Mvn {
        let home = tempfile::tempdir().unwrap();
        let server = password.map_or(String::new(), |p| {
            format!(
                "<server><id>cargoman</id><username>ci</username><password>{p}</password></server>"
            )
        });
        std::fs::write(
            home.path().join("settings.xml"),
            format!(
                "<settings><localRepository>{}</localRepository>\
                 <mirrors><mirror><id>debian</id><mirrorOf>central</mirrorOf>\
                 <url>file:///usr/share/maven-repo</url></mirror></mirrors>\
                 <servers>{server}</servers></settings>",
                home.path().join("m2").display()
            ),
        )
        .unwrap();
        Mvn {
            home,
            repository: repository(s),
        }
    }

    fn run(&self, args: &[&str], dir: &Path) -> Output {
        let settings = self.home.path().join("settings.xml");
        Command::new("mvn")
            .args(["-B", "-s", settings.to_str().unwrap()])
            .args(args)
            .current_dir(dir)
            .env("HOME", self.home.path())
            .env("MAVEN_OPTS", "-Xshare:auto")
            .output()
            .expect("mvn is installed (scripts/services.sh)")
    }

    fn ok(&self, args: &[&str], dir: &Path) -> String {
        let out = self.run(args, dir);
        assert!(out.status.success(), "mvn {args:?}: {}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn fails(&self, args: &[&str], dir: &Path) -> String {
        let out = self.run(args, dir);
        assert!(
            !out.status.success(),
            "mvn {args:?} should fail: {}",
            describe(&out)
        );
        describe(&out)
    }

    /// A project folder: `pom.xml` for `artifact` with `dependencies`, deploying to (and
    /// resolving from) the server, and one class `{Class}` calling `calls`.
    fn project(
        &self,
        artifact: &str,
        version: &str,
        dependencies: &[(&str, &str)],
        code: &str,
    ) -> PathBuf {
        let dir = self.home.path().join(format!("{artifact}-{version}"));
        let class = capitalized(artifact);
        let source = dir.join("src/main/java/com/acme");
        std::fs::create_dir_all(&source).unwrap();
        std::fs::write(
            source.join(format!("{class}.java")),
            format!("package com.acme; public class {class} {{ public static String hi() {{ return {code}; }} }}"),
        )
        .unwrap();
        let deps: String = dependencies
            .iter()
            .map(|(a, v)| {
                format!("<dependency><groupId>com.acme</groupId><artifactId>{a}</artifactId><version>{v}</version></dependency>")
            })
            .collect();
        let url = &self.repository;
        std::fs::write(
            dir.join("pom.xml"),
            format!(
                r#"<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.acme</groupId>
  <artifactId>{artifact}</artifactId>
  <version>{version}</version>
  <name>Acme {artifact}</name>
  <description>The {artifact} of the tests</description>
  <properties>
    <maven.compiler.source>11</maven.compiler.source>
    <maven.compiler.target>11</maven.compiler.target>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <licenses><license><name>MIT</name></license></licenses>
  <dependencies>{deps}</dependencies>
  <repositories><repository><id>cargoman</id><url>{url}</url></repository></repositories>
  <build><plugins>{PLUGINS}</plugins></build>
  <distributionManagement>
    <repository><id>cargoman</id><url>{url}</url></repository>
    <snapshotRepository><id>cargoman</id><url>{url}</url></snapshotRepository>
  </distributionManagement>
</project>"#
            ),
        )
        .unwrap();
        dir
    }
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn get(s: &TestServer, token: Option<&str>, rest: &str) -> Reply {
    let auth = token.map(|t| format!("ci:{t}"));
    let mut args = Vec::new();
    if let Some(auth) = &auth {
        args.extend(["--user", auth.as_str()]);
    }
    let path = path(rest);
    args.push(&path);
    s.curl(&args)
}

fn put(s: &TestServer, token: Option<&str>, rest: &str, body: &[u8]) -> Reply {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), body).unwrap();
    let auth = token.map(|t| format!("ci:{t}"));
    let mut args = vec!["-X", "PUT", "--data-binary"];
    let data = format!("@{}", file.path().display());
    args.push(&data);
    if let Some(auth) = &auth {
        args.extend(["--user", auth.as_str()]);
    }
    let path = path(rest);
    args.push(&path);
    s.curl(&args)
}

fn text(s: &TestServer, token: Option<&str>, rest: &str) -> String {
    let r = get(s, token, rest);
    assert_eq!(r.status, 200, "GET {rest}: {}", r.text());
    r.text()
}

/// The `<version>` entries of a `maven-metadata.xml`, in order.
fn listed_versions(xml: &str) -> Vec<String> {
    xml.split("<version>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</version>").map(|(v, _)| v.to_string()))
        .collect()
}

fn sha1_hex(data: &[u8]) -> String {
    let out = Command::new("sha1sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(data)?;
            child.wait_with_output()
        })
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn mvn_deploys_and_resolves_releases_and_snapshots() {
    for backend in backends() {
        let s = TestServer::start(backend);
        let team = Mvn::new(&s, Some(ADMIN));

        // A release: POM, jar and their checksums (each PUT with Expect: 100-continue, see
        // `expect_continue_is_answered_at_once`).
        let lib = team.project("lib", "1.0", &[], "\"lib\"");
        team.ok(&["deploy"], &lib);
        let jar = std::fs::read(lib.join("target/lib-1.0.jar")).unwrap();
        let served = get(&s, Some(ADMIN), "com/acme/lib/1.0/lib-1.0.jar");
        assert_eq!(served.status, 200, "{backend:?}");
        assert_eq!(served.body, jar);
        assert_eq!(
            text(&s, Some(ADMIN), "com/acme/lib/1.0/lib-1.0.jar.sha1"),
            sha1_hex(&jar)
        );
        let metadata = text(&s, Some(ADMIN), "com/acme/lib/maven-metadata.xml");
        assert!(metadata.contains("<latest>1.0</latest>"), "{metadata}");
        assert!(metadata.contains("<release>1.0</release>"), "{metadata}");
        assert_eq!(
            text(&s, Some(ADMIN), "com/acme/lib/maven-metadata.xml.sha1"),
            sha1_hex(metadata.as_bytes())
        );
        // A release is immutable: deploying it again is refused with 409.
        let again = team.fails(&["deploy"], &lib);
        assert!(again.contains("409"), "{again}");

        // `mid` depends on `lib`; the consumer depends on `mid` through a range and needs
        // both: transitive resolution, with the range read from maven-metadata.xml.
        let mid = team.project("mid", "1.0", &[("lib", "1.0")], "Lib.hi() + \"mid\"");
        team.ok(&["deploy"], &mid);
        let pom = text(&s, Some(ADMIN), "com/acme/mid/1.0/mid-1.0.pom");
        assert!(pom.contains("<artifactId>lib</artifactId>"), "{pom}");

        let consumer = Mvn::new(&s, Some(ADMIN));
        let app = consumer.project("app", "1.0", &[("mid", "[1.0,2.0)")], "Mid.hi() + Lib.hi()");
        consumer.ok(&["compile"], &app);
        let local = consumer.home.path().join("m2/com/acme");
        assert!(
            local.join("lib/1.0/lib-1.0.jar").is_file(),
            "lib resolved transitively"
        );
        assert!(local.join("mid/1.0/mid-1.0.jar").is_file());

        // `dependency:get` of one artifact into an empty local repository.
        let getter = Mvn::new(&s, Some(ADMIN));
        let remote = format!("cargoman::default::{}", repository(&s));
        getter.ok(
            &[
                "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:get",
                "-Dartifact=com.acme:lib:1.0",
                &format!("-DremoteRepositories={remote}"),
            ],
            getter.home.path(),
        );
        assert!(
            getter
                .home
                .path()
                .join("m2/com/acme/lib/1.0/lib-1.0.jar")
                .is_file()
        );

        // Two SNAPSHOT builds: each timestamped, the second one is the snapshot.
        let snap = team.project("lib", "2.0-SNAPSHOT", &[], "\"build one\"");
        team.ok(&["deploy"], &snap);
        std::thread::sleep(Duration::from_millis(1100));
        let source = snap.join("src/main/java/com/acme/Lib.java");
        let code = std::fs::read_to_string(&source).unwrap();
        std::fs::write(&source, code.replace("build one", "build two")).unwrap();
        team.ok(&["deploy"], &snap);
        let snapshot_meta = text(
            &s,
            Some(ADMIN),
            "com/acme/lib/2.0-SNAPSHOT/maven-metadata.xml",
        );
        assert!(
            snapshot_meta.contains("<buildNumber>2</buildNumber>"),
            "{snapshot_meta}"
        );
        assert!(
            snapshot_meta.contains("<extension>jar</extension>"),
            "{snapshot_meta}"
        );
        assert!(
            snapshot_meta.contains("<extension>pom</extension>"),
            "{snapshot_meta}"
        );
        let second = std::fs::read(snap.join("target/lib-2.0-SNAPSHOT.jar")).unwrap();
        let newest = get(
            &s,
            Some(ADMIN),
            "com/acme/lib/2.0-SNAPSHOT/lib-2.0-SNAPSHOT.jar",
        );
        assert_eq!(newest.status, 200);
        assert_eq!(
            newest.body, second,
            "the SNAPSHOT's name serves its newest build"
        );
        let artifact_meta = text(&s, Some(ADMIN), "com/acme/lib/maven-metadata.xml");
        assert_eq!(listed_versions(&artifact_meta), ["1.0", "2.0-SNAPSHOT"]);
        assert!(
            artifact_meta.contains("<latest>2.0-SNAPSHOT</latest>"),
            "{artifact_meta}"
        );
        assert!(
            artifact_meta.contains("<release>1.0</release>"),
            "{artifact_meta}"
        );

        // A consumer of the SNAPSHOT gets the second build.
        let user = Mvn::new(&s, Some(ADMIN));
        let snap_app = user.project("snapapp", "1.0", &[("lib", "2.0-SNAPSHOT")], "Lib.hi()");
        user.ok(&["compile"], &snap_app);
        let resolved = user
            .home
            .path()
            .join("m2/com/acme/lib/2.0-SNAPSHOT/lib-2.0-SNAPSHOT.jar");
        assert_eq!(std::fs::read(resolved).unwrap(), second);

        // deploy:deploy-file with a classifier and its own extension.
        let file = team.home.path().join("tool.zip");
        std::fs::write(&file, b"PK\x05\x06zip of the linux build").unwrap();
        team.ok(
            &[
                "org.apache.maven.plugins:maven-deploy-plugin:3.0.0:deploy-file",
                &format!("-Dfile={}", file.display()),
                "-DgroupId=com.acme",
                "-DartifactId=tool",
                "-Dversion=3.1",
                "-Dpackaging=zip",
                "-Dclassifier=linux",
                "-DrepositoryId=cargoman",
                &format!("-Durl={}", repository(&s)),
            ],
            team.home.path(),
        );
        let zip = get(&s, Some(ADMIN), "com/acme/tool/3.1/tool-3.1-linux.zip");
        assert_eq!(zip.status, 200);
        assert_eq!(zip.body, std::fs::read(&file).unwrap());
        let files = api(
            &s,
            "GET",
            "/api/v1/owners/acme/packages/maven/com.acme:tool/versions/3.1/files",
            None,
        );
        assert_eq!(files.status, 200, "{}", files.text());
        let listed = files.json()["data"]["files"].clone();
        let zip_entry = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "tool-3.1-linux.zip")
            .unwrap_or_else(|| panic!("{listed}"));
        assert_eq!(zip_entry["kind"], "zip");
        assert_eq!(zip_entry["qualifier"], "linux");

        // The management API lists Maven packages as group:artifact.
        let packages = api(&s, "GET", "/api/v1/owners/acme/packages?per_page=100", None).json();
        let mut names: Vec<String> = packages["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        assert_eq!(names, ["com.acme:lib", "com.acme:mid", "com.acme:tool"]);

        // Gradle 4.4 resolves `mid` and, through its POM, `lib`.
        let gradle = gradle_resolve(&s, Some(ADMIN), "com.acme:mid:1.0");
        assert!(gradle.iter().any(|f| f == "lib-1.0.jar"), "{gradle:?}");
        assert!(gradle.iter().any(|f| f == "mid-1.0.jar"), "{gradle:?}");

        // Refused deploys: a wrong password and no credentials at all, as Maven prints them.
        let wrong = Mvn::new(&s, Some("not-the-token"));
        let refused = wrong.project("lib", "9.0", &[], "\"x\"");
        let out = wrong.fails(&["deploy"], &refused);
        assert!(out.contains("401"), "{out}");
        let anonymous = Mvn::new(&s, None);
        let refused = anonymous.project("lib", "9.0", &[], "\"x\"");
        let out = anonymous.fails(&["deploy"], &refused);
        assert!(out.contains("401"), "{out}");
        assert_eq!(
            get(&s, Some(ADMIN), "com/acme/lib/9.0/lib-9.0.pom").status,
            404
        );
    }
}

/// Resolves `dependency` with Gradle 4.4 from the server (with a token, or anonymously); the
/// names of the files it got.
fn gradle_resolve(s: &TestServer, token: Option<&str>, dependency: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let credentials = token.map_or(String::new(), |t| {
        format!("credentials {{ username \"ci\"; password \"{t}\" }}")
    });
    std::fs::write(
        dir.path().join("build.gradle"),
        format!(
            r#"repositories {{
    maven {{
        url "{}"
        {credentials}
    }}
}}
configurations {{ deps }}
dependencies {{ deps "{dependency}" }}
task resolve(type: Copy) {{
    from configurations.deps
    into "$buildDir/deps"
}}
"#,
            repository(s)
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("settings.gradle"), "").unwrap();
    let out = Command::new("gradle")
        .args(["--no-daemon", "-q", "-g"])
        .arg(dir.path().join("gradle-home"))
        .arg("resolve")
        .current_dir(dir.path())
        .output()
        .expect("gradle is installed (scripts/services.sh)");
    assert!(out.status.success(), "gradle: {}", describe(&out));
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("build/deps"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Maven sends `Expect: 100-continue` on every PUT: the server must answer 100 at once, or each
/// upload waits out the client's timeout (about 3 s for mvn, 1 s for curl).
#[test]
fn expect_continue_is_answered_at_once() {
    use std::io::{Read, Write};
    for backend in backends() {
        let s = TestServer::start(backend);
        let addr = s.base.trim_start_matches("http://");
        let mut conn = std::net::TcpStream::connect(addr).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let body = b"<project/>";
        let started = Instant::now();
        write!(
            conn,
            "PUT {} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN}\r\n\
             Content-Length: 5\r\nExpect: 100-continue\r\n\r\n",
            path("com/acme/x/1.0/x-1.0.jar")
        )
        .unwrap();
        let mut buf = [0u8; 64];
        let n = conn.read(&mut buf).unwrap();
        let interim = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(
            interim.starts_with("HTTP/1.1 100"),
            "{backend:?}: {interim:?}"
        );
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "100 Continue took {:?}",
            started.elapsed()
        );
        conn.write_all(&body[..5]).unwrap();
        let mut rest = String::new();
        let _ = conn.read_to_string(&mut rest);
        assert!(rest.contains("201"), "{rest}");
    }
}

/// Our version order is Maven's: the order `mvn`'s own `ComparableVersion` prints for the same
/// list.
#[test]
fn version_order_matches_mvn() {
    let versions = [
        "1.0.1",
        "1.0",
        "1.0-alpha-1",
        "1.0-SNAPSHOT",
        "1.0-sp",
        "1.0-beta",
        "1.0-rc",
        "1",
        "1-ga",
        "1.0-alpha",
        "1.0-alpha2",
        "1.0-a1",
        "1.0-milestone-1",
        "1.0-m2",
        "1.0-cr1",
        "1.0-RC2",
        "1.0-final",
        "1.0.0.0",
        "1.0-1",
        "1.0-abc",
        "1.0-xyz",
        "2",
        "10",
        "1.10",
        "1.9",
        "1.2.3",
        "1.2.3-SNAPSHOT",
        "1.2.3.4",
        "1.2.3-4",
        "1.2.3.RELEASE",
        "2.0.0-M1",
        "0.9",
        "1.0.0-beta.1",
        "1.0.0-beta.2",
        "1.0.0-beta.10",
        "99999999999999999999",
        "1.0-20261201.101010-1",
        "3.0u1",
        "1.0.0.1-alpha",
    ];
    let ours = {
        let mut sorted: Vec<&str> = versions.to_vec();
        sorted.sort_by(|a, b| version_cmp(a, b));
        sorted
    };
    let jar = std::fs::read_dir("/usr/share/maven/lib")
        .expect("Debian's maven is installed (scripts/services.sh)")
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("maven-artifact")
        })
        .expect("maven-artifact jar");
    let out = Command::new("java")
        .arg("-cp")
        .arg(&jar)
        .arg("org.apache.maven.artifact.versioning.ComparableVersion")
        .args(&ours)
        .output()
        .expect("java");
    let printed = String::from_utf8_lossy(&out.stdout);
    let comparisons: Vec<&str> = printed
        .lines()
        .filter(|l| l.starts_with("   "))
        .map(str::trim)
        .collect();
    assert_eq!(comparisons.len(), ours.len() - 1, "{printed}");
    for (pair, line) in ours.windows(2).zip(&comparisons) {
        let expected = match version_cmp(pair[0], pair[1]) {
            std::cmp::Ordering::Less => "<",
            std::cmp::Ordering::Equal => "==",
            std::cmp::Ordering::Greater => ">",
        };
        assert_eq!(
            *line,
            format!("{} {expected} {}", pair[0], pair[1]),
            "mvn orders {} and {} otherwise",
            pair[0],
            pair[1]
        );
    }
}

/// Our order (the one the server's `maven-metadata.xml` lists versions in).
fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    cargoman::formats::maven::compare_versions(a, b)
}

/// A POM for `artifact` at `version` in group com.acme.
fn pom(artifact: &str, version: &str) -> String {
    format!(
        "<project><modelVersion>4.0.0</modelVersion><groupId>com.acme</groupId>\
         <artifactId>{artifact}</artifactId><version>{version}</version></project>"
    )
}

/// Publishes `lib` at `version` as mvn does (POM, jar, SHA-1s) with curl.
fn publish(s: &TestServer, artifact: &str, version: &str) -> Vec<u8> {
    let folder = format!("com/acme/{artifact}/{version}");
    let jar = format!("jar of {artifact} {version}").into_bytes();
    for (name, body) in [
        (
            format!("{artifact}-{version}.pom"),
            pom(artifact, version).into_bytes(),
        ),
        (format!("{artifact}-{version}.jar"), jar.clone()),
    ] {
        let r = put(s, Some(ADMIN), &format!("{folder}/{name}"), &body);
        assert_eq!(r.status, 201, "{name}: {}", r.text());
        let r = put(
            s,
            Some(ADMIN),
            &format!("{folder}/{name}.sha1"),
            sha1_hex(&body).as_bytes(),
        );
        assert_eq!(r.status, 201, "{name}.sha1: {}", r.text());
    }
    jar
}

#[test]
fn bad_input_is_refused_and_nothing_is_stored() {
    for backend in backends() {
        let s = TestServer::start_with(backend, &[("MAX_UPLOAD_SIZE", "2000")]);
        publish(&s, "lib", "1.0");
        let refused = |rest: &str, body: &[u8], status: u16, says: &str| {
            let r = put(&s, Some(ADMIN), rest, body);
            assert_eq!(r.status, status, "{backend:?} PUT {rest}: {}", r.text());
            assert!(r.text().contains(says), "PUT {rest}: {}", r.text());
        };
        // Path traversal in every segment (curl would normalize `..`, so encoded forms too).
        for rest in [
            "com/%2e%2e/lib/1.0/lib-1.0.jar",
            "com/acme/%2e%2e/1.0/lib-1.0.jar",
            "com/acme/lib/%2e%2e/lib-1.0.jar",
            "com/acme/lib/1.0/%2e%2e",
            "com/acme/lib%2f..%2fx/1.0/lib-1.0.jar",
            "com/acme/lib/1.0/..%5clib-1.0.jar",
        ] {
            refused(rest, b"x", 400, "not allowed");
        }
        // The file name must be the artifact's at the path's version.
        refused(
            "com/acme/lib/1.1/other-1.1.jar",
            b"x",
            400,
            "lib-1.1[-classifier].extension",
        );
        refused("com/acme/lib/1.1/lib-1.2.jar", b"x", 400, "must be lib-1.1");
        // POMs: not XML, another group, artifact or version than the path's.
        refused("com/acme/lib/1.1/lib-1.1.pom", b"not xml", 400, "not XML");
        refused(
            "com/acme/lib/1.1/lib-1.1.pom",
            b"<project><artifactId>",
            400,
            "POM",
        );
        let other_group = pom("lib", "1.1").replace("com.acme", "org.other");
        refused(
            "com/acme/lib/1.1/lib-1.1.pom",
            other_group.as_bytes(),
            400,
            "groupId",
        );
        refused(
            "com/acme/lib/1.1/lib-1.1.pom",
            pom("other", "1.1").as_bytes(),
            400,
            "artifactId",
        );
        refused(
            "com/acme/lib/1.1/lib-1.1.pom",
            pom("lib", "1.2").as_bytes(),
            400,
            "version",
        );
        // Too large.
        refused("com/acme/lib/1.1/lib-1.1.jar", &[7u8; 3000], 413, "limit");
        // A checksum that does not match, or is no checksum at all.
        refused(
            "com/acme/lib/1.0/lib-1.0.jar.sha1",
            "0".repeat(40).as_bytes(),
            400,
            "does not match",
        );
        refused(
            "com/acme/lib/1.0/lib-1.0.jar.md5",
            b"nope",
            400,
            "32 hex digits",
        );
        refused(
            "com/acme/lib/1.1/lib-1.1.jar.sha1",
            "0".repeat(40).as_bytes(),
            404,
            "before its checksum",
        );
        // Uploaded metadata naming another artifact, or not metadata.
        let meta = "<metadata><groupId>com.acme</groupId><artifactId>other</artifactId></metadata>";
        refused(
            "com/acme/lib/maven-metadata.xml",
            meta.as_bytes(),
            400,
            "artifactId",
        );
        refused("com/acme/lib/maven-metadata.xml", b"{}", 400, "not valid");
        // Nothing of it was stored: 1.1 does not exist, 1.0 is as published.
        assert_eq!(
            get(&s, Some(ADMIN), "com/acme/lib/1.1/lib-1.1.jar").status,
            404
        );
        assert_eq!(
            get(&s, Some(ADMIN), "com/acme/lib/1.1/lib-1.1.pom").status,
            404
        );
        let meta = text(&s, Some(ADMIN), "com/acme/lib/maven-metadata.xml");
        assert_eq!(listed_versions(&meta), ["1.0"]);
        assert_eq!(
            get(&s, Some(ADMIN), "com/acme/lib/1.0/lib-1.0.jar").body,
            b"jar of lib 1.0"
        );
        // Releases are immutable; matching checksums and metadata are taken.
        refused(
            "com/acme/lib/1.0/lib-1.0.jar",
            b"other",
            409,
            "already exists",
        );
        refused(
            "com/acme/lib/1.0/lib-1.0.pom",
            pom("lib", "1.0").as_bytes(),
            409,
            "already exists",
        );
        let good = "<metadata><groupId>com.acme</groupId><artifactId>lib</artifactId></metadata>";
        assert_eq!(
            put(
                &s,
                Some(ADMIN),
                "com/acme/lib/maven-metadata.xml",
                good.as_bytes()
            )
            .status,
            201
        );
        // A group's metadata, as a Maven plugin's deploy uploads it, is taken too.
        let group = "<metadata><groupId>com.acme</groupId><plugins/></metadata>";
        let r = put(
            &s,
            Some(ADMIN),
            "com/acme/maven-metadata.xml",
            group.as_bytes(),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        refused(
            "org/other/maven-metadata.xml",
            group.as_bytes(),
            400,
            "groupId",
        );
        // Every checksum of a stored file is served, computed when it was uploaded.
        let jar = b"jar of lib 1.0";
        let sha256 = text(&s, Some(ADMIN), "com/acme/lib/1.0/lib-1.0.jar.sha256");
        assert_eq!(sha256, cargoman::blobs::digest::sha256_hex(jar));
        assert_eq!(
            text(&s, Some(ADMIN), "com/acme/lib/1.0/lib-1.0.jar.md5").len(),
            32
        );
        assert_eq!(
            text(&s, Some(ADMIN), "com/acme/lib/1.0/lib-1.0.jar.sha512").len(),
            128
        );
        // Unknown things are 404, a folder lists its versions.
        assert_eq!(
            get(&s, Some(ADMIN), "com/acme/nope/maven-metadata.xml").status,
            404
        );
        assert_eq!(
            get(&s, Some(ADMIN), "com/acme/lib/2.0/lib-2.0.jar").status,
            404
        );
        let listing = get(&s, Some(ADMIN), "com/acme/lib/");
        assert_eq!(listing.status, 200);
        assert_eq!(listing.json()["versions"], json!(["1.0"]));
    }
}

#[test]
fn a_release_pom_may_be_redeployed_when_allowed_and_old_snapshot_builds_go() {
    for backend in backends() {
        let s = TestServer::start_with(
            backend,
            &[
                ("ALLOW_DESCRIPTOR_REDEPLOY", "true"),
                ("SNAPSHOT_BUILDS_KEPT", "2"),
            ],
        );
        publish(&s, "lib", "1.0");
        let new_pom = pom("lib", "1.0").replace("</version>", "</version><name>Fixed</name>");
        let r = put(
            &s,
            Some(ADMIN),
            "com/acme/lib/1.0/lib-1.0.pom",
            new_pom.as_bytes(),
        );
        assert_eq!(r.status, 201, "{backend:?}: {}", r.text());
        assert_eq!(
            text(&s, Some(ADMIN), "com/acme/lib/1.0/lib-1.0.pom"),
            new_pom
        );
        let r = put(&s, Some(ADMIN), "com/acme/lib/1.0/lib-1.0.jar", b"other");
        assert_eq!(r.status, 409, "the jar stays immutable: {}", r.text());
        let versions = api(
            &s,
            "GET",
            "/api/v1/owners/acme/packages/maven/com.acme:lib/versions",
            None,
        );
        assert_eq!(
            versions.json()["data"][0]["metadata"]["name"],
            "Fixed",
            "{}",
            versions.text()
        );

        // Three builds of a SNAPSHOT; only the newest two stay.
        for build in 1..=3 {
            let name = format!("lib-2.0-20261201.10101{build}-{build}");
            let folder = "com/acme/lib/2.0-SNAPSHOT";
            let r = put(
                &s,
                Some(ADMIN),
                &format!("{folder}/{name}.pom"),
                pom("lib", "2.0-SNAPSHOT").as_bytes(),
            );
            assert_eq!(r.status, 201, "{}", r.text());
            let r = put(
                &s,
                Some(ADMIN),
                &format!("{folder}/{name}.jar"),
                format!("build {build}").as_bytes(),
            );
            assert_eq!(r.status, 201, "{}", r.text());
        }
        let folder = "com/acme/lib/2.0-SNAPSHOT";
        assert_eq!(
            get(
                &s,
                Some(ADMIN),
                &format!("{folder}/lib-2.0-20261201.101011-1.jar")
            )
            .status,
            404
        );
        assert_eq!(
            get(
                &s,
                Some(ADMIN),
                &format!("{folder}/lib-2.0-20261201.101012-2.jar")
            )
            .status,
            200
        );
        assert_eq!(
            get(&s, Some(ADMIN), &format!("{folder}/lib-2.0-SNAPSHOT.jar")).body,
            b"build 3"
        );
        let meta = text(&s, Some(ADMIN), &format!("{folder}/maven-metadata.xml"));
        assert!(meta.contains("<buildNumber>3</buildNumber>"), "{meta}");
        assert!(
            meta.contains("<value>2.0-20261201.101013-3</value>"),
            "{meta}"
        );
        assert!(!meta.contains("-1</value>"), "{meta}");
        assert_eq!(
            text(
                &s,
                Some(ADMIN),
                &format!("{folder}/maven-metadata.xml.sha1")
            ),
            sha1_hex(meta.as_bytes())
        );
    }
}

/// Maven's clients cannot delete; the management API deletes a version of any format, and the
/// artifact's metadata follows.
#[test]
fn a_version_deleted_through_the_api_leaves_the_metadata() {
    for backend in backends() {
        let s = TestServer::start(backend);
        publish(&s, "lib", "1.0");
        publish(&s, "lib", "1.1");
        let deleted = api(
            &s,
            "DELETE",
            "/api/v1/owners/acme/packages/maven/com.acme:lib/versions/1.1",
            None,
        );
        assert_eq!(deleted.status, 204, "{backend:?}: {}", deleted.text());
        let meta = text(&s, Some(ADMIN), "com/acme/lib/maven-metadata.xml");
        assert_eq!(listed_versions(&meta), ["1.0"], "{meta}");
        assert!(meta.contains("<latest>1.0</latest>"), "{meta}");
        assert_eq!(
            get(&s, Some(ADMIN), "com/acme/lib/1.1/lib-1.1.jar").status,
            404
        );
        let again = api(
            &s,
            "DELETE",
            "/api/v1/owners/acme/packages/maven/com.acme:lib/versions/1.1",
            None,
        );
        assert_eq!(again.status, 404, "{}", again.text());
    }
}

#[test]
fn customers_resolve_only_granted_versions_and_public_owners_anonymously() {
    for backend in backends() {
        let s = TestServer::start(backend);
        for version in ["1.0", "1.5", "2.0"] {
            publish(&s, "lib", version);
        }
        publish(&s, "secret", "1.0");
        let r = api(
            &s,
            "POST",
            "/api/v1/customers",
            Some(&json!({"name": "Shop"})),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let (id, token) = (
            r.json()["data"]["id"].as_str().unwrap().to_string(),
            r.json()["data"]["token"].as_str().unwrap().to_string(),
        );
        // Its settings.xml server entry comes with the token.
        let settings = r.json()["data"]["maven_settings"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            settings.contains(&format!("<password>{token}</password>")),
            "{settings}"
        );
        assert!(settings.contains("<id>cargoman</id>"), "{settings}");
        let grant = json!({"format": "maven", "owner": OWNER, "package": "com.acme:lib",
                           "constraint": "[1.0,2.0)"});
        let r = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/packages"),
            Some(&grant),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let bad = json!({"format": "maven", "owner": OWNER, "package": "com.acme:lib",
                         "constraint": "[2.0,1.0]"});
        let r = api(
            &s,
            "POST",
            &format!("/api/v1/customers/{id}/packages"),
            Some(&bad),
        );
        assert_eq!(r.status, 400, "{}", r.text());

        let meta = text(&s, Some(&token), "com/acme/lib/maven-metadata.xml");
        assert_eq!(listed_versions(&meta), ["1.0", "1.5"], "{backend:?}");
        assert!(meta.contains("<release>1.5</release>"), "{meta}");
        assert_eq!(
            text(&s, Some(&token), "com/acme/lib/maven-metadata.xml.sha1"),
            sha1_hex(meta.as_bytes()),
            "a customer's checksum is its own copy's"
        );
        assert_eq!(
            get(&s, Some(&token), "com/acme/lib/1.5/lib-1.5.jar").status,
            200
        );
        let refused = get(&s, Some(&token), "com/acme/lib/2.0/lib-2.0.jar");
        assert_eq!(refused.status, 403);
        assert!(
            refused.text().contains("not within your grants"),
            "{}",
            refused.text()
        );
        assert_eq!(
            get(&s, Some(&token), "com/acme/lib/2.0/lib-2.0.jar.sha1").status,
            403
        );
        assert_eq!(
            get(&s, Some(&token), "com/acme/secret/maven-metadata.xml").status,
            404
        );
        assert_eq!(
            get(&s, Some(&token), "com/acme/secret/1.0/secret-1.0.jar").status,
            403
        );
        assert_eq!(
            get(&s, Some(&token), "com/acme/lib/").json()["versions"],
            json!(["1.0", "1.5"])
        );
        assert_eq!(
            put(&s, Some(&token), "com/acme/lib/3.0/lib-3.0.jar", b"x").status,
            403
        );

        // mvn as the customer: the highest granted version within a range, and nothing else.
        let customer = Mvn::new(&s, Some(&token));
        // (The jars published above are not real jars: resolve, do not compile.)
        let resolve = "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:resolve";
        let app = customer.project("app", "1.0", &[("lib", "[1.0,)")], "\"app\"");
        customer.ok(&[resolve], &app);
        let local = customer.home.path().join("m2/com/acme/lib");
        assert!(
            local.join("1.5/lib-1.5.jar").is_file(),
            "the newest granted version"
        );
        assert!(!local.join("2.0").exists(), "2.0 is not granted");
        let pinned = customer.project("pinned", "1.0", &[("lib", "2.0")], "\"x\"");
        let out = customer.fails(&[resolve], &pinned);
        assert!(out.contains("403"), "{out}");

        // A public owner: anonymous reads of everything, writes still need a token.
        assert_eq!(get(&s, None, "com/acme/lib/maven-metadata.xml").status, 401);
        make_public(&s, OWNER);
        for rest in [
            "com/acme/lib/maven-metadata.xml",
            "com/acme/lib/maven-metadata.xml.sha256",
            "com/acme/lib/2.0/lib-2.0.jar",
            "com/acme/lib/2.0/lib-2.0.jar.md5",
            "com/acme/lib/",
        ] {
            assert_eq!(get(&s, None, rest).status, 200, "anonymous {rest}");
        }
        let out = gradle_resolve(&s, None, "com.acme:lib:2.0");
        assert_eq!(out, ["lib-2.0.jar"]);
        let r = put(&s, None, "com/acme/lib/3.0/lib-3.0.jar", b"x");
        assert_eq!(r.status, 401);
        assert!(
            r.header("www-authenticate")
                .unwrap_or_default()
                .starts_with("Basic realm=")
        );
    }
}

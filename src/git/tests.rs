//! Tests for the Git layer. Throwaway repositories are made with the `git` CLI (only tests run
//! it); mirrors are then read back through the public API.

mod http_server;

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{GitAuth, GitError, Mirror, Reach, RefKind};

const T0: i64 = 1_700_000_000;

/// Runs git in `dir` with a fixed identity and `date` for new commits and tags; returns stdout.
fn git_at(dir: &Path, date: i64, args: &[&str]) -> String {
    let stamp = format!("@{date} +0000");
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.org")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.org")
        .env("GIT_AUTHOR_DATE", &stamp)
        .env("GIT_COMMITTER_DATE", &stamp)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn git(dir: &Path, args: &[&str]) -> String {
    git_at(dir, T0, args)
}

fn write(dir: &Path, path: &str, contents: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, contents).unwrap();
}

/// An upstream repository:
/// - `v1.0.0` (lightweight) at T0, `v1.1.0` (annotated) at T0+100 with a changed composer.json,
/// - `main` at v1.1.0, `feature/x` one commit further, `treetag` pointing at a tree (ignored),
/// - export-ignore rules in the root and in `packages/sub`, an executable, two symlinks.
struct Fixture {
    _tmp: tempfile::TempDir,
    upstream: PathBuf,
    cache: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let upstream = tmp.path().join("upstream");
        let cache = tmp.path().join("cache");
        std::fs::create_dir_all(&upstream).unwrap();
        let up = upstream.as_path();
        git(up, &["init", "-q", "-b", "main"]);
        write(
            up,
            "composer.json",
            r#"{"name":"acme/lib","version-note":"one"}"#,
        );
        write(up, "README.md", "readme\n");
        write(up, "src/Lib.php", "<?php class Lib {}\n");
        write(up, "tests/LibTest.php", "<?php // test\n");
        write(up, "docs/index.txt", "docs\n");
        write(
            up,
            "src/tests/Helper.php",
            "<?php // not the root tests folder\n",
        );
        write(up, "bin/tool", "#!/bin/sh\necho tool\n");
        write(
            up,
            ".gitattributes",
            "/tests export-ignore\n*.md export-ignore\ndocs/ export-ignore\n/.gitattributes export-ignore\n",
        );
        write(up, "packages/sub/composer.json", r#"{"name":"acme/sub"}"#);
        write(up, "packages/sub/src/A.php", "<?php class A {}\n");
        write(up, "packages/sub/tests/ATest.php", "<?php // sub test\n");
        write(up, "packages/sub/README.md", "sub readme\n");
        write(up, "packages/sub/.gitattributes", "/tests export-ignore\n");
        std::os::unix::fs::symlink("src/Lib.php", up.join("lib-link")).unwrap();
        std::os::unix::fs::symlink("../../etc/passwd", up.join("evil-link")).unwrap();
        std::fs::set_permissions(
            up.join("bin/tool"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        git(up, &["add", "-A"]);
        git_at(up, T0, &["commit", "-q", "-m", "first"]);
        git(up, &["tag", "v1.0.0"]);

        write(
            up,
            "composer.json",
            r#"{"name":"acme/lib","version-note":"two"}"#,
        );
        git_at(up, T0 + 100, &["commit", "-q", "-am", "second"]);
        git_at(
            up,
            T0 + 100,
            &["tag", "-a", "v1.1.0", "-m", "release 1.1.0"],
        );
        git(up, &["tag", "treetag", "HEAD^{tree}"]);

        git(up, &["checkout", "-q", "-b", "feature/x"]);
        write(up, "feature.txt", "feature\n");
        git(up, &["add", "feature.txt"]);
        git_at(up, T0 + 200, &["commit", "-q", "-m", "feature"]);
        git(up, &["checkout", "-q", "main"]);
        Fixture {
            _tmp: tmp,
            upstream,
            cache,
        }
    }

    fn rev(&self, spec: &str) -> String {
        git(&self.upstream, &["rev-parse", spec])
    }

    fn path_url(&self) -> String {
        self.upstream.to_str().unwrap().to_string()
    }

    fn file_url(&self) -> String {
        format!("file://{}", self.upstream.display())
    }
}

fn no_auth() -> GitAuth {
    GitAuth::default()
}

fn names(mirror: &Mirror, kind: RefKind) -> Vec<String> {
    let refs = mirror.refs().unwrap();
    refs.into_iter()
        .filter(|r| r.kind == kind)
        .map(|r| r.name)
        .collect()
}

fn zip_of(mirror: &Mirror, commit: &str, subdir: Option<&str>) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    mirror.archive_zip(commit, subdir, &mut out).unwrap();
    out.into_inner()
}

/// (name, unix mode, contents) of every entry, in archive order.
fn entries(zip: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().unwrap().to_string(), f.unix_mode().unwrap(), data)
        })
        .collect()
}

#[test]
fn sync_from_a_plain_path_lists_tags_and_branches() {
    let fx = Fixture::new();
    let mirror = Mirror::sync(&fx.cache, &fx.path_url(), &no_auth(), Reach::AllowLocal).unwrap();
    assert!(mirror.path().starts_with(&fx.cache));

    let refs = mirror.refs().unwrap();
    let tag = |name: &str| {
        refs.iter()
            .find(|r| r.kind == RefKind::Tag && r.name == name)
            .unwrap()
    };
    let branch = |name: &str| {
        refs.iter()
            .find(|r| r.kind == RefKind::Branch && r.name == name)
            .unwrap()
    };
    assert_eq!(
        names(&mirror, RefKind::Tag),
        ["v1.0.0", "v1.1.0"],
        "treetag names no commit"
    );
    assert_eq!(names(&mirror, RefKind::Branch), ["feature/x", "main"]);

    assert_eq!(tag("v1.0.0").commit, fx.rev("v1.0.0"));
    assert_eq!(tag("v1.0.0").time, T0);
    // The annotated tag is peeled to its commit, not the tag object.
    assert_eq!(tag("v1.1.0").commit, fx.rev("v1.1.0^{commit}"));
    assert_ne!(tag("v1.1.0").commit, fx.rev("v1.1.0"));
    assert_eq!(tag("v1.1.0").time, T0 + 100);
    assert_eq!(branch("main").commit, fx.rev("main"));
    assert_eq!(branch("feature/x").time, T0 + 200);
    assert_eq!(mirror.default_branch().unwrap().as_deref(), Some("main"));

    // The mirror keeps annotated tag objects, as a real mirror would.
    let kind = git(mirror.path(), &["cat-file", "-t", "refs/tags/v1.1.0"]);
    assert_eq!(kind, "tag");
    assert_eq!(
        git(mirror.path(), &["rev-parse", "--is-bare-repository"]),
        "true"
    );
}

#[test]
fn read_file_differs_between_tags() {
    let fx = Fixture::new();
    let mirror = Mirror::sync(&fx.cache, &fx.path_url(), &no_auth(), Reach::AllowLocal).unwrap();
    let v1 = fx.rev("v1.0.0");
    let v11 = fx.rev("v1.1.0^{commit}");
    let one = mirror.read_file(&v1, "composer.json").unwrap().unwrap();
    let two = mirror.read_file(&v11, "composer.json").unwrap().unwrap();
    assert_eq!(one, br#"{"name":"acme/lib","version-note":"one"}"#);
    assert_eq!(two, br#"{"name":"acme/lib","version-note":"two"}"#);
    // An annotated tag's own id is accepted and peeled.
    let by_tag_object = mirror
        .read_file(&fx.rev("v1.1.0"), "composer.json")
        .unwrap();
    assert_eq!(by_tag_object.as_deref(), Some(&two[..]));

    assert_eq!(
        mirror
            .read_file(&v1, "/packages/sub/composer.json")
            .unwrap()
            .unwrap(),
        br#"{"name":"acme/sub"}"#
    );
    assert_eq!(mirror.read_file(&v1, "missing.json").unwrap(), None);
    assert_eq!(
        mirror.read_file(&v1, "src").unwrap(),
        None,
        "a directory is no file"
    );
    assert_eq!(mirror.read_file(&v1, "feature.txt").unwrap(), None);
    assert_eq!(
        mirror.read_file(&v1, "lib-link").unwrap().unwrap(),
        b"src/Lib.php"
    );
}

#[test]
fn list_paths_gives_every_file() {
    let fx = Fixture::new();
    let mirror = Mirror::sync(&fx.cache, &fx.path_url(), &no_auth(), Reach::AllowLocal).unwrap();
    let paths = mirror.list_paths(&fx.rev("v1.0.0")).unwrap();
    assert_eq!(
        paths,
        [
            ".gitattributes",
            "README.md",
            "bin/tool",
            "composer.json",
            "docs/index.txt",
            "evil-link",
            "lib-link",
            "packages/sub/.gitattributes",
            "packages/sub/README.md",
            "packages/sub/composer.json",
            "packages/sub/src/A.php",
            "packages/sub/tests/ATest.php",
            "src/Lib.php",
            "src/tests/Helper.php",
            "tests/LibTest.php",
        ]
    );
}

#[test]
fn second_sync_prunes_deleted_refs_and_adds_new_ones_over_file_url() {
    let fx = Fixture::new();
    let url = fx.file_url();
    let first = Mirror::sync(&fx.cache, &url, &no_auth(), Reach::AllowLocal).unwrap();
    assert_eq!(names(&first, RefKind::Tag), ["v1.0.0", "v1.1.0"]);

    let up = fx.upstream.as_path();
    git(up, &["tag", "-d", "v1.0.0"]);
    git(up, &["branch", "-D", "feature/x"]);
    write(
        up,
        "composer.json",
        r#"{"name":"acme/lib","version-note":"three"}"#,
    );
    git_at(up, T0 + 300, &["commit", "-q", "-am", "third"]);
    git_at(up, T0 + 300, &["tag", "-a", "v2.0.0", "-m", "two"]);
    // A branch whose name needs the deleted `feature/x` out of the way first.
    git(up, &["branch", "feature"]);
    // A tag moved upstream (forced), which a mirror follows.
    git(up, &["tag", "-f", "v1.1.0", "HEAD"]);

    let second = Mirror::sync(&fx.cache, &url, &no_auth(), Reach::AllowLocal).unwrap();
    assert_eq!(second.path(), first.path(), "same URL, same mirror");
    assert_eq!(names(&second, RefKind::Tag), ["v1.1.0", "v2.0.0"]);
    assert_eq!(names(&second, RefKind::Branch), ["feature", "main"]);
    let refs = second.refs().unwrap();
    let v2 = refs.iter().find(|r| r.name == "v2.0.0").unwrap();
    assert_eq!(v2.commit, fx.rev("main"));
    assert_eq!(v2.time, T0 + 300);
    let moved = refs.iter().find(|r| r.name == "v1.1.0").unwrap();
    assert_eq!(moved.commit, fx.rev("main"));
    assert_eq!(
        second
            .read_file(&v2.commit, "composer.json")
            .unwrap()
            .unwrap(),
        br#"{"name":"acme/lib","version-note":"three"}"#
    );
    // `open` sees the same state.
    let reopened = Mirror::open(second.path()).unwrap();
    assert_eq!(names(&reopened, RefKind::Tag), ["v1.1.0", "v2.0.0"]);
}

#[test]
fn file_url_and_plain_path_are_separate_cache_entries_with_equal_content() {
    let fx = Fixture::new();
    let a = Mirror::sync(&fx.cache, &fx.file_url(), &no_auth(), Reach::AllowLocal).unwrap();
    let b = Mirror::sync(&fx.cache, &fx.path_url(), &no_auth(), Reach::AllowLocal).unwrap();
    assert_ne!(a.path(), b.path());
    let commits = |m: &Mirror| {
        m.refs()
            .unwrap()
            .into_iter()
            .map(|r| (r.name, r.commit))
            .collect::<Vec<_>>()
    };
    assert_eq!(commits(&a), commits(&b));
}

#[test]
fn zip_honours_export_ignore_and_modes() {
    let fx = Fixture::new();
    let mirror = Mirror::sync(&fx.cache, &fx.path_url(), &no_auth(), Reach::AllowLocal).unwrap();
    let zip = zip_of(&mirror, &fx.rev("v1.0.0"), None);
    let entries = entries(&zip);
    let listed: Vec<&str> = entries.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        listed,
        [
            "bin/tool",
            "composer.json",
            "lib-link",
            // the root .gitattributes' `/tests` is anchored, and `*.md` applies in subfolders
            "packages/sub/.gitattributes",
            "packages/sub/composer.json",
            "packages/sub/src/A.php",
            "src/Lib.php",
            "src/tests/Helper.php",
        ],
        "README.md, docs/, tests/, .gitattributes, packages/sub/tests and evil-link left out"
    );
    let get = |name: &str| entries.iter().find(|(n, _, _)| n == name).unwrap();
    assert_eq!(get("bin/tool").1, 0o100755);
    assert_eq!(get("composer.json").1, 0o100644);
    assert_eq!(
        get("composer.json").2,
        br#"{"name":"acme/lib","version-note":"one"}"#
    );
    assert_eq!(
        get("lib-link").1 & 0o170000,
        0o120000,
        "stored as a symlink"
    );
    assert_eq!(get("lib-link").2, b"src/Lib.php");

    let mut archive = zip::ZipArchive::new(Cursor::new(&zip)).unwrap();
    let file = archive.by_name("src/Lib.php").unwrap();
    assert_eq!(file.compression(), zip::CompressionMethod::Deflated);
    let t = file.last_modified().unwrap();
    // T0 = 2023-11-14 22:13:20 UTC
    assert_eq!(
        (
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        (2023, 11, 14, 22, 13, 20)
    );
}

#[test]
fn zip_is_reproducible_and_follows_the_commit() {
    let fx = Fixture::new();
    let mirror = Mirror::sync(&fx.cache, &fx.path_url(), &no_auth(), Reach::AllowLocal).unwrap();
    let v1 = fx.rev("v1.0.0");
    let a = zip_of(&mirror, &v1, None);
    let b = zip_of(&mirror, &v1, None);
    assert_eq!(a, b, "byte-identical");
    // Also from a second, independent mirror (file:// URL) of the same repository.
    let other = Mirror::sync(&fx.cache, &fx.file_url(), &no_auth(), Reach::AllowLocal).unwrap();
    assert_eq!(zip_of(&other, &v1, None), a);

    let later = zip_of(&mirror, &fx.rev("v1.1.0"), None);
    assert_ne!(later, a);
    let composer = entries(&later)
        .into_iter()
        .find(|(n, _, _)| n == "composer.json")
        .unwrap();
    assert_eq!(composer.2, br#"{"name":"acme/lib","version-note":"two"}"#);
}

#[test]
fn zip_of_a_subdir_puts_its_contents_at_the_root() {
    let fx = Fixture::new();
    let mirror = Mirror::sync(&fx.cache, &fx.path_url(), &no_auth(), Reach::AllowLocal).unwrap();
    let zip = zip_of(&mirror, &fx.rev("v1.0.0"), Some("packages/sub/"));
    let listed: Vec<String> = entries(&zip).into_iter().map(|(n, _, _)| n).collect();
    // sub's own `/tests` and the root's `*.md` apply; its .gitattributes is not ignored by anyone.
    assert_eq!(listed, [".gitattributes", "composer.json", "src/A.php"]);

    let err = mirror
        .archive_zip(
            &fx.rev("v1.0.0"),
            Some("nope"),
            &mut Cursor::new(Vec::new()),
        )
        .unwrap_err();
    assert!(matches!(err, GitError::NoSuchDirectory(..)), "{err}");
    let err = mirror
        .archive_zip(
            &fx.rev("v1.0.0"),
            Some("composer.json"),
            &mut Cursor::new(Vec::new()),
        )
        .unwrap_err();
    assert!(matches!(err, GitError::NoSuchDirectory(..)), "{err}");
}

#[test]
fn a_root_rule_excluding_the_subdir_does_not_empty_its_zip() {
    let fx = Fixture::new();
    let up = fx.upstream.as_path();
    write(up, ".gitattributes", "/packages export-ignore\n");
    git(
        up,
        &["commit", "-q", "-am", "monorepo root excludes packages"],
    );
    let mirror = Mirror::sync(&fx.cache, &fx.path_url(), &no_auth(), Reach::AllowLocal).unwrap();
    let head = fx.rev("main");
    let root: Vec<String> = entries(&zip_of(&mirror, &head, None))
        .into_iter()
        .map(|(n, _, _)| n)
        .collect();
    assert!(!root.iter().any(|n| n.starts_with("packages/")), "{root:?}");
    let sub: Vec<String> = entries(&zip_of(&mirror, &head, Some("packages/sub")))
        .into_iter()
        .map(|(n, _, _)| n)
        .collect();
    assert_eq!(
        sub,
        [".gitattributes", "README.md", "composer.json", "src/A.php"]
    );
}

#[test]
fn bad_commits_give_clear_errors() {
    let fx = Fixture::new();
    let mirror = Mirror::sync(&fx.cache, &fx.path_url(), &no_auth(), Reach::AllowLocal).unwrap();
    let err = mirror.read_file("v1.0.0", "composer.json").unwrap_err();
    assert!(matches!(err, GitError::InvalidCommit(_)), "{err}");
    let unknown = "0123456789abcdef0123456789abcdef01234567";
    let err = mirror.list_paths(unknown).unwrap_err();
    assert!(matches!(err, GitError::UnknownCommit(_)), "{err}");
    assert!(err.to_string().contains(unknown));
    let tree = fx.rev("v1.0.0^{tree}");
    let err = mirror.read_file(&tree, "composer.json").unwrap_err();
    assert!(matches!(err, GitError::UnknownCommit(_)), "{err}");
}

#[test]
fn local_repositories_are_refused_unless_allowed() {
    let fx = Fixture::new();
    for url in [fx.path_url(), fx.file_url()] {
        let err = Mirror::sync(&fx.cache, &url, &no_auth(), Reach::PublicOnly).unwrap_err();
        assert!(matches!(err, GitError::NotAllowed { .. }), "{err}");
        assert!(err.to_string().contains("GIT_ALLOW_LOCAL"), "{err}");
    }
    // Refused before anything was fetched or created.
    assert!(!fx.cache.exists(), "{}", fx.cache.display());
}

#[test]
fn unreachable_repositories_fail_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let missing = tmp.path().join("does-not-exist");

    let err = Mirror::sync(
        &cache,
        missing.to_str().unwrap(),
        &no_auth(),
        Reach::AllowLocal,
    )
    .unwrap_err();
    assert!(matches!(err, GitError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("does-not-exist"), "{err}");
    let err = Mirror::sync(
        &cache,
        &format!("file://{}", missing.display()),
        &no_auth(),
        Reach::AllowLocal,
    )
    .unwrap_err();
    assert!(matches!(err, GitError::Unreachable { .. }), "{err}");

    // Nothing listens on port 9 of loopback: connection refused, quickly.
    let err = Mirror::sync(
        &cache,
        "http://127.0.0.1:9/acme/lib.git",
        &no_auth(),
        Reach::AllowLocal,
    )
    .unwrap_err();
    assert!(matches!(err, GitError::Unreachable { .. }), "{err}");
    let err = Mirror::sync(
        &cache,
        "git://127.0.0.1:9/acme/lib.git",
        &no_auth(),
        Reach::AllowLocal,
    )
    .unwrap_err();
    assert!(matches!(err, GitError::Unreachable { .. }), "{err}");

    let err = Mirror::sync(
        &cache,
        "git@github.com:acme/lib.git",
        &no_auth(),
        Reach::AllowLocal,
    )
    .unwrap_err();
    assert!(matches!(err, GitError::UnsupportedUrl { .. }), "{err}");
    let err = Mirror::sync(
        &cache,
        "ssh://git@example.org/acme/lib.git",
        &no_auth(),
        Reach::AllowLocal,
    )
    .unwrap_err();
    assert!(matches!(err, GitError::UnsupportedUrl { .. }), "{err}");

    // Failed clones leave no directory behind.
    let left: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");

    let err = Mirror::open(&missing).unwrap_err();
    assert!(matches!(err, GitError::NotARepository { .. }), "{err}");
}

#[test]
fn credentials_in_urls_stay_out_of_messages() {
    let err = Mirror::sync(
        tempfile::tempdir().unwrap().path(),
        "http://bob:s3cret@127.0.0.1:9/acme/lib.git",
        &no_auth(),
        Reach::AllowLocal,
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("s3cret"), "{text}");
    assert!(text.contains("bob:***@127.0.0.1:9"), "{text}");
    assert_eq!(
        format!(
            "{:?}",
            GitAuth {
                user: Some("u".into()),
                token: Some("tok".into())
            }
        ),
        r#"GitAuth { user: Some("u"), token: Some("<redacted>") }"#
    );
}

#[test]
fn http_auth_is_required_and_never_sent_in_clear_text() {
    let fx = Fixture::new();
    let root = fx.upstream.parent().unwrap().to_path_buf();
    let server = http_server::GitHttpServer::start(root, Some(("alice", "t0ken")));
    let url = server.url("upstream");

    let err = Mirror::sync(&fx.cache, &url, &no_auth(), Reach::AllowLocal).unwrap_err();
    assert!(matches!(err, GitError::Auth { .. }), "{err}");
    assert!(err.to_string().contains("none are configured"), "{err}");
    // gix will not send a password over plain http (https only); that reads as an auth failure.
    let auth = GitAuth {
        user: Some("alice".into()),
        token: Some("t0ken".into()),
    };
    let err = Mirror::sync(&fx.cache, &url, &auth, Reach::AllowLocal).unwrap_err();
    assert!(matches!(err, GitError::Auth { .. }), "{err}");
    assert!(err.to_string().contains("clear text"), "{err}");
    assert!(!err.to_string().contains("t0ken"), "{err}");
}

#[test]
fn credentials_go_only_to_the_synced_host() {
    use gix::credentials::helper::Action;
    let get = |url: &str| Action::get_for_url(url);
    let outcome = super::mirror::credentials(
        get("https://git.example.org/a.git"),
        Some("git.example.org"),
        None,
        Some("tok"),
    )
    .unwrap()
    .unwrap();
    assert_eq!(outcome.identity.username, "x-access-token");
    assert_eq!(outcome.identity.password, "tok");
    let outcome = super::mirror::credentials(
        get("https://GIT.example.org/a.git"),
        Some("git.example.org"),
        Some("bob"),
        Some("tok"),
    )
    .unwrap()
    .unwrap();
    assert_eq!(outcome.identity.username, "bob");
    // A redirect to another host gets nothing; no token, nothing; store/erase are no-ops.
    assert!(
        super::mirror::credentials(
            get("https://evil.example.com/a.git"),
            Some("git.example.org"),
            None,
            Some("tok")
        )
        .unwrap()
        .is_none()
    );
    assert!(
        super::mirror::credentials(
            get("https://git.example.org/a.git"),
            Some("git.example.org"),
            Some("bob"),
            None
        )
        .unwrap()
        .is_none()
    );
    assert!(
        super::mirror::credentials(
            Action::Store("x".into()),
            Some("git.example.org"),
            None,
            Some("tok")
        )
        .unwrap()
        .is_none()
    );
}

#[test]
fn sync_over_smart_http_prunes_and_adds() {
    let fx = Fixture::new();
    let server =
        http_server::GitHttpServer::start(fx.upstream.parent().unwrap().to_path_buf(), None);
    let url = server.url("upstream");
    let mirror = Mirror::sync(&fx.cache, &url, &no_auth(), Reach::AllowLocal).unwrap();
    assert_eq!(names(&mirror, RefKind::Tag), ["v1.0.0", "v1.1.0"]);
    assert_eq!(names(&mirror, RefKind::Branch), ["feature/x", "main"]);
    assert_eq!(mirror.default_branch().unwrap().as_deref(), Some("main"));
    let v11 = fx.rev("v1.1.0^{commit}");
    assert_eq!(
        mirror.read_file(&v11, "composer.json").unwrap().unwrap(),
        br#"{"name":"acme/lib","version-note":"two"}"#
    );
    // Same archive as from a local mirror: the bytes depend on the commit only.
    let local = Mirror::sync(&fx.cache, &fx.path_url(), &no_auth(), Reach::AllowLocal).unwrap();
    assert_eq!(zip_of(&mirror, &v11, None), zip_of(&local, &v11, None));

    let up = fx.upstream.as_path();
    git(up, &["tag", "-d", "v1.0.0"]);
    git(up, &["branch", "-D", "feature/x"]);
    git(up, &["branch", "feature"]);
    write(up, "new.txt", "new\n");
    git(up, &["add", "new.txt"]);
    git_at(up, T0 + 400, &["commit", "-q", "-m", "new"]);
    git(up, &["tag", "v3.0.0"]);
    git(up, &["tag", "-f", "-a", "v1.1.0", "-m", "moved"]);
    let again = Mirror::sync(&fx.cache, &url, &no_auth(), Reach::AllowLocal).unwrap();
    assert_eq!(names(&again, RefKind::Tag), ["v1.1.0", "v3.0.0"]);
    assert_eq!(names(&again, RefKind::Branch), ["feature", "main"]);
    let v3 = fx.rev("v3.0.0");
    assert_eq!(again.read_file(&v3, "new.txt").unwrap().unwrap(), b"new\n");
    let moved = again
        .refs()
        .unwrap()
        .into_iter()
        .find(|r| r.name == "v1.1.0")
        .unwrap();
    assert_eq!(moved.commit, v3);
}

#[test]
fn missing_http_repository_is_unreachable() {
    let fx = Fixture::new();
    let server =
        http_server::GitHttpServer::start(fx.upstream.parent().unwrap().to_path_buf(), None);
    let err = Mirror::sync(
        &fx.cache,
        &server.url("nope"),
        &no_auth(),
        Reach::AllowLocal,
    )
    .unwrap_err();
    assert!(matches!(err, GitError::Unreachable { .. }), "{err}");
}

/// The way the Composer service calls it: from `spawn_blocking` inside a multi-threaded runtime
/// (gix's reqwest transport runs its own blocking client, which must not panic there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_over_http_from_spawn_blocking() {
    let fx = Fixture::new();
    let server =
        http_server::GitHttpServer::start(fx.upstream.parent().unwrap().to_path_buf(), None);
    let url = server.url("upstream");
    let cache = fx.cache.clone();
    let refs = tokio::task::spawn_blocking(move || {
        Mirror::sync(&cache, &url, &GitAuth::default(), Reach::AllowLocal)?.refs()
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(refs.len(), 4);
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sync_over_git_daemon() {
    let fx = Fixture::new();
    let root = fx.upstream.parent().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    // The daemon binary itself, not `git daemon`: killing the `git` wrapper would orphan it.
    let exec_path = PathBuf::from(git(root, &["--exec-path"]));
    let daemon = Command::new(exec_path.join("git-daemon"))
        .args([
            "--export-all",
            "--reuseaddr",
            "--listen=127.0.0.1",
            &format!("--port={port}"),
            &format!("--base-path={}", root.display()),
            &root.display().to_string(),
        ])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("git daemon starts");
    let _daemon = KillOnDrop(daemon);
    let ready = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(ready, "git daemon listening");
    let url = format!("git://127.0.0.1:{port}/upstream");
    let mirror = Mirror::sync(&fx.cache, &url, &no_auth(), Reach::AllowLocal).unwrap();
    assert_eq!(names(&mirror, RefKind::Tag), ["v1.0.0", "v1.1.0"]);
    assert_eq!(mirror.default_branch().unwrap().as_deref(), Some("main"));
}

#[test]
fn a_broken_cache_entry_is_rebuilt() {
    let fx = Fixture::new();
    let mirror = Mirror::sync(&fx.cache, &fx.path_url(), &no_auth(), Reach::AllowLocal).unwrap();
    let path = mirror.path().to_path_buf();
    drop(mirror);
    std::fs::remove_dir_all(path.join("objects")).unwrap();
    std::fs::remove_file(path.join("HEAD")).unwrap();
    let mirror = Mirror::sync(&fx.cache, &fx.path_url(), &no_auth(), Reach::AllowLocal).unwrap();
    assert_eq!(mirror.path(), path);
    assert_eq!(names(&mirror, RefKind::Tag), ["v1.0.0", "v1.1.0"]);
}

#[test]
fn stale_lock_files_do_not_wedge_a_mirror() {
    let fx = Fixture::new();
    let mirror = Mirror::sync(&fx.cache, &fx.path_url(), &no_auth(), Reach::AllowLocal).unwrap();
    let lock = mirror.path().join("refs/tags/v1.0.0.lock");
    std::fs::write(&lock, "").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&lock)
        .unwrap()
        .set_modified(old)
        .unwrap();
    git(&fx.upstream, &["tag", "-f", "v1.0.0", "main"]);
    let mirror = Mirror::sync(&fx.cache, &fx.path_url(), &no_auth(), Reach::AllowLocal).unwrap();
    assert!(!lock.exists());
    let v1 = mirror
        .refs()
        .unwrap()
        .into_iter()
        .find(|r| r.name == "v1.0.0")
        .unwrap();
    assert_eq!(v1.commit, fx.rev("main"));
}

#[test]
fn empty_repositories_sync_to_empty_mirrors() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    git(&empty, &["init", "-q", "-b", "trunk"]);
    let cache = tmp.path().join("cache");
    let local = Mirror::sync(
        &cache,
        empty.to_str().unwrap(),
        &no_auth(),
        Reach::AllowLocal,
    )
    .unwrap();
    assert!(local.refs().unwrap().is_empty());
    assert_eq!(local.default_branch().unwrap(), None);

    let server = http_server::GitHttpServer::start(tmp.path().to_path_buf(), None);
    let remote = Mirror::sync(&cache, &server.url("empty"), &no_auth(), Reach::AllowLocal).unwrap();
    assert!(remote.refs().unwrap().is_empty());
}

//! Creating and updating bare mirrors: where they live, network fetches, and making local refs
//! equal the remote's (gix has no `fetch --prune`, so pruning is done here).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use gix::bstr::{BString, ByteSlice};
use gix::credentials::helper::Action;
use gix::credentials::protocol::Outcome;

use super::error::{GitError, chain, redact};
use super::reach::{Reach, check_url};
use super::repo::{open_options, prune, set_head};
use super::source::{Source, parse_source};
use super::{GitAuth, Mirror, local};

/// Branches and tags mirrored one to one; `+` because upstream may force-push or move a tag.
const REFSPECS: [&str; 2] = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];

/// Username sent with a token when none is configured; GitHub, Gitea and GitLab accept any name
/// with a token as the password.
const TOKEN_USER: &str = "x-access-token";

pub(super) fn open(path: &Path) -> Result<Mirror, GitError> {
    let repo = gix::open_opts(path, open_options()).map_err(|e| GitError::NotARepository {
        path: path.to_path_buf(),
        message: chain(&e),
    })?;
    Ok(Mirror {
        path: path.to_path_buf(),
        repo: repo.into_sync(),
    })
}

pub(super) fn sync(
    cache_root: &Path,
    url: &str,
    auth: &GitAuth,
    reach: Reach,
) -> Result<Mirror, GitError> {
    check_url(url, reach)?;
    let source = parse_source(url)?;
    std::fs::create_dir_all(cache_root)?;
    let key = cache_key(url);
    let dir = cache_root.join(&key);
    remove_stale(cache_root, &dir);
    if dir.exists() {
        match gix::open_opts(&dir, open_options()) {
            Ok(repo) => {
                update(&repo, &source, url, auth, reach)?;
                return open(&dir);
            }
            // A cache entry we cannot open (interrupted delete, disk trouble) is rebuilt.
            Err(err) => {
                tracing::warn!(path = %dir.display(), error = %err, "git mirror unreadable; cloning again");
                std::fs::remove_dir_all(&dir)?;
            }
        }
    }
    // Clone into a private directory and rename it into place: a failed or interrupted clone never
    // leaves a half-filled mirror where the next sync would trust it.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = cache_root.join(format!(".tmp-{key}-{}-{nanos}", std::process::id()));
    let cloned = init_bare(&tmp, url).and_then(|repo| update(&repo, &source, url, auth, reach));
    if let Err(err) = cloned {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(err);
    }
    if let Err(err) = std::fs::rename(&tmp, &dir) {
        let _ = std::fs::remove_dir_all(&tmp);
        // Another sync of the same URL finished first; its mirror is as good as ours.
        if !dir.exists() {
            return Err(err.into());
        }
    }
    open(&dir)
}

/// A lock file this old belongs to a sync that crashed or was killed; git itself would refuse to
/// touch the ref forever, wedging the package. Syncs take seconds to minutes.
const STALE_LOCK: std::time::Duration = std::time::Duration::from_secs(30 * 60);
/// Temporary clone directories of crashed syncs.
const STALE_CLONE: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Best effort: removes leftovers of interrupted syncs (ref locks in `mirror`, old temporary
/// clones in `cache_root`). Failures are ignored; the sync then reports the real problem.
fn remove_stale(cache_root: &Path, mirror: &Path) {
    fn older_than(path: &Path, age: std::time::Duration) -> bool {
        std::fs::symlink_metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|e| e > age)
    }
    fn locks(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                locks(&path, found);
            } else if path.extension().is_some_and(|e| e == "lock") {
                found.push(path);
            }
        }
    }
    let mut found = vec![mirror.join("HEAD.lock"), mirror.join("packed-refs.lock")];
    locks(&mirror.join("refs"), &mut found);
    for lock in found {
        if older_than(&lock, STALE_LOCK) {
            tracing::warn!(path = %lock.display(), "removing stale git lock file");
            let _ = std::fs::remove_file(&lock);
        }
    }
    for entry in std::fs::read_dir(cache_root)
        .into_iter()
        .flatten()
        .flatten()
    {
        let path = entry.path();
        let is_tmp = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(".tmp-"));
        if is_tmp && older_than(&path, STALE_CLONE) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// `sha256(url)` as 32 hex digits: stable, filesystem-safe, and no credentials in directory names.
fn cache_key(url: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, url.as_bytes());
    hex::encode(&digest.as_ref()[..16])
}

fn init_bare(path: &Path, url: &str) -> Result<gix::Repository, GitError> {
    let repo = gix::ThreadSafeRepository::init_opts(
        path,
        gix::create::Kind::Bare,
        gix::create::Options::default(),
        open_options(),
    )
    .map_err(|e| GitError::NotARepository {
        path: path.to_path_buf(),
        message: format!("cannot create a bare repository: {}", chain(&e)),
    })?;
    // For whoever looks into the cache directory: which repository this hash is.
    std::fs::write(path.join("description"), format!("{}\n", redact(url)))?;
    Ok(repo.to_thread_local())
}

fn update(
    repo: &gix::Repository,
    source: &Source,
    url: &str,
    auth: &GitAuth,
    reach: Reach,
) -> Result<(), GitError> {
    match source {
        Source::Local(path) => local::fetch(repo, path, url),
        Source::Remote(remote_url) => fetch_remote(repo, remote_url, url, auth, reach),
    }
}

fn fetch_remote(
    repo: &gix::Repository,
    remote_url: &gix::Url,
    url: &str,
    auth: &GitAuth,
    reach: Reach,
) -> Result<(), GitError> {
    let failed = |err: gix::Error, phase: Phase| network_error(err, url, auth, phase);
    let mut repo = repo.clone();
    if reach == Reach::PublicOnly {
        // A public server could redirect the fetch to a local address the URL check refused.
        let mut config = repo.config_snapshot_mut();
        config
            .set_value(&gix::config::tree::Http::FOLLOW_REDIRECTS, "false")
            .map_err(GitError::repo)?;
        config.commit().map_err(GitError::repo)?;
    }
    let remote = repo
        .remote_at(remote_url.clone())
        .and_then(|r| r.with_refspecs(REFSPECS, gix::remote::Direction::Fetch))
        .map_err(|e| failed(e, Phase::Connect))?
        // The tag refspec above already takes every tag; no implied non-forced one on top.
        .with_fetch_tags(gix::remote::fetch::Tags::None);
    let host = remote_url.host().map(str::to_owned);
    let (user, token) = (auth.user.clone(), auth.token.clone());
    let options = gix::remote::ref_map::Options {
        // Listing HEAD tells us the remote's default branch (a symref) at no extra cost.
        extra_refspecs: vec![
            gix::refspec::parse("HEAD".into(), gix::refspec::parse::Operation::Fetch)
                .expect("valid refspec")
                .to_owned(),
        ],
        ..Default::default()
    };
    let prepare = remote
        .connect(gix::remote::Direction::Fetch)
        .map_err(|e| failed(e, Phase::Connect))?
        .with_credentials(move |action| {
            credentials(action, host.as_deref(), user.as_deref(), token.as_deref())
        })
        .prepare_fetch(gix::progress::Discard, options)
        .map_err(|e| failed(e, Phase::Connect))?;

    let ref_map = prepare.ref_map();
    let keep: BTreeSet<BString> = ref_map
        .mappings
        .iter()
        .filter_map(|m| m.local.clone())
        .collect();
    let remote_head = ref_map.remote_refs.iter().find_map(|r| match r {
        gix::protocol::handshake::Ref::Symbolic {
            full_ref_name,
            target,
            ..
        } if full_ref_name == "HEAD" => Some(target.clone()),
        _ => None,
    });
    // Prune before receiving: deleting `refs/heads/a` first lets a new `refs/heads/a/b` be written.
    prune(&repo, &keep)?;
    if !keep.is_empty() {
        prepare
            .receive(gix::progress::Discard, &AtomicBool::new(false))
            .map_err(|e| failed(e, Phase::Fetch))?;
    }
    set_head(&repo, remote_head.as_ref().map(|t| t.as_bstr()))
}

#[derive(Clone, Copy)]
enum Phase {
    Connect,
    Fetch,
}

fn network_error(err: gix::Error, url: &str, auth: &GitAuth, phase: Phase) -> GitError {
    let redacted = redact(url);
    let mut message = chain(&err).replace(url, &redacted);
    if let Some(token) = auth.token.as_deref().filter(|t| !t.is_empty()) {
        message = message.replace(token, "***");
    }
    // gix refuses to send credentials over plain http; that is an authentication problem too.
    let refused = err.iter_errors().any(|e| {
        matches!(
            e.downcast_ref::<gix::protocol::transport::client::Error>(),
            Some(gix::protocol::transport::client::Error::AuthenticationRefused(_))
        )
    });
    if refused || err.is_unauthenticated() || err.is_permission_denied() {
        if auth.token.is_none() {
            // gix's own wording ("no credentials were returned … credential helper") misleads here.
            message =
                format!("the server requires credentials and none are configured ({message})");
        }
        return GitError::Auth {
            url: redacted,
            message,
        };
    }
    match phase {
        Phase::Connect => GitError::Unreachable {
            url: redacted,
            message,
        },
        Phase::Fetch => GitError::Fetch {
            url: redacted,
            message,
        },
    }
}

/// Answers gix's credential requests from [`GitAuth`] only (never helpers or prompts), and only
/// for the host being synced, so a redirect elsewhere does not receive the token.
pub(super) fn credentials(
    action: Action,
    host: Option<&str>,
    user: Option<&str>,
    token: Option<&str>,
) -> gix::Result<Option<Outcome>> {
    let Action::Get(context) = action else {
        return Ok(None); // nothing to store or erase
    };
    let Some(token) = token else {
        return Ok(None);
    };
    let asked_host = context
        .url
        .as_ref()
        .and_then(|u| gix::url::parse(u.as_bstr()).ok())
        .and_then(|u| u.host().map(str::to_ascii_lowercase));
    if asked_host.as_deref() != host.map(str::to_ascii_lowercase).as_deref() {
        return Ok(None);
    }
    Ok(Some(Outcome {
        identity: gix::sec::identity::Account {
            username: user.unwrap_or(TOKEN_USER).to_owned(),
            password: token.to_owned(),
            oauth_refresh_token: None,
        },
        next: context.into(),
    }))
}

//! Syncing a Composer package from its Git repository: tags become versions, branches dev
//! versions; each version keeps its composer.json and a dist zip built from the tree. Refs that
//! give no valid version are skipped with a reason and never stop the others.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::metadata::{self, VersionFacts};
use super::version::{branch_version, normalize, version_from_tag};
use super::{Composer, FORMAT, OWNER};
use crate::blobs::{ExtraDigests, PutOptions, file_stream};
use crate::error::{Error, Result};
use crate::git::{GitAuth, GitRef, Mirror, Reach, RefKind};
use crate::model::documents;
use crate::model::git_sources::GitSource;
use crate::model::packages::{self, FileCoord, Package};
use crate::model::properties::{self, RefType};
use crate::model::{git_sources, owners};
use crate::registry::Publish;

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub reference: String,
    pub reason: String,
}

#[derive(Debug, Default, Serialize)]
pub struct SyncReport {
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
    pub skipped: Vec<Skipped>,
}

/// Archives built at once during a sync.
const PARALLEL_BUILDS: usize = 4;

/// Name of the stored document holding the newest version's README.
pub const README_DOCUMENT: &str = "readme";
/// Version properties that change how a version is published.
const YANKED: &str = "yanked";
const DEPRECATED: &str = "deprecated";

struct Inspection {
    mirror: PathBuf,
    candidates: Vec<Candidate>,
    skipped: Vec<Skipped>,
    readme: Option<Value>,
}

/// A ref that holds a valid version.
struct Candidate {
    version: String,
    normalized: String,
    commit: String,
    time: i64,
    composer: Map<String, Value>,
}

fn ref_label(r: &GitRef) -> String {
    match r.kind {
        RefKind::Tag => format!("tag {}", r.name),
        RefKind::Branch => format!("branch {}", r.name),
    }
}

/// Reads every ref's composer.json and decides which refs are versions (blocking: git I/O).
fn scan(
    mirror: &Mirror,
    refs: &[GitRef],
    name: &str,
    subdir: Option<&str>,
) -> Result<(Vec<Candidate>, Vec<Skipped>)> {
    let manifest = match subdir {
        Some(dir) => format!("{}/composer.json", dir.trim_matches('/')),
        None => "composer.json".to_string(),
    };
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut skipped = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for r in refs {
        let label = ref_label(r);
        let mut skip = |reason: String| {
            skipped.push(Skipped {
                reference: label.clone(),
                reason,
            })
        };
        if let Some(c) = crate::text::hidden_char(&r.name) {
            skip(format!(
                "ref name contains {}, which no version may hold",
                crate::text::describe(c)
            ));
            continue;
        }
        let (version, normalized) = match r.kind {
            RefKind::Tag => {
                match version_from_tag(&r.name).and_then(|v| normalize(&v).ok().map(|n| (v, n))) {
                    Some(pair) => pair,
                    None => {
                        skip(format!("tag name {:?} is not a version", r.name));
                        continue;
                    }
                }
            }
            RefKind::Branch => branch_version(&r.name),
        };
        let raw = match mirror
            .read_file(&r.commit, &manifest)
            .map_err(Error::internal)?
        {
            Some(raw) => raw,
            None => {
                skip(format!(
                    "no {manifest} at {}",
                    &r.commit[..r.commit.len().min(12)]
                ));
                continue;
            }
        };
        let composer: Map<String, Value> = match serde_json::from_slice(&raw) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                skip(format!("{manifest} is not a JSON object"));
                continue;
            }
            Err(e) => {
                skip(format!("{manifest} is not valid JSON: {e}"));
                continue;
            }
        };
        match composer.get("name").and_then(Value::as_str) {
            Some(n) if n.eq_ignore_ascii_case(name) => {}
            Some(other) => {
                skip(format!("{manifest} names package {other:?}, not {name:?}"));
                continue;
            }
            None => {
                skip(format!("{manifest} has no \"name\""));
                continue;
            }
        }
        if let Some(first) = seen.get(&normalized) {
            skip(format!("version {version} is already given by {first}"));
            continue;
        }
        seen.insert(normalized.clone(), label);
        candidates.push(Candidate {
            version,
            normalized,
            commit: r.commit.clone(),
            time: r.time,
            composer,
        });
    }
    Ok((candidates, skipped))
}

fn newest_tagged(candidates: &[Candidate]) -> Option<&Candidate> {
    candidates
        .iter()
        .filter(|c| !c.normalized.starts_with("dev-") && !c.normalized.ends_with("-dev"))
        .max_by(|a, b| super::version::compare_normalized(&a.normalized, &b.normalized))
}

/// The README of a version, `{"version", "filename", "content"}`, if it has one.
fn find_readme(
    mirror: &Mirror,
    commit: &str,
    subdir: Option<&str>,
    version: &str,
) -> Result<Option<Value>> {
    let prefix = subdir
        .map(|d| format!("{}/", d.trim_matches('/')))
        .unwrap_or_default();
    for name in [
        "README.md",
        "readme.md",
        "Readme.md",
        "README.markdown",
        "README.txt",
        "README",
    ] {
        if let Some(raw) = mirror
            .read_file(commit, &format!("{prefix}{name}"))
            .map_err(Error::internal)?
        {
            return Ok(Some(json!({
                "version": version,
                "filename": name,
                "content": String::from_utf8_lossy(&raw),
            })));
        }
    }
    Ok(None)
}

/// What fetching a mirror takes, owned so that it can move to a blocking thread.
pub(super) struct Remotes {
    cache: PathBuf,
    auth: GitAuth,
    reach: Reach,
}

impl Remotes {
    /// Fetches (or first clones) the mirror of `url`, one fetch per repository at a time in this
    /// process: packages of one monorepo share a mirror, and two fetches into one repository would
    /// trip over each other's lock files. Runs on a blocking thread.
    pub(super) fn fetch(&self, url: &str) -> Result<Mirror> {
        static LOCKS: OnceLock<Mutex<HashMap<String, Arc<Mutex<()>>>>> = OnceLock::new();
        let lock = LOCKS
            .get_or_init(Default::default)
            .lock()
            .expect("mirror locks")
            .entry(git_sources::match_url(url))
            .or_default()
            .clone();
        let _fetching = lock.lock().expect("mirror lock");
        Mirror::sync(&self.cache, url, &self.auth, self.reach)
            .map_err(|e| Error::invalid(e.to_string()))
    }
}

/// Percent-encodes a version for a URL path segment (branch names may hold `/`).
fn url_segment(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~+".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Composer {
    pub(super) fn remotes(&self) -> Remotes {
        let git = &self.config.git;
        Remotes {
            cache: git.cache_path.clone(),
            auth: GitAuth {
                user: git.auth_user.clone(),
                token: git.auth_token.clone(),
            },
            reach: Reach::from_setting(git.allow_local),
        }
    }

    /// Fetches the repository and reconciles the package's versions with its refs.
    async fn load(&self, package_id: i64) -> Result<(Package, GitSource)> {
        let mut conn = self.registry.db.pool().acquire().await?;
        let source = git_sources::get(&mut conn, package_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("package {package_id} has no Git source")))?;
        let package = packages::get_package(&mut conn, package_id)
            .await?
            .ok_or_else(|| Error::not_found(format!("package {package_id} not found")))?;
        Ok((package, source))
    }

    /// Fetches the repository and reads which refs are versions, changing nothing stored.
    async fn inspect(&self, package: &Package, source: &GitSource) -> Result<Inspection> {
        let remotes = self.remotes();
        let url = source.repository_url.clone();
        let name = package.name.clone();
        let subdir = source.subdir.clone();
        tokio::task::spawn_blocking(move || {
            let mirror = remotes.fetch(&url)?;
            let refs = mirror.refs().map_err(Error::internal)?;
            let (candidates, skipped) = scan(&mirror, &refs, &name, subdir.as_deref())?;
            let readme = newest_tagged(&candidates)
                .map(|c| find_readme(&mirror, &c.commit, subdir.as_deref(), &c.version))
                .transpose()?
                .flatten();
            // The mirror itself stays on this thread (gix handles are not Send); its path travels.
            Ok(Inspection {
                mirror: mirror.path().to_path_buf(),
                candidates,
                skipped,
                readme,
            })
        })
        .await
        .map_err(Error::internal)?
    }

    /// What a sync would do, without doing it (`POST …/validate`).
    pub async fn validate(&self, package_id: i64) -> Result<Value> {
        let (package, source) = self.load(package_id).await?;
        let found = self.inspect(&package, &source).await?;
        Ok(json!({
            "valid": !found.candidates.is_empty(),
            "versions": found.candidates.iter().map(|c| c.version.clone()).collect::<Vec<_>>(),
            "skipped": found.skipped,
        }))
    }

    /// Fetches the repository and reconciles the package's versions with its refs.
    pub async fn sync(&self, package_id: i64) -> Result<SyncReport> {
        let (package, source) = self.load(package_id).await?;
        let found = match self.inspect(&package, &source).await {
            Ok(found) => found,
            Err(e) => {
                self.record(package_id, Some(&e.to_string()), None).await;
                return Err(e);
            }
        };
        let mut report = SyncReport {
            skipped: found.skipped,
            ..Default::default()
        };
        let outcome = self
            .reconcile(
                &package,
                source.subdir.as_deref(),
                &found.mirror,
                found.candidates,
                &mut report,
            )
            .await;
        let skipped = serde_json::to_value(&report.skipped).map_err(Error::internal)?;
        match &outcome {
            Ok(()) => self.record(package_id, None, Some(&skipped)).await,
            Err(e) => {
                self.record(package_id, Some(&e.to_string()), Some(&skipped))
                    .await
            }
        }
        outcome?;
        if let Some(readme) = found.readme {
            let mut tx = self.registry.db.begin_write().await?;
            let readme = readme.to_string();
            documents::put(
                &mut tx,
                package.document_scope(),
                README_DOCUMENT,
                readme.as_bytes(),
            )
            .await?;
            tx.commit().await?;
        }
        self.render(&package).await?;
        Ok(report)
    }

    async fn record(&self, package_id: i64, error: Option<&str>, skipped: Option<&Value>) {
        let written = async {
            let mut tx = self.registry.db.begin_write().await?;
            git_sources::record_sync(&mut tx, package_id, error, skipped).await?;
            tx.commit().await?;
            Ok::<_, Error>(())
        }
        .await;
        if let Err(e) = written {
            tracing::warn!(package_id, error = %e, "could not record sync result");
        }
    }

    async fn reconcile(
        &self,
        package: &Package,
        subdir: Option<&str>,
        mirror: &Path,
        candidates: Vec<Candidate>,
        report: &mut SyncReport,
    ) -> Result<()> {
        let existing = {
            let mut conn = self.registry.db.pool().acquire().await?;
            packages::all_versions(&mut conn, package.id).await?
        };
        let mut by_normalized: HashMap<String, (i64, Option<String>)> = existing
            .iter()
            .filter_map(|v| {
                let normalized = v.metadata.get("version_normalized")?.as_str()?.to_string();
                let commit = v.metadata["dist"]["reference"].as_str().map(str::to_string);
                Some((normalized, (v.id, commit)))
            })
            .collect();
        let mut keep: HashSet<i64> = HashSet::new();
        let mut to_build = Vec::new();
        for candidate in candidates {
            match by_normalized.remove(&candidate.normalized) {
                Some((id, Some(commit))) if commit == candidate.commit => {
                    keep.insert(id);
                    report.unchanged += 1;
                }
                Some((id, _)) => {
                    // Replaced, not removed: the old row goes now and is not reported again.
                    keep.insert(id);
                    self.registry.remove_version(id).await?;
                    to_build.push((candidate, true));
                }
                None => to_build.push((candidate, false)),
            }
        }
        // Archives are built and stored a few at a time: zipping, hashing and the disk flush of
        // one overlap with the others.
        let mut built = futures_util::stream::iter(to_build)
            .map(|(candidate, replaced)| async move {
                let id = self.publish(package, subdir, mirror, &candidate).await?;
                Ok::<_, Error>((id, candidate.version, replaced))
            })
            .buffer_unordered(PARALLEL_BUILDS);
        while let Some(done) = built.next().await {
            let (id, version, replaced) = done?;
            keep.insert(id);
            if replaced {
                report.updated.push(version);
            } else {
                report.added.push(version);
            }
        }
        drop(built);
        // Listed in version order, whatever order the builds finished in.
        let order = |a: &String, b: &String| {
            let n = |v: &str| normalize(v).unwrap_or_else(|_| v.to_string());
            super::version::compare_normalized(&n(b), &n(a))
        };
        report.added.sort_by(order);
        report.updated.sort_by(order);
        for version in existing.iter().filter(|v| !keep.contains(&v.id)) {
            self.registry.remove_version(version.id).await?;
            report.removed.push(version.version.clone());
        }
        Ok(())
    }

    /// Builds the dist zip of one version, stores it and records the version's metadata.
    async fn publish(
        &self,
        package: &Package,
        subdir: Option<&str>,
        mirror: &Path,
        candidate: &Candidate,
    ) -> Result<i64> {
        let (mirror_path, commit, sub) = (
            mirror.to_path_buf(),
            candidate.commit.clone(),
            subdir.map(str::to_string),
        );
        let zip =
            tokio::task::spawn_blocking(move || build_zip(&mirror_path, &commit, sub.as_deref()))
                .await
                .map_err(Error::internal)??;
        let body = match zip {
            Zip::InMemory(bytes) => futures_util::stream::once(async move { Ok(bytes) }).boxed(),
            Zip::OnDisk(file) => file_stream(tokio::fs::File::from_std(file)).boxed(),
        };
        let file_name = format!("{}.zip", candidate.version);
        let dist_url = format!(
            "{}/dist/{}/{}.zip",
            self.config.base_url,
            package.name,
            url_segment(&candidate.version)
        );
        let stored = self
            .registry
            .publish(
                Publish {
                    at: FileCoord {
                        owner: OWNER,
                        format: FORMAT,
                        package: &package.name,
                        version: &candidate.version,
                        file: &file_name,
                    },
                    create_owner: true,
                    version_metadata: Box::new(|staged| {
                        Value::Object(metadata::version_entry(
                            &candidate.composer,
                            &VersionFacts {
                                name: &package.name,
                                version: &candidate.version,
                                version_normalized: &candidate.normalized,
                                commit: &candidate.commit,
                                time: candidate.time,
                                dist_url: &dist_url,
                                shasum: staged.digests.sha1.as_deref().unwrap_or_default(),
                            },
                        ))
                    }),
                    file_properties: vec![("commit".into(), candidate.commit.clone())],
                    put: PutOptions {
                        extra_digests: ExtraDigests {
                            sha1: true,
                            ..ExtraDigests::NONE
                        },
                        max_size: u64::MAX,
                        ..PutOptions::default()
                    },
                    tags: Vec::new(),
                },
                body,
            )
            .await?;
        Ok(stored.version_id)
    }

    /// Re-renders the package's Composer documents from its versions: yanked versions are left
    /// out, deprecated ones carry Composer's `abandoned` field.
    pub async fn render(&self, package: &Package) -> Result<()> {
        let mut tx = self.registry.db.begin_write().await?;
        let mut entries: Vec<Map<String, Value>> = Vec::new();
        for version in packages::all_versions(&mut tx, package.id).await? {
            let Value::Object(mut entry) = version.metadata else {
                continue;
            };
            if !entry.contains_key("version_normalized") {
                continue;
            }
            let flags = properties::list(&mut tx, RefType::Version, version.id).await?;
            if flags.iter().any(|(k, _)| k == YANKED) {
                continue;
            }
            if let Some((_, replacement)) = flags.iter().find(|(k, _)| k == DEPRECATED) {
                let abandoned = if replacement.is_empty() {
                    json!(true)
                } else {
                    json!(replacement)
                };
                entry.insert("abandoned".into(), abandoned);
            }
            entries.push(entry);
        }
        metadata::sort_newest_first(&mut entries);
        let (dev, tagged): (Vec<_>, Vec<_>) = entries.iter().cloned().partition(metadata::is_dev);
        for (name, body) in [
            ("p2", metadata::p2_document(&package.name, &tagged)),
            ("p2~dev", metadata::p2_document(&package.name, &dev)),
            ("p1", metadata::p1_document(&package.name, &entries)),
        ] {
            documents::put(&mut tx, package.document_scope(), name, body.as_bytes()).await?;
        }
        tx.commit().await?;
        self.registry
            .documents
            .forget_package(OWNER, FORMAT, &package.name);
        Ok(())
    }

    /// Marks a version yanked (hidden from Composer, archive kept) or brings it back.
    pub async fn set_yanked(&self, package: &Package, version: &str, yanked: bool) -> Result<()> {
        self.set_flag(package, version, YANKED, yanked.then_some(""))
            .await
    }

    /// Marks a version deprecated; Composer then warns that it is abandoned (naming the
    /// replacement package when one is given).
    pub async fn deprecate(
        &self,
        package: &Package,
        version: &str,
        replacement: &str,
    ) -> Result<()> {
        self.set_flag(package, version, DEPRECATED, Some(replacement))
            .await
    }

    async fn set_flag(
        &self,
        package: &Package,
        version: &str,
        flag: &str,
        value: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.registry.db.begin_write().await?;
        let row = packages::find_version(&mut tx, package.id, version)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!("version {version} of {} not found", package.name))
            })?;
        properties::delete_named(&mut tx, RefType::Version, row.id, flag).await?;
        if let Some(value) = value {
            properties::add(&mut tx, RefType::Version, row.id, flag, value).await?;
        }
        tx.commit().await?;
        self.render(package).await
    }

    /// The package named `name` in the Composer registry, if any.
    pub async fn find(&self, name: &str) -> Result<Option<Package>> {
        let mut conn = self.registry.db.pool().acquire().await?;
        let Some(owner) = owners::find(&mut conn, OWNER).await? else {
            return Ok(None);
        };
        packages::find_package(&mut conn, owner.id, FORMAT, name).await
    }
}

/// A built archive: small ones stay in memory, large ones spill to an unnamed temporary file.
enum Zip {
    InMemory(bytes::Bytes),
    OnDisk(std::fs::File),
}

/// Archives up to this size are built in memory.
const ZIP_IN_MEMORY: usize = 8 * 1024 * 1024;

fn build_zip(mirror: &Path, commit: &str, subdir: Option<&str>) -> Result<Zip> {
    use std::io::{Seek, SeekFrom};
    let mirror = Mirror::open(mirror).map_err(Error::internal)?;
    let mut spool = tempfile::SpooledTempFile::new(ZIP_IN_MEMORY);
    mirror
        .archive_zip(commit, subdir, &mut spool)
        .map_err(|e| Error::internal(format!("cannot build the dist zip: {e}")))?;
    Ok(match spool.into_inner() {
        tempfile::SpooledData::InMemory(cursor) => Zip::InMemory(cursor.into_inner().into()),
        tempfile::SpooledData::OnDisk(mut file) => {
            file.seek(SeekFrom::Start(0))?;
            Zip::OnDisk(file)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::url_segment;

    #[test]
    fn versions_are_safe_in_urls() {
        assert_eq!(url_segment("1.0.0"), "1.0.0");
        assert_eq!(url_segment("dev-feature/x y"), "dev-feature%2Fx%20y");
        assert_eq!(url_segment("1.0.0+build"), "1.0.0+build");
    }
}

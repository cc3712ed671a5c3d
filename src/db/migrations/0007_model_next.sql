-- Tags: per-package names that point at one version (npm dist-tags, OCI tags, pacman and NuGet
-- "latest"). One row per name, so moving a tag is one upsert and readers never see it twice.
-- Deleting a version deletes the tags pointing at it (see model/tags.rs).
CREATE TABLE tags (
    package_id BIGINT NOT NULL REFERENCES packages (id),
    name TEXT NOT NULL,
    version_id BIGINT NOT NULL REFERENCES versions (id),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (package_id, name)
);
CREATE INDEX tags_version ON tags (version_id);

-- References to blobs by something other than a file row: a version's OCI manifest holding its
-- layers and config, a blob pushed into a package before any manifest names it, ... A blob row
-- goes (delete, gc) only when neither a file nor a reference holds it; the foreign key makes a
-- reference taken while the row is being deleted fail instead of dangle.
CREATE TABLE blob_refs (
    blob_sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    kind TEXT NOT NULL,
    ref_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (blob_sha256, kind, ref_id)
);
CREATE INDEX blob_refs_holder ON blob_refs (kind, ref_id);

-- Resumable uploads (OCI chunked blob uploads): what has been received so far, as stored
-- segment objects (`segments`, a JSON array of storage keys, in order) and the SHA-256 state
-- after them (hex), so an append after a restart hashes only its own bytes. An append commits
-- only if `bytes_received` is still the offset it started from. Expired sessions are removed,
-- with their segments, by the cleanup.
CREATE TABLE upload_sessions (
    id TEXT PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES owners (id),
    format TEXT NOT NULL,
    bytes_received BIGINT NOT NULL,
    sha256_state TEXT NOT NULL,
    segments TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX upload_sessions_expiry ON upload_sessions (expires_at);

-- What a file is within its version, for formats that list or pick files by it: `kind` (Maven
-- extension `jar`/`pom`, NuGet `nupkg`/`snupkg`, PyPI `sdist`/`bdist_wheel`) and `qualifier`
-- (Maven classifier, pacman architecture, wheel platform tag); empty when a format has none.
-- `metadata` is the file's own JSON (a wheel's tags, a pacman package's .PKGINFO fields).
ALTER TABLE files ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN qualifier TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
CREATE INDEX files_kind ON files (version_id, kind, qualifier);

-- Finding what carries a property value (a Nitro storage, a pacman `provides`). Indexed on a
-- prefix of the value: a btree entry has a size limit on PostgreSQL, values do not.
CREATE INDEX properties_value ON properties (ref_type, name, substr(value, 1, 200));

-- Documents rendered for a whole repository (an owner's packages of one format), text or
-- binary: a pacman `.db` (a tar), an npm or NuGet index. `sha256` is the body's ETag; an
-- unchanged body keeps its `updated_at` so clients keep their caches.
CREATE TABLE repository_documents (
    owner_id BIGINT NOT NULL REFERENCES owners (id),
    format TEXT NOT NULL,
    name TEXT NOT NULL,
    body {{BYTES}} NOT NULL,
    sha256 TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (owner_id, format, name)
);

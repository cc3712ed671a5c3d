-- Owners are namespaces (Gitea's users/organisations, Nitro's storage/repository pairs, ...).
CREATE TABLE owners (
    id {{ID}},
    name TEXT NOT NULL,
    lower_name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- Content-addressed blobs: one row per distinct content, whatever the number of files using it.
-- Extra digests are filled when a format publishes them or when first asked for.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    storage_key TEXT NOT NULL,
    sha1 TEXT,
    sha512 TEXT,
    md5 TEXT,
    created_at BIGINT NOT NULL,
    touched_at BIGINT NOT NULL
);

CREATE TABLE packages (
    id {{ID}},
    owner_id BIGINT NOT NULL REFERENCES owners (id),
    format TEXT NOT NULL,
    name TEXT NOT NULL,
    lower_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (owner_id, format, lower_name)
);

CREATE TABLE versions (
    id {{ID}},
    package_id BIGINT NOT NULL REFERENCES packages (id),
    version TEXT NOT NULL,
    lower_version TEXT NOT NULL,
    metadata TEXT NOT NULL,
    download_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (package_id, lower_version)
);

CREATE TABLE files (
    id {{ID}},
    version_id BIGINT NOT NULL REFERENCES versions (id),
    name TEXT NOT NULL,
    lower_name TEXT NOT NULL,
    blob_sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    created_at BIGINT NOT NULL,
    UNIQUE (version_id, lower_name)
);

CREATE INDEX files_blob ON files (blob_sha256);

-- Free-form key/value facts about a package, version or file (who uploaded it, format extras).
CREATE TABLE properties (
    id {{ID}},
    ref_type TEXT NOT NULL,
    ref_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL
);

CREATE INDEX properties_ref ON properties (ref_type, ref_id);

-- Management (team) tokens now; customer tokens later share the table with kind = 'customer',
-- a customer_id and package scopes. Only the Argon2 hash of the secret is kept; `lookup` is the
-- non-secret part of the token used to find the row without hashing every candidate.
CREATE TABLE tokens (
    id {{ID}},
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    lookup TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    level TEXT NOT NULL,
    customer_id BIGINT,
    package_scopes TEXT,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT,
    last_used_ip TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

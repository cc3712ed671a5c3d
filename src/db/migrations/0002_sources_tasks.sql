-- Where a package's versions come from when they are synced rather than uploaded (Composer from Git).
CREATE TABLE git_sources (
    package_id BIGINT PRIMARY KEY REFERENCES packages (id),
    repository_url TEXT NOT NULL,
    -- host/path, lower-case, without scheme, credentials or .git: what webhooks are matched on
    match_url TEXT NOT NULL,
    provider TEXT NOT NULL,
    subdir TEXT,
    monorepo_glob TEXT,
    parent_package_id BIGINT,
    synced_at BIGINT,
    sync_error TEXT,
    skipped TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX git_sources_match ON git_sources (match_url);

-- Metadata documents rendered when a package changes and served as they are (Composer p2 files).
CREATE TABLE documents (
    package_id BIGINT NOT NULL REFERENCES packages (id),
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (package_id, name)
);

-- Background work, kept in the database so a restart loses nothing. At most one pending or running
-- task per dedupe key (the same package is never synced twice at once).
CREATE TABLE tasks (
    id {{ID}},
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedupe_key TEXT,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    result TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);

CREATE UNIQUE INDEX tasks_active ON tasks (dedupe_key) WHERE status IN ('pending', 'running');

CREATE INDEX tasks_status ON tasks (status, id);

CREATE TABLE webhook_deliveries (
    id {{ID}},
    provider TEXT NOT NULL,
    event TEXT NOT NULL,
    repository_url TEXT,
    package_id BIGINT,
    status_code BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    task_id BIGINT,
    created_at BIGINT NOT NULL
);

CREATE INDEX webhook_deliveries_package ON webhook_deliveries (package_id, id);

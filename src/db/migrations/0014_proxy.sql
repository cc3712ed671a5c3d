-- The Packagist proxy's cache (src/formats/composer/proxy): upstream metadata documents as
-- fetched (`p2` or `p2~dev`, Composer's minified form, kept as sent so each version's upstream
-- archive URL and shasum stay known), the names frozen by an admin, and one row per cached
-- archive (the file itself is a registry file of the owner `packagist`) with its size and last
-- use, for expiry and least-recently-used eviction. Names are lower-case, as Packagist's are.
CREATE TABLE proxy_metadata (
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    body TEXT NOT NULL,
    fetched_at BIGINT NOT NULL,
    PRIMARY KEY (name, document)
);

CREATE TABLE proxy_frozen (
    name TEXT PRIMARY KEY,
    frozen_at BIGINT NOT NULL
);

CREATE TABLE proxy_archives (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    reference TEXT NOT NULL,
    size BIGINT NOT NULL,
    fetched_at BIGINT NOT NULL,
    used_at BIGINT NOT NULL,
    PRIMARY KEY (name, version, reference)
);

CREATE INDEX proxy_archives_by_use ON proxy_archives (used_at)

-- Security advisories in OSV form (https://ossf.github.io/osv-schema/), whatever the ecosystem:
-- the advisory as imported (`body`, the OSV JSON), the fields listings filter and order by, and
-- one row per package it names, so a lookup by (ecosystem, package) is an index read. Names are
-- looked up lower-case (`lower_package`): Packagist's are case-insensitive, and no ecosystem
-- we serve names two packages apart by case alone.
CREATE TABLE advisories (
    id TEXT PRIMARY KEY,
    modified BIGINT NOT NULL,
    published BIGINT,
    severity TEXT,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    imported_at BIGINT NOT NULL
);

CREATE TABLE advisory_packages (
    advisory_id TEXT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    lower_package TEXT NOT NULL,
    PRIMARY KEY (advisory_id, ecosystem, lower_package)
);

CREATE INDEX advisory_packages_by_package ON advisory_packages (ecosystem, lower_package);
CREATE INDEX advisories_by_modified ON advisories (modified)

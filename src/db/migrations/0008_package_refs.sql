-- Grants, collections and frozen versions name a package of any format by owner, format and
-- name. Until now they named a package of the Git-synced Composer registry by its bare name, so
-- every existing row belongs to owner `cargoman`, format `composer`.
ALTER TABLE customer_grants ADD COLUMN owner TEXT;
ALTER TABLE customer_grants ADD COLUMN format TEXT;
UPDATE customer_grants SET owner = 'cargoman', format = 'composer' WHERE package IS NOT NULL;
DROP INDEX customer_grants_package;
DROP INDEX customer_grants_by_package;
CREATE UNIQUE INDEX customer_grants_package ON customer_grants (customer_id, owner, format, package) WHERE package IS NOT NULL;
CREATE INDEX customer_grants_by_package ON customer_grants (owner, format, package);

CREATE TABLE collection_members (
    collection_id BIGINT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    owner TEXT NOT NULL,
    format TEXT NOT NULL,
    package TEXT NOT NULL,
    PRIMARY KEY (collection_id, owner, format, package)
);
INSERT INTO collection_members (collection_id, owner, format, package)
    SELECT collection_id, 'cargoman', 'composer', package FROM collection_packages;
DROP TABLE collection_packages;
CREATE INDEX collection_members_by_package ON collection_members (owner, format, package);

CREATE TABLE customer_freezes (
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    owner TEXT NOT NULL,
    format TEXT NOT NULL,
    package TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (customer_id, owner, format, package, version)
);
INSERT INTO customer_freezes (customer_id, owner, format, package, version)
    SELECT customer_id, 'cargoman', 'composer', package, version FROM customer_frozen_versions;
DROP TABLE customer_frozen_versions

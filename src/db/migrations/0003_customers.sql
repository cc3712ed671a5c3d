-- Customers of the Composer registry: who may install which packages, in which lifecycle state.
-- `public_id` ("cust_…") is what the API shows; `access_version` grows on every change that alters
-- what the customer may see (grants, state, frozen versions, collection members), so caches of
-- filtered views are keyed by it and every instance sees a change on its next request.
CREATE TABLE customers (
    id {{ID}},
    public_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT,
    external_id TEXT UNIQUE,
    status TEXT NOT NULL,
    status_reason TEXT,
    expires_at BIGINT,
    access_version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX customers_status ON customers (status, id);

-- Named groups of packages, granted to a customer as a unit.
CREATE TABLE collections (
    id {{ID}},
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE collection_packages (
    collection_id BIGINT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    package TEXT NOT NULL,
    PRIMARY KEY (collection_id, package)
);

-- A grant names either one package or one collection, with a Composer version constraint.
CREATE TABLE customer_grants (
    id {{ID}},
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    package TEXT,
    collection_id BIGINT REFERENCES collections (id) ON DELETE CASCADE,
    version_constraint TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX customer_grants_package ON customer_grants (customer_id, package) WHERE package IS NOT NULL;
CREATE UNIQUE INDEX customer_grants_collection ON customer_grants (customer_id, collection_id) WHERE collection_id IS NOT NULL;
CREATE INDEX customer_grants_by_package ON customer_grants (package);

-- The versions a frozen customer keeps.
CREATE TABLE customer_frozen_versions (
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    package TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (customer_id, package, version)
);

CREATE INDEX tokens_customer ON tokens (customer_id, id);

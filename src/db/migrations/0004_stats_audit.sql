-- Daily download and install counters, one row per (day, version, customer). `day` is days since
-- the Unix epoch (UTC); `customer_id` 0 stands for "not a customer" (team tokens, root, anonymous),
-- so the primary key needs no NULL. No foreign keys: a deleted version keeps its history, and the
-- counters never block a delete. `package_id` is copied in so per-package sums need no join.
CREATE TABLE download_stats (
    day BIGINT NOT NULL,
    package_id BIGINT NOT NULL,
    version_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL DEFAULT 0,
    downloads BIGINT NOT NULL DEFAULT 0,
    installs BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, version_id, customer_id)
);

CREATE INDEX download_stats_package ON download_stats (package_id, day);
CREATE INDEX download_stats_version ON download_stats (version_id, day);
CREATE INDEX download_stats_customer ON download_stats (customer_id, day);

-- Administrative actions (successful non-GET management API requests, Stripe lifecycle events).
-- `at` is epoch seconds; `details` is JSON text or NULL. Purged after AUDIT_LOG_RETENTION_DAYS.
CREATE TABLE audit_log (
    id {{ID}},
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    target TEXT,
    status BIGINT NOT NULL,
    ip TEXT,
    details TEXT
);

CREATE INDEX audit_log_at ON audit_log (at);

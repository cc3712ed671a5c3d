-- Rendered documents, a package's own (Composer's p2 files, its README) and a whole repository's
-- (an owner's packages of one format: a pacman `.db`, an npm or NuGet index), in one table with
-- one upsert (model/documents.rs). It replaces `documents` (package level, text, migration 2) and
-- `repository_documents` (repository level, bytes, migration 7), copied here and dropped. A new
-- table rather than either old one reshaped: SQLite cannot change a primary key or a column's
-- type in place, so reshaping would mean the same copy under a worse name.
--
-- `body` is bytes, text and binary alike; `sha256` is the body's hex SHA-256, its ETag. A changed
-- body gets a later `updated_at` (even within one second), an unchanged one keeps it.
--
-- `package_id` 0 stands for the repository (no package has id 0), as `customer_id` 0 does in
-- `download_stats`: a NULL in the key would never conflict, so the upsert would add rows instead
-- of replacing them. So there is no foreign key to packages either; deleting a package deletes
-- its documents (model/packages.rs), found by the key, which `package_id` leads for that.
CREATE TABLE rendered_documents (
    package_id BIGINT NOT NULL DEFAULT 0,
    owner_id BIGINT NOT NULL REFERENCES owners (id),
    format TEXT NOT NULL,
    name TEXT NOT NULL,
    body {{BYTES}} NOT NULL,
    sha256 TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (package_id, owner_id, format, name)
);

INSERT INTO rendered_documents (package_id, owner_id, format, name, body, sha256, updated_at)
SELECT 0, owner_id, format, name, body, sha256, updated_at FROM repository_documents;

-- Package documents were text: they keep their UTF-8 bytes exactly and their `updated_at`. SQLite
-- has no SHA-256 function, so `sha256` is left empty here and computed by this migration's Rust
-- step (`hash_copied_documents` in db/migrate.rs) in the same transaction: no reader ever sees
-- an empty one, and no read path needs a fallback for it.
INSERT INTO rendered_documents (package_id, owner_id, format, name, body, sha256, updated_at)
SELECT d.package_id, p.owner_id, p.format, d.name, {{UTF8:d.body}}, '', d.updated_at
FROM documents d JOIN packages p ON p.id = d.package_id;

DROP TABLE documents;

DROP TABLE repository_documents;

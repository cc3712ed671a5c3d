-- A repository assembled from its packages' parts (a pacman database is every package's entry of
-- one arch-repo, `model::documents::parts`) reads the documents of one name across an owner's
-- packages of a format; the primary key starts with the package, so without this index each such
-- read scanned the table.
CREATE INDEX rendered_documents_by_name ON rendered_documents (owner_id, format, name);

-- Blobs found by their SHA-512 (`model::blobs::sha256_of_sha512`): OCI pulls and mounts by a
-- `sha512:` digest, and checksum files of formats that publish SHA-512 sums, look a blob up by it.
-- Without the index each such request scanned the table.
CREATE INDEX blobs_sha512 ON blobs (sha512);

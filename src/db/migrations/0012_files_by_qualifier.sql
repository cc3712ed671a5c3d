-- Files found by kind and qualifier across an owner's packages (`packages::find_by_qualifier`):
-- a NuGet symbol server's PDB by its signature, a pacman arch-repo's files when it is deleted.
-- 0007's index starts with the version, so without this one each such lookup scanned the files.
CREATE INDEX files_qualifier ON files (kind, qualifier);

//! Reading an uploaded .nupkg or .snupkg (a zip) before anything is stored: the core's zip check
//! (`zip_check`: no zip-slip paths, bombs, encrypted entries, …), then exactly one `.nuspec` at
//! the archive's root, read through its cap and parsed (`nuspec`); a symbol package's PDBs are
//! found and their signatures read (`pdb`). Every refusal is a 400 with a message naming the
//! problem, which NuGet clients print.

use std::io::{Read, Seek};

use super::nuspec::{self, Nuspec};
use super::pdb;
use crate::error::{Error, Result};
use crate::zip_check::{self, Kind, Limits};

/// A package that passed.
#[derive(Debug)]
pub struct Inspected {
    pub nuspec: Nuspec,
    /// The nuspec as uploaded (the flat container serves it).
    pub nuspec_bytes: Vec<u8>,
    /// A symbol package's PDBs.
    pub pdbs: Vec<Pdb>,
}

/// A PDB inside a symbol package.
#[derive(Debug, Clone, PartialEq)]
pub struct Pdb {
    /// Its entry in the archive.
    pub index: usize,
    /// Its file name (without folders), lower-case, as debuggers ask for it.
    pub name: String,
    pub signature: String,
}

/// Where a portable PDB's id must lie: its metadata root and stream headers come first.
const PDB_HEAD: u64 = 64 << 10;

/// 400 rather than the core's 422: NuGet's clients treat every 4xx alike, and Gitea answers 400.
fn bad_request(e: Error) -> Error {
    match e {
        Error::Unprocessable(message) => Error::invalid(message),
        other => other,
    }
}

/// Checks the archive (a seekable file of `size` bytes) and reads its nuspec, and, for a symbol
/// package, its PDBs' signatures.
pub fn inspect<R: Read + Seek>(archive: R, size: u64, symbols: bool) -> Result<Inspected> {
    inspect_with(archive, size, &Limits::default(), symbols).map_err(bad_request)
}

fn inspect_with<R: Read + Seek>(
    archive: R,
    size: u64,
    limits: &Limits,
    symbols: bool,
) -> Result<Inspected> {
    let mut checked = zip_check::check(archive, size, limits)?;
    let nuspecs: Vec<usize> = checked
        .entries
        .iter()
        .enumerate()
        .filter(|(_, (name, kind))| {
            *kind != Kind::Dir && !name.contains('/') && name.to_lowercase().ends_with(".nuspec")
        })
        .map(|(index, _)| index)
        .collect();
    let index = match nuspecs.as_slice() {
        [index] => *index,
        [] => return Err(Error::invalid("the package holds no .nuspec at its root")),
        several => {
            let names = several.iter().map(|&i| checked.entries[i].0.as_str());
            return Err(Error::invalid(format!(
                "the package holds several .nuspec files at its root ({}); it must hold one",
                zip_check::listed(names)
            )));
        }
    };
    let (name, kind) = checked.entries[index].clone();
    if kind == Kind::Symlink {
        return Err(Error::invalid(format!(
            "{name} is a symlink; it must be a file"
        )));
    }
    let bytes = zip_check::read_capped(&mut checked.zip, index, &name, limits.max_manifest)?;
    let nuspec = nuspec::parse(&bytes)?;
    let mut pdbs = Vec::new();
    if symbols {
        for (index, (path, kind)) in checked.entries.iter().enumerate() {
            if *kind != Kind::File || !path.to_lowercase().ends_with(".pdb") {
                continue;
            }
            let mut head = Vec::new();
            checked
                .zip
                .by_index(index)
                .map_err(|e| Error::invalid(format!("cannot read {path}: {e}")))?
                .take(PDB_HEAD)
                .read_to_end(&mut head)
                .map_err(|e| Error::invalid(format!("cannot read {path}: {e}")))?;
            let name = path.rsplit('/').next().unwrap_or(path).to_lowercase();
            pdbs.push(Pdb {
                index,
                signature: pdb::signature(path, &head)?,
                name,
            });
        }
        // The same PDB in two folders is one symbol file.
        pdbs.sort_by(|a, b| (&a.signature, &a.name).cmp(&(&b.signature, &b.name)));
        pdbs.dedup_by(|a, b| a.signature == b.signature && a.name == b.name);
        if pdbs.is_empty() {
            return Err(Error::invalid("the symbol package holds no .pdb file"));
        }
    }
    Ok(Inspected {
        nuspec,
        nuspec_bytes: bytes,
        pdbs,
    })
}

/// Copies entry `index` of the archive into `into` (a temporary file), for storing a PDB.
pub fn extract<R: Read + Seek>(archive: R, index: usize, into: &mut std::fs::File) -> Result<u64> {
    let mut zip = zip::ZipArchive::new(archive).map_err(Error::internal)?;
    let mut entry = zip.by_index(index).map_err(Error::internal)?;
    Ok(std::io::copy(&mut entry, into)?)
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use zip::ZipWriter;
    use zip::write::SimpleFileOptions;

    use super::*;

    const SPEC: &str =
        "<package><metadata><id>Acme.Greet</id><version>1.0</version></metadata></package>";

    fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in files {
            zip.start_file(*name, SimpleFileOptions::default()).unwrap();
            zip.write_all(data.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn inspected(files: &[(&str, &str)]) -> Result<Inspected> {
        let bytes = zip_of(files);
        inspect(Cursor::new(&bytes), bytes.len() as u64, false)
    }

    fn refusal(files: &[(&str, &str)]) -> String {
        match inspected(files) {
            Err(Error::Validation(message)) => message,
            other => panic!("not a 400: {other:?}"),
        }
    }

    #[test]
    fn reads_the_root_nuspec() {
        let found = inspected(&[
            ("Acme.Greet.nuspec", SPEC),
            ("lib/netstandard2.0/Acme.Greet.dll", "x"),
            ("sub/Other.nuspec", "not read"),
        ])
        .unwrap();
        assert_eq!(found.nuspec.id, "Acme.Greet");
        assert_eq!(found.nuspec.version, "1.0.0");
        assert_eq!(found.nuspec_bytes, SPEC.as_bytes());
    }

    #[test]
    fn finds_the_pdbs_of_a_symbol_package() {
        let pdb = super::pdb::minimal([7; 16]);
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("a.nuspec", SimpleFileOptions::default())
            .unwrap();
        zip.write_all(SPEC.as_bytes()).unwrap();
        zip.start_file("lib/net6.0/Acme.Greet.PDB", SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&pdb).unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let found = inspect(Cursor::new(&bytes), bytes.len() as u64, true).unwrap();
        assert_eq!(found.pdbs.len(), 1);
        assert_eq!(found.pdbs[0].name, "acme.greet.pdb");
        assert_eq!(
            found.pdbs[0].signature,
            format!("{}ffffffff", "07".repeat(16))
        );
        let mut out = tempfile::tempfile().unwrap();
        assert_eq!(
            extract(Cursor::new(&bytes), found.pdbs[0].index, &mut out).unwrap(),
            pdb.len() as u64
        );
    }

    #[test]
    fn refuses_bad_packages() {
        assert!(refusal(&[("lib/a.dll", "x")]).contains("no .nuspec"));
        assert!(refusal(&[("a.nuspec", SPEC), ("B.NUSPEC", SPEC)]).contains("several .nuspec"));
        assert!(refusal(&[("a.nuspec", SPEC), ("../evil.dll", "x")]).contains("unsafe path"));
        assert!(refusal(&[("a.nuspec", SPEC), ("/etc/x", "x")]).contains("unsafe path"));
        assert!(refusal(&[("a.nuspec", "<package/>")]).contains("nuspec"));
        let bad_id = SPEC.replace("Acme.Greet", "Acme/Greet");
        assert!(refusal(&[("a.nuspec", &bad_id)]).contains("package id"));
        let bad_version = SPEC.replace("1.0", "1.0.0.0.0");
        assert!(refusal(&[("a.nuspec", &bad_version)]).contains("NuGet version"));
        let garbage = b"not a zip";
        // A symbol package needs portable PDBs.
        let files = [
            ("a.nuspec", SPEC),
            ("lib/a.pdb", "Microsoft C/C++ MSF 7.00"),
        ];
        let bytes = zip_of(&files);
        let err = inspect(Cursor::new(&bytes), bytes.len() as u64, true).unwrap_err();
        assert!(err.to_string().contains("not a portable PDB"), "{err}");
        let bytes = zip_of(&[("a.nuspec", SPEC)]);
        let err = inspect(Cursor::new(&bytes), bytes.len() as u64, true).unwrap_err();
        assert!(err.to_string().contains("no .pdb"), "{err}");
        let err = inspect(Cursor::new(garbage), garbage.len() as u64, false).unwrap_err();
        assert!(matches!(err, Error::Validation(m) if m.contains("zip")));
    }
}

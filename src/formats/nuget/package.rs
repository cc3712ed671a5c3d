//! Reading an uploaded .nupkg or .snupkg (a zip) before anything is stored: the core's zip check
//! (`zip_check`: no zip-slip paths, bombs, encrypted entries, …), then exactly one `.nuspec` at
//! the archive's root, read through its cap and parsed (`nuspec`). Every refusal is a 400 with a
//! message naming the problem, which NuGet clients print.

use std::io::{Read, Seek};

use super::nuspec::{self, Nuspec};
use crate::error::{Error, Result};
use crate::zip_check::{self, Kind, Limits};

/// A package that passed.
#[derive(Debug)]
pub struct Inspected {
    pub nuspec: Nuspec,
    /// The nuspec as uploaded (the flat container serves it).
    pub nuspec_bytes: Vec<u8>,
}

/// 400 rather than the core's 422: NuGet's clients treat every 4xx alike, and Gitea answers 400.
fn bad_request(e: Error) -> Error {
    match e {
        Error::Unprocessable(message) => Error::invalid(message),
        other => other,
    }
}

/// Checks the archive (a seekable file of `size` bytes) and reads its nuspec.
pub fn inspect<R: Read + Seek>(archive: R, size: u64) -> Result<Inspected> {
    inspect_with(archive, size, &Limits::default()).map_err(bad_request)
}

fn inspect_with<R: Read + Seek>(archive: R, size: u64, limits: &Limits) -> Result<Inspected> {
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
    Ok(Inspected {
        nuspec,
        nuspec_bytes: bytes,
    })
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
        inspect(Cursor::new(&bytes), bytes.len() as u64)
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
        let err = inspect(Cursor::new(garbage), garbage.len() as u64).unwrap_err();
        assert!(matches!(err, Error::Validation(m) if m.contains("zip")));
    }
}

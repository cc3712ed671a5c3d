//! Which NuGet endpoint a path under `/api/packages/{owner}/nuget` names. The v2 OData paths do
//! not fit a route table (`Packages(Id='A',Version='1.0')`, `$metadata`, `$count`), and push
//! comes with and without a trailing slash, so the path is read here. Ids and versions are
//! percent-decoded, not yet checked. Pure.

use percent_encoding::percent_decode_str;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `` or `/`: the v2 service document (GET) or push (PUT).
    Root,
    /// `/index.json`
    ServiceIndex,
    /// `/api/v2/package` (PUT, push as NuGet.exe sends it)
    V2Publish,
    /// `/symbolpackage` (PUT)
    SymbolPublish,
    /// `/{id}/{version}` and `/api/v2/package/{id}/{version}` (DELETE)
    Version { id: String, version: String },
    /// `/package/{id}/{version}` (the v2 feed's download)
    V2Download { id: String, version: String },
    /// `/registration/{id}/index.json`
    RegistrationIndex(String),
    /// `/registration/{id}/page/{n}.json`
    RegistrationPage(String, usize),
    /// `/registration/{id}/{version}.json`
    RegistrationLeaf(String, String),
    /// `/package/{id}/index.json`
    FlatVersions(String),
    /// `/package/{id}/{version}/{file}`
    FlatFile {
        id: String,
        version: String,
        file: String,
    },
    /// `/query`
    Search,
    /// `/symbols/{file}/{signature}/{file}`
    Symbol { file: String, signature: String },
    /// `/$metadata`
    V2Metadata,
    /// `/Packages()`, `/Search()`, `/FindPackagesById()` and their `/$count`
    V2Feed { function: V2Function, count: bool },
    /// `/Packages(Id='…',Version='…')`
    V2Entry { id: String, version: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V2Function {
    Packages,
    Search,
    FindPackagesById,
}

/// The endpoint `path` (what follows `/nuget/`) names; `None` when none (404).
pub fn parse(path: &str) -> Option<Target> {
    if path.is_empty() {
        return Some(Target::Root);
    }
    let segments: Vec<String> = path
        .split('/')
        .map(|s| percent_decode_str(s).decode_utf8().map(|d| d.into_owned()))
        .collect::<Result<_, _>>()
        .ok()?;
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let version = |id: &str, version: &str| {
        Some(Target::Version {
            id: id.to_string(),
            version: version.to_string(),
        })
    };
    match segments.as_slice() {
        ["index.json"] => Some(Target::ServiceIndex),
        ["api", "v2", "package"] | ["api", "v2", "package", ""] => Some(Target::V2Publish),
        ["symbolpackage"] | ["symbolpackage", ""] => Some(Target::SymbolPublish),
        ["api", "v2", "package", id, v] => version(id, v),
        ["query"] => Some(Target::Search),
        ["$metadata"] => Some(Target::V2Metadata),
        ["registration", id, "index.json"] => Some(Target::RegistrationIndex(id.to_string())),
        ["registration", id, "page", page] => {
            let n = page.strip_suffix(".json")?.parse().ok()?;
            Some(Target::RegistrationPage(id.to_string(), n))
        }
        ["registration", id, leaf] => {
            let v = leaf.strip_suffix(".json")?;
            Some(Target::RegistrationLeaf(id.to_string(), v.to_string()))
        }
        ["package", id, "index.json"] => Some(Target::FlatVersions(id.to_string())),
        ["package", id, v, file] => Some(Target::FlatFile {
            id: id.to_string(),
            version: v.to_string(),
            file: file.to_string(),
        }),
        ["package", id, v] => Some(Target::V2Download {
            id: id.to_string(),
            version: v.to_string(),
        }),
        ["symbols", file, signature, again] if file == again => Some(Target::Symbol {
            file: file.to_string(),
            signature: signature.to_string(),
        }),
        [function] | [function, "$count"] if function.ends_with(')') => {
            let count = segments.len() == 2;
            v2(function, count)
        }
        [id, v] if !id.is_empty() && !v.is_empty() => version(id, v),
        _ => None,
    }
}

fn v2(segment: &str, count: bool) -> Option<Target> {
    let function = match segment {
        "Packages()" => V2Function::Packages,
        "Search()" => V2Function::Search,
        "FindPackagesById()" => V2Function::FindPackagesById,
        _ if !count => return v2_entry(segment),
        _ => return None,
    };
    Some(Target::V2Feed { function, count })
}

/// `Packages(Id='A',Version='1.0')`, keys in either order.
fn v2_entry(segment: &str) -> Option<Target> {
    let inner = segment.strip_prefix("Packages(")?.strip_suffix(')')?;
    let (mut id, mut version) = (None, None);
    for pair in inner.split(',') {
        let (key, value) = pair.split_once('=')?;
        let value = value.trim().strip_prefix('\'')?.strip_suffix('\'')?;
        match key.trim() {
            "Id" => id = Some(value.to_string()),
            "Version" => version = Some(value.to_string()),
            _ => return None,
        }
    }
    Some(Target::V2Entry {
        id: id?,
        version: version?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_paths() {
        assert_eq!(parse("index.json"), Some(Target::ServiceIndex));
        assert_eq!(
            parse("registration/acme.greet/index.json"),
            Some(Target::RegistrationIndex("acme.greet".into()))
        );
        assert_eq!(
            parse("registration/acme.greet/page/2.json"),
            Some(Target::RegistrationPage("acme.greet".into(), 2))
        );
        assert_eq!(
            parse("registration/acme.greet/1.0.0-beta.json"),
            Some(Target::RegistrationLeaf(
                "acme.greet".into(),
                "1.0.0-beta".into()
            ))
        );
        assert_eq!(
            parse("package/acme.greet/index.json"),
            Some(Target::FlatVersions("acme.greet".into()))
        );
        assert_eq!(
            parse("package/acme.greet/1.0.0/acme.greet.1.0.0.nupkg"),
            Some(Target::FlatFile {
                id: "acme.greet".into(),
                version: "1.0.0".into(),
                file: "acme.greet.1.0.0.nupkg".into()
            })
        );
        assert_eq!(parse("query"), Some(Target::Search));
        assert_eq!(
            parse("symbols/a.pdb/0123abcdFFFFFFFF/a.pdb"),
            Some(Target::Symbol {
                file: "a.pdb".into(),
                signature: "0123abcdFFFFFFFF".into()
            })
        );
        assert_eq!(parse("symbols/a.pdb/x/b.pdb"), None);
    }

    #[test]
    fn push_and_delete_paths() {
        assert_eq!(parse(""), Some(Target::Root));
        for push in ["api/v2/package", "api/v2/package/"] {
            assert_eq!(parse(push), Some(Target::V2Publish), "{push}");
        }
        assert_eq!(parse("symbolpackage"), Some(Target::SymbolPublish));
        let v = Some(Target::Version {
            id: "Acme.Greet".into(),
            version: "1.0.0".into(),
        });
        assert_eq!(parse("Acme.Greet/1.0.0"), v);
        assert_eq!(parse("api/v2/package/Acme.Greet/1.0.0"), v);
        assert_eq!(
            parse("package/Acme.Greet/1.0.0"),
            Some(Target::V2Download {
                id: "Acme.Greet".into(),
                version: "1.0.0".into()
            })
        );
    }

    #[test]
    fn v2_paths() {
        assert_eq!(parse("$metadata"), Some(Target::V2Metadata));
        assert_eq!(parse("%24metadata"), Some(Target::V2Metadata));
        let feed = |function, count| Some(Target::V2Feed { function, count });
        assert_eq!(parse("Packages()"), feed(V2Function::Packages, false));
        assert_eq!(parse("Search()/$count"), feed(V2Function::Search, true));
        assert_eq!(
            parse("FindPackagesById()"),
            feed(V2Function::FindPackagesById, false)
        );
        assert_eq!(
            parse("Packages(Id='Acme.Greet',Version='1.0.0')"),
            Some(Target::V2Entry {
                id: "Acme.Greet".into(),
                version: "1.0.0".into()
            })
        );
        assert_eq!(
            parse("Packages(Version='1.0',Id='A')"),
            Some(Target::V2Entry {
                id: "A".into(),
                version: "1.0".into()
            })
        );
    }

    #[test]
    fn nothing_else() {
        for path in [
            "x",
            "registration/a/page/x.json",
            "registration/a/b",
            "Packages(Id='A')",
            "Packages(Id=A,Version='1')",
            "Other()",
            "Packages(Id='a',Version='1')/$count",
            "a/b/c/d/e",
            "%ff",
        ] {
            assert_eq!(parse(path), None, "{path}");
        }
    }
}

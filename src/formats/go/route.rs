//! What a request path under `/api/packages/{owner}/go/` asks for, by the GOPROXY protocol:
//! `{module}/@v/list`, `{module}/@v/{version}.info|.mod|.zip`, `{module}/@latest`, with the
//! module and version in the proxy's case encoding (decoded here); and `upload`.

use super::module_path::unescape;

/// One request of the protocol, with the module path and version decoded.
#[derive(Debug, PartialEq)]
pub enum Target {
    Upload,
    List {
        module: String,
    },
    Latest {
        module: String,
    },
    Version {
        module: String,
        version: String,
        file: VersionFile,
    },
}

/// The three files of a version.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VersionFile {
    Info,
    Mod,
    Zip,
}

/// The target of `rest` (the path after `/go/`, percent-decoded); `None` for anything else.
/// The decoded module path and version are checked by their own rules afterwards.
pub fn parse(rest: &str) -> Option<Target> {
    if rest == "upload" {
        return Some(Target::Upload);
    }
    if let Some(module) = rest.strip_suffix("/@latest") {
        return Some(Target::Latest {
            module: unescape(module)?,
        });
    }
    let (module, file) = rest.rsplit_once("/@v/")?;
    let module = unescape(module)?;
    if file == "list" {
        return Some(Target::List { module });
    }
    let (version, extension) = file.rsplit_once('.')?;
    let file = match extension {
        "info" => VersionFile::Info,
        "mod" => VersionFile::Mod,
        "zip" => VersionFile::Zip,
        _ => return None,
    };
    Some(Target::Version {
        module,
        version: unescape(version)?,
        file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_paths() {
        assert_eq!(parse("upload"), Some(Target::Upload));
        assert_eq!(
            parse("github.com/!acme/tool/@v/list"),
            Some(Target::List {
                module: "github.com/Acme/tool".into()
            })
        );
        assert_eq!(
            parse("example.com/lib/v2/@latest"),
            Some(Target::Latest {
                module: "example.com/lib/v2".into()
            })
        );
        assert_eq!(
            parse("example.com/lib/@v/v1.0.0-!r!c.1.zip"),
            Some(Target::Version {
                module: "example.com/lib".into(),
                version: "v1.0.0-RC.1".into(),
                file: VersionFile::Zip
            })
        );
        assert_eq!(
            parse("example.com/@v/v1.2.3.info"),
            Some(Target::Version {
                module: "example.com".into(),
                version: "v1.2.3".into(),
                file: VersionFile::Info
            })
        );
        for other in [
            "",
            "example.com/lib",
            "example.com/lib/@v/",
            "example.com/lib/@v/v1.0.0",
            "example.com/lib/@v/v1.0.0.tar",
            "example.com/Lib/@v/list",
            "example.com/lib/@v/V1.0.0.mod",
        ] {
            assert_eq!(parse(other), None, "{other:?}");
        }
    }
}

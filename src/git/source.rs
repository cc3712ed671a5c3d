//! Where a mirror is fetched from: a local path (`file://`) or a remote URL git speaks.

use std::path::PathBuf;

use gix::bstr::ByteSlice;

use super::error::{GitError, chain, redact};

pub(super) enum Source {
    Local(PathBuf),
    Remote(gix::Url),
}

pub(super) fn parse_source(url: &str) -> Result<Source, GitError> {
    let unsupported = |reason: String| GitError::UnsupportedUrl {
        url: redact(url),
        reason,
    };
    let parsed = gix::url::parse(url.as_bytes().as_bstr()).map_err(|e| unsupported(chain(&e)))?;
    match parsed.scheme {
        gix::url::Scheme::File => gix::path::from_bstring(parsed.path)
            .map(Source::Local)
            .map_err(|e| unsupported(chain(&e))),
        gix::url::Scheme::Http | gix::url::Scheme::Https | gix::url::Scheme::Git => {
            Ok(Source::Remote(parsed))
        }
        gix::url::Scheme::Ssh => Err(unsupported(
            "ssh needs the ssh program; use an https URL with GIT_AUTH_TOKEN".into(),
        )),
        other => Err(unsupported(format!(
            "the {other} protocol is not supported"
        ))),
    }
}

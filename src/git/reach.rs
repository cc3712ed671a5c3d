//! Which repositories may be mirrored. Their URLs come from admins and the API, so unchecked
//! they could make the server read its own files (`file://`, plain paths) or reach services on
//! its loopback or private network, a cloud's metadata endpoint at 169.254.169.254 among them
//! (server-side request forgery). Such URLs are refused unless `GIT_ALLOW_LOCAL` allows them
//! (setups that mirror repositories kept on the same machine, and tests).
//!
//! A host name is resolved, and refused when any of its addresses is local. The fetch resolves
//! it again, so a name whose answer changes in between (DNS rebinding) is not caught here; and
//! HTTP redirects are not followed at all when local addresses are refused (`mirror`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

use super::error::{GitError, redact};
use super::source::{Source, parse_source};

/// Which repositories a sync may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Hosts on public networks only.
    PublicOnly,
    /// Also local paths, `file://`, loopback and private networks (`GIT_ALLOW_LOCAL=true`).
    AllowLocal,
}

impl Reach {
    pub fn from_setting(allow_local: bool) -> Self {
        if allow_local {
            Reach::AllowLocal
        } else {
            Reach::PublicOnly
        }
    }
}

/// Refuses a URL that `reach` does not allow, naming why.
pub fn check_url(url: &str, reach: Reach) -> Result<(), GitError> {
    let source = parse_source(url)?;
    if reach == Reach::AllowLocal {
        return Ok(());
    }
    let refused = |reason: String| GitError::NotAllowed {
        url: redact(url),
        reason,
    };
    let remote = match source {
        Source::Local(_) => {
            return Err(refused(
                "local paths and file:// URLs read this server's own files".into(),
            ));
        }
        Source::Remote(remote) => remote,
    };
    let host = remote
        .host()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .filter(|h| !h.is_empty())
        .ok_or_else(|| refused("the URL names no host".into()))?;
    let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        // A name that does not resolve is left to the fetch, which reports it as unreachable.
        Err(_) => (host, remote.port_or_default().unwrap_or(443))
            .to_socket_addrs()
            .map(|found| found.map(|a| a.ip()).collect())
            .unwrap_or_default(),
    };
    match addresses.into_iter().find(|ip| is_local(*ip)) {
        Some(ip) if ip.to_string() == host => Err(refused(format!(
            "{ip} is a loopback, private or link-local address"
        ))),
        Some(ip) => Err(refused(format!(
            "{host} resolves to {ip}, a loopback, private or link-local address"
        ))),
        None => Ok(()),
    }
}

/// Addresses that are this machine or its networks rather than the internet.
fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_local_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_local_v4(v4),
            None => is_local_v6(v6),
        },
    }
}

fn is_local_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        // "this network" 0.0.0.0/8 and carrier-grade NAT 100.64.0.0/10
        || a == 0
        || (a == 100 && (64..128).contains(&b))
}

fn is_local_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // unique local fc00::/7 and link-local fe80::/10
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(url: &str) -> String {
        match check_url(url, Reach::PublicOnly) {
            Err(e @ GitError::NotAllowed { .. }) => e.to_string(),
            other => panic!("{url}: expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn local_urls_are_refused_unless_allowed() {
        for (url, why) in [
            ("file:///srv/git/lib.git", "local paths"),
            ("/srv/git/lib.git", "local paths"),
            ("http://127.0.0.1/acme/lib.git", "127.0.0.1 is a loopback"),
            (
                "http://10.0.0.1/acme/lib.git",
                "10.0.0.1 is a loopback, private",
            ),
            ("https://192.168.1.20/lib.git", "192.168.1.20"),
            ("http://[::1]/acme/lib.git", "::1 is a loopback"),
            ("http://[fd00::5]/lib.git", "fd00::5"),
            ("http://[::ffff:127.0.0.1]/lib.git", "127.0.0.1"),
            (
                "http://169.254.169.254/latest/meta-data/",
                "169.254.169.254",
            ),
            ("git://100.64.0.1/lib.git", "100.64.0.1"),
            (
                "http://localhost:8080/acme/lib.git",
                "localhost resolves to",
            ),
        ] {
            let text = refusal(url);
            assert!(text.contains(why), "{url}: {text}");
            assert!(text.contains("GIT_ALLOW_LOCAL"), "{url}: {text}");
            check_url(url, Reach::AllowLocal).unwrap();
        }
        // Credentials stay out of the message.
        assert!(!refusal("http://bob:s3cret@10.1.2.3/lib.git").contains("s3cret"));
    }

    #[test]
    fn public_addresses_pass() {
        for url in [
            "https://93.184.216.34/acme/lib.git",
            "http://[2606:2800:220:1:248:1893:25c8:1946]/lib.git",
            "git://140.82.112.3/acme/lib.git",
        ] {
            check_url(url, Reach::PublicOnly).unwrap();
        }
        // What no remote may be is refused whatever the reach.
        assert!(matches!(
            check_url("ssh://git@example.org/lib.git", Reach::AllowLocal),
            Err(GitError::UnsupportedUrl { .. })
        ));
    }
}

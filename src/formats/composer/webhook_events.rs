//! Git provider webhooks without HTTP: who signed a delivery (GitHub's and Bitbucket's HMAC-SHA256
//! `sha256=<hex>` over the raw body, GitLab's shared token), which repository it names and whether
//! its event should sync the packages built from that repository.

use serde_json::Value;
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    GitHub,
    GitLab,
    Bitbucket,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
            Provider::Bitbucket => "bitbucket",
        }
    }

    /// The header that names the event.
    pub fn event_header(self) -> &'static str {
        match self {
            Provider::GitHub => "X-GitHub-Event",
            Provider::GitLab => "X-Gitlab-Event",
            Provider::Bitbucket => "X-Event-Key",
        }
    }

    /// The setting that holds this provider's secret.
    pub fn secret_setting(self) -> &'static str {
        match self {
            Provider::GitHub => "GITHUB_WEBHOOK_SECRET",
            Provider::GitLab => "GITLAB_WEBHOOK_SECRET",
            Provider::Bitbucket => "BITBUCKET_WEBHOOK_SECRET",
        }
    }
}

/// How a delivery proved where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// Signature or token checked against the configured secret.
    Signed,
    /// Accepted without a check: Bitbucket with no secret configured.
    Unsigned,
}

/// Checks a delivery against the provider's secret. `header` looks a request header up by name.
/// Errors are the reason for a 401, safe to show to the sender.
pub fn authenticate<'a>(
    provider: Provider,
    secret: Option<&str>,
    header: impl Fn(&str) -> Option<&'a str>,
    body: &[u8],
) -> Result<Verified, String> {
    match provider {
        Provider::GitHub => {
            let secret = secret.ok_or_else(|| not_configured(provider))?;
            let signature = header("X-Hub-Signature-256")
                .ok_or("missing X-Hub-Signature-256 header (set a secret on the GitHub webhook)")?;
            verify_hub_signature(secret, body, signature)?;
            Ok(Verified::Signed)
        }
        Provider::GitLab => {
            let secret = secret.ok_or_else(|| not_configured(provider))?;
            let token = header("X-Gitlab-Token").ok_or(
                "missing X-Gitlab-Token header (set a secret token on the GitLab webhook)",
            )?;
            if bool::from(token.as_bytes().ct_eq(secret.as_bytes())) {
                Ok(Verified::Signed)
            } else {
                Err("X-Gitlab-Token does not match GITLAB_WEBHOOK_SECRET".into())
            }
        }
        Provider::Bitbucket => match secret {
            // Bitbucket signs only when the webhook has a secret; without one here, hooks are
            // taken as they come.
            None => Ok(Verified::Unsigned),
            Some(secret) => {
                let signature = header("X-Hub-Signature").ok_or(
                    "missing X-Hub-Signature header (set the secret on the Bitbucket webhook)",
                )?;
                verify_hub_signature(secret, body, signature)?;
                Ok(Verified::Signed)
            }
        },
    }
}

fn not_configured(provider: Provider) -> String {
    format!(
        "{} webhooks are disabled: {} is not set on this server",
        provider.as_str(),
        provider.secret_setting()
    )
}

/// `sha256=<hex>` must be HMAC-SHA256(secret, body); compared in constant time.
pub fn verify_hub_signature(secret: &str, body: &[u8], header: &str) -> Result<(), String> {
    let hex_digest = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or("signature must have the form sha256=<hex>")?;
    let tag = hex::decode(hex_digest).map_err(|_| "signature must have the form sha256=<hex>")?;
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    aws_lc_rs::hmac::verify(&key, body, &tag)
        .map_err(|_| "signature does not match the body and the configured secret".to_string())
}

/// `sha256=<hex>` of the body, as the providers send it (for tests and tools).
pub fn hub_signature(secret: &str, body: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    format!(
        "sha256={}",
        hex::encode(aws_lc_rs::hmac::sign(&key, body).as_ref())
    )
}

/// The JSON of a form-encoded delivery (`payload=<url-encoded JSON>`, GitHub's default content
/// type); `None` when there is no `payload` field or it is not valid percent-encoded UTF-8.
pub fn form_payload(body: &[u8]) -> Option<Vec<u8>> {
    body.split(|&b| b == b'&').find_map(|pair| {
        let value = pair.strip_prefix(b"payload=")?;
        percent_decode(value)
    })
}

fn percent_decode(value: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = value.get(i + 1..i + 3)?;
                let byte = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                out.push(byte);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(out)
}

/// What to do with a verified delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The provider checks the endpoint: answer 200.
    Ping,
    /// Sync the repository's packages; the text says why (kept as the delivery's outcome).
    Sync(String),
    /// Nothing to do; the text says why.
    Ignore(String),
}

/// Decides what an event means for the packages of its repository.
pub fn action(provider: Provider, event: &str, payload: &Value) -> Action {
    let ref_type = payload["ref_type"].as_str().unwrap_or("");
    match (provider, event) {
        (Provider::GitHub, "ping") => Action::Ping,
        (Provider::GitHub, "push") => Action::Sync(push_summary(payload)),
        // Tags are versions, branches dev versions: both change what Composer sees.
        (Provider::GitHub, "create" | "delete") if matches!(ref_type, "tag" | "branch") => {
            let verb = if event == "create" {
                "created"
            } else {
                "deleted"
            };
            Action::Sync(format!(
                "{ref_type} {} {verb}",
                payload["ref"].as_str().unwrap_or("?")
            ))
        }
        (Provider::GitHub, "create" | "delete") => Action::Ignore(format!(
            "{event} of a {} is not a version change",
            if ref_type.is_empty() { "ref" } else { ref_type }
        )),
        (Provider::GitLab, "Push Hook" | "Tag Push Hook") => Action::Sync(push_summary(payload)),
        // System hooks carry the same payloads, told apart by `event_name`.
        (Provider::GitLab, "System Hook")
            if matches!(payload["event_name"].as_str(), Some("push" | "tag_push")) =>
        {
            Action::Sync(push_summary(payload))
        }
        (Provider::Bitbucket, "diagnostics:ping") => Action::Ping,
        (Provider::Bitbucket, "repo:push") => Action::Sync(bitbucket_push_summary(payload)),
        (_, event) => Action::Ignore(format!("event {event:?} is not handled")),
    }
}

/// `push to refs/tags/v1.0.0` from GitHub's and GitLab's `ref`.
fn push_summary(payload: &Value) -> String {
    match payload["ref"].as_str() {
        Some(r) => format!("push to {r}"),
        None => "push".to_string(),
    }
}

fn bitbucket_push_summary(payload: &Value) -> String {
    let names: Vec<String> = payload["push"]["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|change| {
            let side = if change["new"].is_object() {
                &change["new"]
            } else {
                &change["old"]
            };
            Some(format!(
                "{} {}",
                side["type"].as_str()?,
                side["name"].as_str()?
            ))
        })
        .collect();
    if names.is_empty() {
        "push".to_string()
    } else {
        format!("push to {}", names.join(", "))
    }
}

/// Every spelling of the repository the payload gives, first the one worth showing.
pub fn repository_urls(provider: Provider, payload: &Value) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    let mut add = |value: &Value| {
        if let Some(url) = value.as_str().map(str::trim).filter(|u| !u.is_empty())
            && !urls.iter().any(|u| u == url)
        {
            urls.push(url.to_string());
        }
    };
    match provider {
        Provider::GitHub => {
            let repo = &payload["repository"];
            for key in ["clone_url", "html_url", "ssh_url", "git_url", "svn_url"] {
                add(&repo[key]);
            }
        }
        Provider::GitLab => {
            let project = &payload["project"];
            for key in [
                "git_http_url",
                "git_ssh_url",
                "web_url",
                "http_url",
                "ssh_url",
            ] {
                add(&project[key]);
            }
            let repo = &payload["repository"];
            for key in ["git_http_url", "git_ssh_url", "homepage", "url"] {
                add(&repo[key]);
            }
        }
        Provider::Bitbucket => {
            let repo = &payload["repository"];
            let links = &repo["links"];
            add(&links["html"]["href"]);
            // Bitbucket Data Center: `links.clone` and `links.self` are lists.
            for list in [&links["clone"], &links["self"]] {
                for link in list.as_array().into_iter().flatten() {
                    add(&link["href"]);
                }
            }
            if let Some(full_name) = repo["full_name"].as_str().filter(|n| n.contains('/')) {
                add(&Value::String(format!("https://bitbucket.org/{full_name}")));
            }
        }
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers<'a>(list: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        |name: &str| {
            list.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        }
    }

    #[test]
    fn github_signature_matches_the_documented_example() {
        // From GitHub's "Validating webhook deliveries".
        let sig = hub_signature("It's a Secret to Everybody", b"Hello, World!");
        assert_eq!(
            sig,
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        assert!(verify_hub_signature("It's a Secret to Everybody", b"Hello, World!", &sig).is_ok());
        assert!(verify_hub_signature("other", b"Hello, World!", &sig).is_err());
        assert!(
            verify_hub_signature("It's a Secret to Everybody", b"Hello, World?", &sig).is_err()
        );
        assert!(verify_hub_signature("s", b"x", "sha1=abcd").is_err());
        assert!(verify_hub_signature("s", b"x", "sha256=zz").is_err());
        assert!(verify_hub_signature("s", b"x", "sha256=").is_err());
    }

    #[test]
    fn unconfigured_secrets_refuse_except_bitbucket() {
        let body = b"{}";
        let sig = hub_signature("s3cret", body);
        let signed = [
            ("X-Hub-Signature-256", sig.as_str()),
            ("X-Hub-Signature", sig.as_str()),
            ("X-Gitlab-Token", "s3cret"),
        ];
        for provider in [Provider::GitHub, Provider::GitLab] {
            let err = authenticate(provider, None, headers(&signed), body).unwrap_err();
            assert!(err.contains(provider.secret_setting()), "{err}");
            assert_eq!(
                authenticate(provider, Some("s3cret"), headers(&signed), body),
                Ok(Verified::Signed)
            );
            assert!(authenticate(provider, Some("other"), headers(&signed), body).is_err());
            assert!(authenticate(provider, Some("s3cret"), headers(&[]), body).is_err());
        }
        assert_eq!(
            authenticate(Provider::Bitbucket, None, headers(&[]), body),
            Ok(Verified::Unsigned)
        );
        assert_eq!(
            authenticate(Provider::Bitbucket, Some("s3cret"), headers(&signed), body),
            Ok(Verified::Signed)
        );
        assert!(authenticate(Provider::Bitbucket, Some("s3cret"), headers(&[]), body).is_err());
        assert!(authenticate(Provider::Bitbucket, Some("other"), headers(&signed), body).is_err());
        // GitLab's token is compared whole.
        let prefix = [("X-Gitlab-Token", "s3cre")];
        assert!(authenticate(Provider::GitLab, Some("s3cret"), headers(&prefix), body).is_err());
    }

    #[test]
    fn events_map_to_actions() {
        let tag = json!({"ref": "v1.0.0", "ref_type": "tag"});
        assert_eq!(action(Provider::GitHub, "ping", &json!({})), Action::Ping);
        assert!(
            matches!(action(Provider::GitHub, "push", &json!({"ref": "refs/heads/main"})), Action::Sync(s) if s == "push to refs/heads/main")
        );
        assert!(
            matches!(action(Provider::GitHub, "create", &tag), Action::Sync(s) if s == "tag v1.0.0 created")
        );
        assert!(
            matches!(action(Provider::GitHub, "delete", &tag), Action::Sync(s) if s == "tag v1.0.0 deleted")
        );
        assert!(matches!(
            action(
                Provider::GitHub,
                "create",
                &json!({"ref_type": "repository"})
            ),
            Action::Ignore(_)
        ));
        assert!(matches!(
            action(Provider::GitHub, "issues", &json!({})),
            Action::Ignore(_)
        ));
        assert!(matches!(
            action(
                Provider::GitLab,
                "Tag Push Hook",
                &json!({"ref": "refs/tags/v2"})
            ),
            Action::Sync(_)
        ));
        assert!(matches!(
            action(Provider::GitLab, "Push Hook", &json!({})),
            Action::Sync(_)
        ));
        assert!(matches!(
            action(
                Provider::GitLab,
                "System Hook",
                &json!({"event_name": "tag_push"})
            ),
            Action::Sync(_)
        ));
        assert!(matches!(
            action(Provider::GitLab, "Merge Request Hook", &json!({})),
            Action::Ignore(_)
        ));
        let push =
            json!({"push": {"changes": [{"new": {"type": "tag", "name": "v3.0.0"}, "old": null}]}});
        assert!(
            matches!(action(Provider::Bitbucket, "repo:push", &push), Action::Sync(s) if s == "push to tag v3.0.0")
        );
        assert_eq!(
            action(Provider::Bitbucket, "diagnostics:ping", &json!({})),
            Action::Ping
        );
        assert!(matches!(
            action(Provider::GitHub, "repo:push", &json!({})),
            Action::Ignore(_)
        ));
    }

    #[test]
    fn repository_spellings_come_from_each_payload() {
        let gh = json!({"repository": {
            "clone_url": "https://github.com/acme/core.git",
            "html_url": "https://github.com/acme/core",
            "ssh_url": "git@github.com:acme/core.git",
            "git_url": "git://github.com/acme/core.git",
        }});
        let urls = repository_urls(Provider::GitHub, &gh);
        assert_eq!(urls[0], "https://github.com/acme/core.git");
        assert_eq!(urls.len(), 4);
        let gl = json!({
            "project": {"git_http_url": "https://gitlab.com/acme/core.git", "git_ssh_url": "git@gitlab.com:acme/core.git", "web_url": "https://gitlab.com/acme/core"},
            "repository": {"homepage": "https://gitlab.com/acme/core"},
        });
        assert_eq!(repository_urls(Provider::GitLab, &gl).len(), 3);
        let bb = json!({"repository": {"full_name": "acme/core", "links": {"html": {"href": "https://bitbucket.org/acme/core"}}}});
        assert_eq!(
            repository_urls(Provider::Bitbucket, &bb),
            ["https://bitbucket.org/acme/core"]
        );
        let bb = json!({"repository": {"full_name": "acme/core"}});
        assert_eq!(
            repository_urls(Provider::Bitbucket, &bb),
            ["https://bitbucket.org/acme/core"]
        );
        assert!(repository_urls(Provider::GitHub, &json!({"zen": "x"})).is_empty());
    }

    #[test]
    fn form_encoded_payloads_are_decoded() {
        assert_eq!(
            form_payload(b"payload=%7B%22a%22%3A+1%7D").unwrap(),
            b"{\"a\": 1}"
        );
        assert_eq!(form_payload(b"x=1&payload=%7B%7D").unwrap(), b"{}");
        assert!(form_payload(b"x=1").is_none());
        assert!(form_payload(b"payload=%7").is_none());
    }
}

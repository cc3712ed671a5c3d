//! Token auth as Docker clients do it: every 401 under `/v2/` carries
//! `Bearer realm="{BASE_URL}/v2/token",service="{host}"`; the client calls the realm with its
//! Basic credentials (a team or customer token as password) or with none, and sends the token it
//! gets as Bearer from then on. The token stands for the caller (`auth::delegated`), so what it
//! may do is decided per request as for the credentials themselves, and only on the
//! repositories it was fetched for (`TokenScope`): a token fetched for one repository reads and
//! writes no other, nor lists the catalog unless asked for that. Anonymous callers get one too, which reads public owners only. A refused
//! request's challenge names the scope it needs (`scoped_challenge`), which is what clients ask
//! the token endpoint for next.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Params;
use super::errors::Failure;
use crate::auth::{Authenticated, Permission};
use crate::state::AppState;

/// The `WWW-Authenticate` value of the registry's 401s.
pub fn challenge(base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let service = base
        .split_once("://")
        .map_or(base, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    format!(r#"Bearer realm="{base}/v2/token",service="{service}""#)
}

/// What a request does to a repository, in the terms of token scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Pull,
    Push,
    Delete,
}

impl Action {
    /// The actions a challenge asks for.
    fn requested(self) -> &'static str {
        match self {
            Action::Pull => "pull",
            Action::Push => "pull,push",
            Action::Delete => "delete",
        }
    }

    /// Whether one granted action of a scope covers this one. Deletes are allowed to a token
    /// asked for `push` too, as registries without a separate delete right do (skopeo asks `*`).
    fn covered_by(self, granted: &str) -> bool {
        granted == "*"
            || match self {
                Action::Pull => granted == "pull",
                Action::Push => granted == "push",
                Action::Delete => granted == "delete" || granted == "push",
            }
    }
}

/// The scopes a delegated token was issued for, in Docker's token scope grammar: entries
/// `type[(class)]:name:action[,action…]` separated by spaces, such as
/// `repository:acme/app:pull,push registry:catalog:*`. Malformed entries grant nothing.
#[derive(Debug, Clone, Default)]
pub struct TokenScope(Vec<ScopeEntry>);

#[derive(Debug, Clone)]
struct ScopeEntry {
    kind: String,
    name: String,
    actions: Vec<String>,
}

impl TokenScope {
    pub fn parse(scope: &str) -> TokenScope {
        let entries = scope.split_whitespace().filter_map(|entry| {
            let (kind, rest) = entry.split_once(':')?;
            // The name may hold a colon itself (`host:5000/app`): the actions follow the last.
            let (name, actions) = rest.rsplit_once(':')?;
            let kind = kind.split_once('(').map_or(kind, |(kind, _)| kind);
            Some(ScopeEntry {
                kind: kind.to_string(),
                name: name.to_string(),
                actions: actions.split(',').map(str::to_string).collect(),
            })
        });
        TokenScope(entries.collect())
    }

    /// Whether the token may do `action` to repository `name` (`owner/image…`; names are
    /// compared as the client wrote them, lower-case).
    pub fn allows(&self, name: &str, action: Action) -> bool {
        self.0.iter().any(|entry| {
            entry.kind == "repository"
                && entry.name.eq_ignore_ascii_case(name)
                && entry.actions.iter().any(|a| action.covered_by(a))
        })
    }

    /// Whether the token may list the catalog (`registry:catalog:*`).
    pub fn allows_catalog(&self) -> bool {
        self.0.iter().any(|entry| {
            entry.kind == "registry"
                && entry.name == "catalog"
                && entry.actions.iter().any(|a| a == "*")
        })
    }
}

impl TokenScope {
    /// The scope a token is issued with: the repositories asked for (only those the presented
    /// token held, when a registry token is traded in), each with every action the caller's
    /// rights allow there (`pull`, and `push,delete` for writers), and the catalog if asked for
    /// (and held). A token is thus good for the repositories it was fetched for and no other,
    /// while a client that fetched one to pull may push with it where it may write (oras-py
    /// keeps its first token for a whole push).
    pub fn granted(requested: &str, held: Option<&TokenScope>, writer: bool) -> String {
        let actions = if writer { "pull,push,delete" } else { "pull" };
        let mut granted: Vec<String> = Vec::new();
        for entry in TokenScope::parse(requested).0 {
            let scope = match entry.kind.as_str() {
                "repository" if held.is_none_or(|held| held.names(&entry.name)) => {
                    format!("repository:{}:{actions}", entry.name)
                }
                "registry"
                    if entry.name == "catalog" && held.is_none_or(TokenScope::allows_catalog) =>
                {
                    "registry:catalog:*".to_string()
                }
                _ => continue,
            };
            if !granted.contains(&scope) {
                granted.push(scope);
            }
        }
        granted.join(" ")
    }

    /// Whether the scope names repository `name` at all.
    fn names(&self, name: &str) -> bool {
        let named = |entry: &ScopeEntry| {
            entry.kind == "repository" && entry.name.eq_ignore_ascii_case(name)
        };
        self.0.iter().any(named)
    }
}

/// The scope a challenge asks for: a repository and action, or the catalog.
pub enum Needed<'a> {
    Repository(&'a str, Action),
    Catalog,
}

/// `challenge` with the scope the refused request needs, and `error="insufficient_scope"` when
/// the token presented was valid but fetched for other scopes.
pub fn scoped_challenge(base_url: &str, needed: Needed<'_>, insufficient: bool) -> String {
    let scope = match needed {
        Needed::Repository(name, action) => format!("repository:{name}:{}", action.requested()),
        Needed::Catalog => "registry:catalog:*".to_string(),
    };
    let error = if insufficient {
        r#",error="insufficient_scope""#
    } else {
        ""
    };
    format!(r#"{},scope="{scope}"{error}"#, challenge(base_url))
}

/// `GET /v2/token?service=…&scope=…` (scope may repeat).
pub async fn token(
    State(state): State<AppState>,
    caller: Authenticated,
    Query(query): Query<Params>,
) -> Result<Response, Failure> {
    let requested = query.all("scope").collect::<Vec<_>>().join(" ");
    let held = caller.delegated_scope.as_deref().map(TokenScope::parse);
    let writer = caller.principal.require(Permission::WritePackages).is_ok();
    let scope = TokenScope::granted(&requested, held.as_ref(), writer);
    let issued = state.auth.delegate(&caller.principal, &scope).await?;
    let issued_at = crate::clock::rfc3339(issued.issued_at);
    let body = json!({
        "token": issued.token,
        "access_token": issued.token,
        "expires_in": issued.expires_in,
        "issued_at": issued_at,
    });
    Ok(axum::Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_allow_what_they_name() {
        let scope = TokenScope::parse(
            "repository:acme/app:pull,push repository(plugin):acme/base:pull registry:catalog:*",
        );
        assert!(scope.allows("acme/app", Action::Pull));
        assert!(scope.allows("acme/app", Action::Push));
        assert!(scope.allows("acme/app", Action::Delete));
        assert!(scope.allows("acme/base", Action::Pull));
        assert!(!scope.allows("acme/base", Action::Push));
        assert!(!scope.allows("acme/other", Action::Pull));
        assert!(!scope.allows("acme", Action::Pull));
        assert!(scope.allows_catalog());

        let everything = TokenScope::parse("repository:127.0.0.1:5000/acme/app:*");
        assert!(everything.allows("127.0.0.1:5000/acme/app", Action::Delete));
        assert!(!everything.allows_catalog());

        let delete_only = TokenScope::parse("repository:acme/app:delete");
        assert!(delete_only.allows("acme/app", Action::Delete));
        assert!(!delete_only.allows("acme/app", Action::Pull));

        for nothing in [
            "",
            "garbage",
            "repository:acme/app",
            "registry:catalog:pull",
        ] {
            let scope = TokenScope::parse(nothing);
            assert!(!scope.allows("acme/app", Action::Pull), "{nothing}");
            assert!(!scope.allows_catalog(), "{nothing}");
        }
    }

    #[test]
    fn tokens_are_granted_the_callers_actions_on_the_repositories_asked_for() {
        let asked = "repository:acme/app:pull repository:acme/lib:push registry:catalog:* x:y:z";
        assert_eq!(
            TokenScope::granted(asked, None, true),
            "repository:acme/app:pull,push,delete repository:acme/lib:pull,push,delete registry:catalog:*"
        );
        assert_eq!(
            TokenScope::granted("repository:acme/app:pull,push", None, false),
            "repository:acme/app:pull"
        );
        // A traded-in token buys no repository it did not hold.
        let held = TokenScope::parse("repository:acme/app:pull");
        assert_eq!(
            TokenScope::granted(asked, Some(&held), true),
            "repository:acme/app:pull,push,delete"
        );
        assert_eq!(TokenScope::granted("", None, true), "");
    }

    #[test]
    fn scoped_challenges_name_the_scope_needed() {
        assert_eq!(
            scoped_challenge(
                "http://h:1",
                Needed::Repository("acme/app", Action::Push),
                false
            ),
            r#"Bearer realm="http://h:1/v2/token",service="h:1",scope="repository:acme/app:pull,push""#
        );
        assert_eq!(
            scoped_challenge("http://h:1", Needed::Catalog, true),
            r#"Bearer realm="http://h:1/v2/token",service="h:1",scope="registry:catalog:*",error="insufficient_scope""#
        );
    }

    #[test]
    fn challenge_names_the_token_endpoint_and_the_host() {
        assert_eq!(
            challenge("http://127.0.0.1:8080/"),
            r#"Bearer realm="http://127.0.0.1:8080/v2/token",service="127.0.0.1:8080""#
        );
        assert_eq!(
            challenge("https://registry.example.com"),
            r#"Bearer realm="https://registry.example.com/v2/token",service="registry.example.com""#
        );
    }
}

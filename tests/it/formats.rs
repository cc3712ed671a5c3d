//! The format registration point, proven with a toy format that only a test registers: its
//! routes are served beside the real formats, its own 401 challenge reaches the client, and its
//! management routes get the API's envelope.

use axum::Router;
use axum::http::HeaderValue;
use axum::routing::get;

use crate::common::{TestServer, backends};
use cargoman::auth::{Permission, Principal};
use cargoman::config::Config;
use cargoman::error::Result;
use cargoman::format::Format;
use cargoman::state::AppState;

struct Toy;

async fn hello(principal: Principal) -> Result<&'static str> {
    principal.require(Permission::ReadPackages)?;
    Ok("hello from toy\n")
}

impl Format for Toy {
    fn name(&self) -> &'static str {
        "toy"
    }

    fn routes(&self) -> Router<AppState> {
        Router::new().route("/toy/hello", get(hello))
    }

    fn api_routes(&self) -> Router<AppState> {
        Router::new().route("/toy/status", get(hello))
    }

    fn challenge(&self, config: &Config) -> Option<HeaderValue> {
        HeaderValue::from_str(&format!(
            r#"Bearer realm="{}/toy/token",service="toy""#,
            config.base_url
        ))
        .ok()
    }
}

fn with_toy() -> Vec<Box<dyn Format>> {
    let mut formats = cargoman::formats::all();
    formats.push(Box::new(Toy));
    formats
}

#[test]
fn a_registered_format_serves_its_routes_with_its_own_challenge() {
    for backend in backends() {
        let s = TestServer::start_speaking(backend, &[], with_toy);
        let anonymous = s.curl(&["/toy/hello"]);
        assert_eq!(anonymous.status, 401);
        let challenge = anonymous.header("www-authenticate").unwrap();
        assert!(
            challenge.starts_with("Bearer realm=") && challenge.contains(r#"service="toy""#),
            "{challenge}"
        );
        let served = s.admin(&["/toy/hello"]);
        assert_eq!(served.status, 200);
        assert_eq!(served.text(), "hello from toy\n");
        // Its management route is under /api/v1 with the envelope; other formats keep theirs.
        let api = s.curl(&["/api/v1/toy/status"]);
        assert_eq!(api.status, 401);
        assert_eq!(api.json()["error"]["code"], "UNAUTHORIZED");
        let generic = s.curl(&["/api/packages/acme/generic/tool/1.0/f.bin"]);
        assert_eq!(generic.status, 401);
        assert!(
            generic
                .header("www-authenticate")
                .unwrap()
                .starts_with("Basic"),
            "the default challenge stays with the other formats"
        );
    }
}

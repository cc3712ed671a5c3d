//! A minimum rate for request bodies, in the one place every upload passes: a client that
//! trickles a body (a few bytes now and then) would otherwise hold a connection, a spool file or
//! a storage write open for as long as it likes. A body that delivers fewer than
//! `bytes_per_second × window` bytes during a `window` of waiting for it is cut: the handler sees
//! its body break off (and stores nothing, as for any interrupted upload), and the answer
//! becomes 408 whatever the handler made of it.
//!
//! Only time spent waiting for the client counts: while a handler is busy elsewhere (writing to
//! storage) it does not read, and the client's bytes queue up without the client being slow.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use crate::config::MinBodyRate;
use crate::error::Error;

pub async fn enforce(State(rate): State<MinBodyRate>, request: Request, next: Next) -> Response {
    if rate.bytes_per_second == 0 || request.body().is_end_stream() {
        return next.run(request).await;
    }
    let cut = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| {
        Body::from_stream(Metered {
            inner: body.into_data_stream(),
            min_bytes: rate
                .bytes_per_second
                .saturating_mul(rate.window.as_secs().max(1)),
            window: rate.window,
            bytes: 0,
            waited: Duration::ZERO,
            waiting_since: None,
            deadline: Box::pin(tokio::time::sleep(rate.window)),
            cut: cut.clone(),
        })
    });
    let response = next.run(request).await;
    if cut.load(Ordering::Acquire) {
        return Error::RequestTimeout(format!(
            "the request body arrived slower than {} bytes per second",
            rate.bytes_per_second
        ))
        .into_response();
    }
    response
}

/// The body cut for being too slow.
#[derive(Debug, thiserror::Error)]
#[error("request body too slow")]
struct TooSlow;

struct Metered {
    inner: axum::body::BodyDataStream,
    min_bytes: u64,
    window: Duration,
    /// Bytes received in the current window.
    bytes: u64,
    /// Time spent waiting for the client in the current window, up to `waiting_since`.
    waited: Duration,
    waiting_since: Option<Instant>,
    /// When the current wait uses up the window.
    deadline: Pin<Box<Sleep>>,
    cut: Arc<AtomicBool>,
}

impl Metered {
    /// Ends the current window; false when the client sent too little in it.
    fn close_window(&mut self) -> bool {
        let enough = self.bytes >= self.min_bytes;
        self.bytes = 0;
        self.waited = Duration::ZERO;
        enough
    }

    fn refuse(&mut self) -> Poll<Option<<Self as Stream>::Item>> {
        self.cut.store(true, Ordering::Release);
        Poll::Ready(Some(Err(TooSlow.into())))
    }
}

impl Stream for Metered {
    type Item = Result<Bytes, axum::BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if let Some(since) = this.waiting_since.take() {
                    this.waited += since.elapsed();
                }
                this.bytes += chunk.len() as u64;
                if this.waited >= this.window && !this.close_window() {
                    return this.refuse();
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                let now = Instant::now();
                let since = *this.waiting_since.get_or_insert(now);
                let left = this.window.saturating_sub(this.waited);
                this.deadline.as_mut().reset(since + left);
                if this.deadline.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                // The window's waiting time is used up with the client silent.
                this.waiting_since = Some(now);
                if !this.close_window() {
                    return this.refuse();
                }
                this.deadline.as_mut().reset(now + this.window);
                let _ = this.deadline.as_mut().poll(cx);
                Poll::Pending
            }
        }
    }
}

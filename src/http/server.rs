//! Serving connections with hyper directly instead of `axum::serve`, for two reasons:
//!
//! - a header-read timeout, which `axum::serve` cannot set: without one a client that sends half a
//!   request head and stalls holds its connection (and a task) forever;
//! - one thread per core, each with its own single-threaded runtime accepting from the shared
//!   listener and serving its connections start to finish, as nginx's workers do. A
//!   work-stealing runtime moves each wake-up between cores (futex calls, context switches,
//!   contended reference counts), which profiles of small reads showed as the largest cost after
//!   the kernel's own; serving a connection on one thread roughly doubled small-read throughput.
//!
//! Otherwise this does what `axum::serve` did: TCP_NODELAY, `ConnectInfo<SocketAddr>` for every
//! request, and a graceful stop that refuses new connections and lets requests in flight finish.
//! With a TLS acceptor (`http::tls`) each connection's handshake runs on its own task, bounded by
//! the header-read timeout too.
//! Database and storage connections opened while serving belong to the thread that opened them,
//! so the threads stay up (idle) after the stop until `Drained::release`, when nothing uses those
//! connections any more.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio_rustls::TlsAcceptor;
use tower::Service;

use crate::error::{Error, Result};

/// The serving threads after a stop: their connections are finished, their runtimes still up.
pub struct Drained {
    release: watch::Sender<bool>,
    exited: Vec<oneshot::Receiver<()>>,
}

impl Drained {
    /// Lets the serving threads end (and drop what their runtimes hold).
    pub async fn release(self) {
        let _ = self.release.send(true);
        for exited in self.exited {
            let _ = exited.await;
        }
    }
}

/// Serves `app` on `listener` with one thread per core until `shutdown` resolves, then waits for
/// open connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) -> Result<Drained> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let listener = listener.into_std()?;
    let (stop, stopped) = watch::channel(false);
    let (release, released) = watch::channel(false);
    let (mut drained, mut exited) = (Vec::new(), Vec::new());
    for n in 0..threads {
        let listener = listener.try_clone()?;
        let (app, tls) = (app.clone(), tls.clone());
        let (mut stopped, mut released) = (stopped.clone(), released.clone());
        let (drained_tx, drained_rx) = oneshot::channel::<()>();
        let (exited_tx, exited_rx) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name(format!("http-{n}"))
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => {
                            let stop = async move {
                                let _ = stopped.wait_for(|s| *s).await;
                            };
                            accept_loop(listener, app, header_read_timeout, tls, stop).await;
                        }
                        Err(e) => tracing::error!(error = %e, "could not listen on this thread"),
                    }
                    let _ = drained_tx.send(());
                    let _ = released.wait_for(|r| *r).await;
                });
                drop(runtime);
                let _ = exited_tx.send(());
            })
            .map_err(|e| Error::internal(format!("cannot start a serving thread: {e}")))?;
        drained.push(drained_rx);
        exited.push(exited_rx);
    }
    shutdown.await;
    let _ = stop.send(true);
    for thread in drained {
        let _ = thread.await;
    }
    Ok(Drained { release, exited })
}

/// Accepts and serves connections on this thread until `shutdown` resolves, then waits for them
/// to finish.
async fn accept_loop(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: accepting again at once would spin.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Without TCP_NODELAY a small response written in two parts waits ~40 ms for a delayed ACK.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let service = match make_service.call(remote).await {
            Ok(service) => service,
            Err(never) => match never {},
        };
        let service = TowerToHyperService::new(service);
        let Some(tls) = &tls else {
            let connection = graceful.watch(http.serve_connection(TokioIo::new(tcp), service));
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(%remote, error = %e, "connection ended with an error");
                }
            });
            continue;
        };
        let (tls, http, watcher) = (tls.clone(), http.clone(), graceful.watcher());
        tokio::spawn(async move {
            let Some(stream) = handshake(&tls, tcp, remote, header_read_timeout).await else {
                return;
            };
            let connection = watcher.watch(http.serve_connection(TokioIo::new(stream), service));
            if let Err(e) = connection.await {
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The TLS session of a new connection, or `None` (logged) when the client does not complete the
/// handshake in time or at all.
async fn handshake(
    tls: &TlsAcceptor,
    tcp: TcpStream,
    remote: SocketAddr,
    timeout: Duration,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(timeout, tls.accept(tcp)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(e)) => {
            tracing::debug!(%remote, error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(%remote, "TLS handshake timed out");
            None
        }
    }
}

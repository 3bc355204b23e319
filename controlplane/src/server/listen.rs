//! The accept loop every client connection goes through, so that no client can hold the
//! server's sockets or memory for free:
//!
//! - at most `max_connections` are served at once; the rest wait in the kernel's listen backlog
//!   until one closes (accepting is paused, nothing is refused while the backlog has room);
//! - a connection that reads and writes nothing for `idle_timeout` is closed (tokio-io-timeout on
//!   the socket, under TLS): idle keep-alive connections, bodies that stall, answers not read;
//! - with TLS, the handshake must finish within `header_read_timeout`;
//! - HTTP/1.1 (hyper) closes a connection whose request head is not complete within
//!   `header_read_timeout` of the server waiting for it (slowloris; this also bounds how long
//!   a keep-alive connection may sit between requests);
//! - on shutdown no connection is accepted any more and the open ones finish their request
//!   (for at most [`SHUTDOWN_GRACE`]).

use crate::config::HttpConfig;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;
use tokio_rustls::TlsAcceptor;

/// Longest wait for open connections to finish at shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    cfg: HttpConfig,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(cfg.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(cfg.header_read_timeout)
        .keep_alive(true);
    let cfg = Arc::new(cfg);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.expect("the connection semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let conn = Connection {
            app: app.clone(),
            tls: tls.clone(),
            http: http.clone(),
            cfg: cfg.clone(),
            watcher: graceful.watcher(),
        };
        tokio::spawn(async move {
            let _open = crate::metrics::connection_opened();
            conn.serve(tcp, peer).await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!(grace_secs = SHUTDOWN_GRACE.as_secs(), "connections still open at shutdown were dropped");
        }
    }
}

/// Too many open files and the like: say so and give the system a moment instead of spinning.
async fn accept_failed(e: std::io::Error) {
    tracing::warn!(error = %e, "accepting a connection failed; retrying in 100 ms (is the open-file limit too low for max_connections?)");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// What one connection's task needs.
struct Connection {
    app: Router,
    tls: Option<TlsAcceptor>,
    http: http1::Builder,
    cfg: Arc<HttpConfig>,
    watcher: Watcher,
}

impl Connection {
    async fn serve(self, tcp: TcpStream, peer: SocketAddr) {
        let _ = tcp.set_nodelay(true);
        let mut io = TimeoutStream::new(tcp);
        io.set_read_timeout(Some(self.cfg.idle_timeout));
        io.set_write_timeout(Some(self.cfg.idle_timeout));
        let io = Box::pin(io);
        let service = TowerToHyperService::new(self.app);
        let done = match self.tls {
            None => {
                let conn = self.http.serve_connection(TokioIo::new(io), service);
                self.watcher.watch(conn).await
            }
            Some(acceptor) => {
                let handshake = acceptor.accept(io);
                let tls = match tokio::time::timeout(self.cfg.header_read_timeout, handshake).await
                {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake not finished in time; closed");
                        return;
                    }
                };
                let conn = self.http.serve_connection(TokioIo::new(tls), service);
                self.watcher.watch(conn).await
            }
        };
        if let Err(e) = done {
            // timeouts, resets, garbage: the client's problem, not the server's
            tracing::debug!(%peer, error = %e, "connection ended");
        }
    }
}

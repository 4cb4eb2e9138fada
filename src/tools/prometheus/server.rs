//! The exporter's HTTP server: hyper's HTTP/1 server on a current-thread tokio runtime that
//! lives on one thread of its own.
//!
//! Why this shape: the runtime owns every connection task, so shutting down (stop the accept
//! loop, drop the runtime, join the thread) closes the listener and every open connection, a
//! scraper's keep-alive one included, before `shutdown` returns. Servers with their own
//! detached worker pools (tiny_http keeps four threads forever) cannot promise that.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::thread::JoinHandle;

use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::registry::Registry;
use tokio::sync::oneshot;

use super::metrics::{ScrapeCounts, ScrapeMetrics};
use crate::error::{Error, Result};
use crate::report::Report;

/// Where each scrape's report comes from: `Ok(None)` between runs.
pub(crate) type Source = Arc<dyn Fn() -> Result<Option<Report>> + Send + Sync>;

/// A running `/metrics` endpoint. Dropping it shuts it down, as [`Exporter::shutdown`] does.
#[derive(Debug)]
pub struct Exporter {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Exporter {
    /// The address the server listens on (with the port the OS chose, for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops the server: closes the listener and every open connection and joins its thread;
    /// when it returns, the port is free and no thread of the exporter is left.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            // An error means the server thread has ended already; joining is all that is left.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            eprintln!("[tickprof] the Prometheus exporter's thread panicked");
        }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// How long a connection may take to send a request's headers (hyper's default, made explicit):
/// a client that connects and sends nothing is closed after it, not kept until shutdown.
const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How long the accept loop waits after `accept` failed for want of a resource (out of file
/// descriptors, `EMFILE`/`ENFILE`, or of memory): retrying at once fails again at once until a
/// descriptor is freed, and burned a core doing so. Meanwhile the connections already open are
/// served as usual; a connection waiting to be accepted waits in the listen backlog.
pub const ACCEPT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(100);

/// Counters shared by the server's connections.
#[derive(Debug, Default)]
struct Counters {
    scrapes: AtomicU64,
    errors: AtomicU64,
    accept_errors: AtomicU64,
}

/// Binds `address` and starts serving `source` on `/metrics`.
pub(crate) fn start(address: &str, source: Source) -> Result<Exporter> {
    let listen_error = |source| Error::Listen {
        address: address.to_owned(),
        source,
    };
    let listener = std::net::TcpListener::bind(address).map_err(listen_error)?;
    let local_addr = listener.local_addr().map_err(listen_error)?;
    listener.set_nonblocking(true).map_err(listen_error)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(listen_error)?;
    let listener = {
        let _context = runtime.enter();
        tokio::net::TcpListener::from_std(listener).map_err(listen_error)?
    };
    let (stop, stopped) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("tickprof-exporter".to_owned())
        .spawn(move || {
            // tickprof's own work is never profiled, whatever the global subscriber is.
            let _quiet =
                tracing::subscriber::set_default(tracing::subscriber::NoSubscriber::default());
            runtime.block_on(accept_loop(listener, stopped, source));
            // Dropping the runtime here drops every connection task, closing their sockets.
            drop(runtime);
        })
        .map_err(listen_error)?;
    Ok(Exporter {
        local_addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// Accepts connections until `stopped` fires (or its sender is dropped).
async fn accept_loop(
    listener: tokio::net::TcpListener,
    mut stopped: oneshot::Receiver<()>,
    source: Source,
) {
    let counters = Arc::new(Counters::default());
    // One scrape at a time: a snapshot walks every thread's histograms, and concurrent
    // scrapers gain nothing from doing it twice at once.
    let scrape_lock = Arc::new(Mutex::new(()));
    loop {
        let accepted = std::future::poll_fn(|cx| {
            if Pin::new(&mut stopped).poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            listener.poll_accept(cx).map(Some)
        })
        .await;
        let stream = match accepted {
            None => return,
            Some(Ok((stream, _peer))) => stream,
            Some(Err(error)) => {
                // Relaxed: an independent statistic.
                counters.accept_errors.fetch_add(1, Ordering::Relaxed);
                // A connection reset or aborted before it was accepted ends only itself; any
                // other error (out of descriptors or memory) would repeat at once.
                if !is_connection_error(&error) && back_off(&mut stopped).await.is_break() {
                    return;
                }
                continue;
            }
        };
        let (source, counters, scrape_lock) =
            (source.clone(), counters.clone(), scrape_lock.clone());
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let response = respond(&request, &source, &counters, &scrape_lock);
            async move { Ok::<_, Infallible>(response) }
        });
        tokio::spawn(async move {
            // A connection that fails (peer gone mid-request) ends only itself.
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Errors of one connection, not of the listener: the next `accept` may well succeed.
fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    )
}

/// Waits [`ACCEPT_BACKOFF`], letting the runtime serve the open connections meanwhile;
/// `Break` if `stopped` fired while waiting.
async fn back_off(stopped: &mut oneshot::Receiver<()>) -> ControlFlow<()> {
    let mut sleep = std::pin::pin!(tokio::time::sleep(ACCEPT_BACKOFF));
    std::future::poll_fn(|cx| {
        if Pin::new(&mut *stopped).poll(cx).is_ready() {
            return Poll::Ready(ControlFlow::Break(()));
        }
        sleep.as_mut().poll(cx).map(ControlFlow::Continue)
    })
    .await
}

/// Answers one request: `GET /metrics` scrapes, anything else is 404 or 405.
fn respond(
    request: &Request<Incoming>,
    source: &Source,
    counters: &Counters,
    scrape_lock: &Mutex<()>,
) -> Response<String> {
    if request.uri().path() != "/metrics" {
        return text(
            StatusCode::NOT_FOUND,
            "not found: tickprof serves /metrics\n".to_owned(),
        );
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "use GET /metrics\n".to_owned(),
        );
        // RFC 9110 §15.5.6: a 405 names the methods the resource serves.
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let _one_at_a_time = scrape_lock
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Relaxed: the counts are independent statistics; nothing else is ordered by them.
    let scrapes = counters.scrapes.fetch_add(1, Ordering::Relaxed) + 1;
    match scrape(source, counters, scrapes) {
        Ok(body) => {
            let mut response = Response::new(body);
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static(
                    prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
                ),
            );
            response
        }
        Err(message) => {
            counters.errors.fetch_add(1, Ordering::Relaxed);
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("tickprof: scrape failed: {message}\n"),
            )
        }
    }
}

/// Takes the report and encodes it; the error is a message for the 500 response.
fn scrape(source: &Source, counters: &Counters, scrapes: u64) -> Result<String, String> {
    let report = source().map_err(|e| e.to_string())?;
    let metrics = ScrapeMetrics {
        report,
        counts: ScrapeCounts {
            scrapes,
            errors: counters.errors.load(Ordering::Relaxed),
            accept_errors: Some(counters.accept_errors.load(Ordering::Relaxed)),
        },
    };
    let mut registry = Registry::default();
    registry.register_collector(Box::new(metrics));
    let mut body = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut body, &registry)
        .map_err(|_| "the metrics could not be encoded".to_owned())?;
    Ok(body)
}

fn text(status: StatusCode, body: String) -> Response<String> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

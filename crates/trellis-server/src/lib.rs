//! trellis-server: the decision server behind `trellis serve TABLE`.
//!
//! It answers every question of a decision table over HTTP (JSON), from a
//! table it keeps loaded and swaps atomically when the file changes: a new
//! table is opened and validated completely first, and a request answers
//! wholly from the table it started with. Replicas are stateless: run as
//! many as the load needs behind any load balancer, each with its own copy
//! of the table file.
//!
//! The API is documented in `docs/openapi.yaml`; the manual's chapter *The
//! decision server* says how to run and deploy it.

mod api;
mod decision_log;
mod metrics;
mod questions;
mod reload;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use trellis_table::{Table, TableError};

pub use decision_log::DecisionLogConfig;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The table file to serve and watch.
    pub table: PathBuf,
    /// Where to listen (127.0.0.1 unless told otherwise).
    pub listen: SocketAddr,
    /// Requests to `/v1/*` and `/metrics` must carry `Authorization:
    /// Bearer <token>` when set.
    pub token: Option<String>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The most questions in one batch.
    pub max_batch: usize,
    /// How long a request may take, reading its body included.
    pub request_timeout: Duration,
    /// How long a connection may take to send a request's head, waiting
    /// between requests included: a connection idle or sending slowly for
    /// longer is closed, so that it cannot hold a socket forever (the
    /// request time limit starts once the head is in). Longer than the
    /// idle timeout of the usual load balancers (60 s), which would
    /// otherwise send a request on a connection the server is closing.
    pub head_timeout: Duration,
    /// Reload when the file changes (besides on SIGHUP): on file-system
    /// events, and by checking the file's size, time and inode every
    /// `poll_interval` (for file systems that send no events).
    pub watch: bool,
    pub poll_interval: Duration,
    /// An opt-in log of every decision, as JSON lines, bounded in size.
    pub decision_log: Option<DecisionLogConfig>,
}

impl Config {
    /// Defaults for serving `table`: loopback port 8181, 1 MiB bodies,
    /// batches of 10,000, 5 s per request, 75 s for a request's head,
    /// watching the file.
    pub fn new(table: PathBuf) -> Config {
        Config {
            table,
            listen: SocketAddr::from(([127, 0, 0, 1], 8181)),
            token: None,
            max_body_bytes: 1 << 20,
            max_batch: 10_000,
            request_timeout: Duration::from_secs(5),
            head_timeout: Duration::from_secs(75),
            watch: true,
            poll_interval: Duration::from_secs(10),
            decision_log: None,
        }
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The table could not be loaded at start (a reload failure never stops
    /// the server: the old table keeps serving).
    #[error("{path}: {source}")]
    Table {
        path: String,
        #[source]
        source: TableError,
    },
    /// Listening or serving failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The file watcher could not start.
    #[error("cannot watch the table file: {0}")]
    Watch(String),
}

/// A table and when it was loaded.
pub(crate) struct Loaded {
    pub table: Table,
    pub loaded_at: SystemTime,
    /// The table's input hash as responses print it.
    pub hash: String,
    /// Names to handles by hash, for the questions that come by name.
    pub names: trellis_table::NameIndex,
}

impl Loaded {
    pub(crate) fn new(table: Table) -> Loaded {
        Loaded {
            hash: format!("{:016x}", table.input_hash()),
            names: trellis_table::NameIndex::new(&table),
            table,
            loaded_at: SystemTime::now(),
        }
    }
}

/// What every request shares.
pub(crate) struct State {
    pub current: ArcSwap<Loaded>,
    pub config: Config,
    pub metrics: metrics::Metrics,
    pub log: Option<decision_log::DecisionLog>,
    /// The stamp of the file last loaded or refused.
    pub stamp: std::sync::Mutex<Option<reload::Stamp>>,
}

impl State {
    /// Loads the configured table; the state starts ready.
    fn new(config: Config) -> Result<State, ServerError> {
        let stamp = reload::stamp(&config.table);
        let table = Table::open(&config.table).map_err(|source| ServerError::Table {
            path: config.table.display().to_string(),
            source,
        })?;
        let log = match &config.decision_log {
            Some(c) => Some(decision_log::DecisionLog::open(c.clone())?),
            None => None,
        };
        let state = State {
            current: ArcSwap::from_pointee(Loaded::new(table)),
            config,
            metrics: metrics::Metrics::default(),
            log,
            stamp: std::sync::Mutex::new(stamp),
        };
        state.metrics.table_loaded(&state.current.load());
        Ok(state)
    }
}

/// Serves `config.table` on `listener` until `shutdown` completes, then
/// drains the requests in flight and returns. `ready` is told the address
/// once the table is loaded and the server accepts connections.
pub async fn run(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let state = Arc::new(State::new(config)?);
    let _watcher = reload::start(state.clone())?;
    let app = api::router(state.clone());
    tracing::info!(
        listen = %listener.local_addr()?,
        table = %state.config.table.display(),
        input_hash = format!("{:016x}", state.current.load().table.input_hash()),
        "serving"
    );
    serve(listener, state, app, shutdown).await?;
    tracing::info!("stopped: every request in flight was answered");
    Ok(())
}

/// Accepts connections and serves HTTP/1.1 on each until `shutdown`
/// completes, then lets every connection finish the request it is on and
/// closes it. `POST /v1/allow` goes straight to its handler, everything
/// else through the router (`api::allow_fast` says why).
async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper::service::service_fn;
    use tower::ServiceExt;

    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(state.config.head_timeout);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers are small and written at once: no reason to wait for
        // an ack before sending the next.
        let _ = stream.set_nodelay(true);
        let (state, router) = (state.clone(), router.clone());
        let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let (state, router) = (state.clone(), router.clone());
            async move {
                if req.method() == hyper::Method::POST && req.uri().path() == "/v1/allow" {
                    return Ok::<_, std::convert::Infallible>(api::allow_fast(state, req).await);
                }
                router.oneshot(req.map(axum::body::Body::new)).await
            }
        });
        let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            // A connection's own error (the client went away) is its end.
            let _ = connection.await;
        });
    }
    drop(listener);
    // Every request in flight ends within the request time limit; a
    // connection still sending a head after that is not waited for.
    let drain = state.config.request_timeout + Duration::from_secs(1);
    if tokio::time::timeout(drain, connections.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("stopped with connections still open (they sent no whole request)");
    }
    Ok(())
}

/// After a failed `accept`: errors of the one connection are passed over;
/// others (too many open files) are logged and waited out a little, so
/// that the loop does not spin.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused
    ) {
        return;
    }
    tracing::warn!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Resolves when the process is asked to stop (SIGTERM or Ctrl-C).
pub async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: draining requests in flight");
}

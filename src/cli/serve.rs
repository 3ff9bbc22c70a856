//! `trellis serve TABLE`: the decision server (crate `trellis-server`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::{EXIT_OK, EXIT_USAGE};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The compiled table (`trellis compile -o TABLE`).
    table: PathBuf,
    /// Address to listen on. Loopback unless told otherwise: answers reveal
    /// who may do what.
    #[arg(long, default_value = "127.0.0.1:8181")]
    listen: std::net::SocketAddr,
    /// A file holding the bearer token that requests to /v1/* and /metrics
    /// must carry (`Authorization: Bearer <token>`).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_body_bytes: usize,
    /// Most questions in one batch.
    #[arg(long, default_value_t = 10_000)]
    max_batch: usize,
    /// Longest a request may take, in milliseconds (reading its body included).
    #[arg(long, default_value_t = 5_000)]
    request_timeout_ms: u64,
    /// Longest a connection may take to send a request's head, in
    /// milliseconds, waiting between requests included; then it is closed
    /// (keep it above the idle timeout of a load balancer in front).
    #[arg(long, default_value_t = 75_000)]
    head_timeout_ms: u64,
    /// Do not watch the file; reload on SIGHUP only.
    #[arg(long)]
    no_watch: bool,
    /// How often to check the file for a change when no file-system event
    /// comes (network file systems), in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    poll_interval_ms: u64,
    /// Append every decision to FILE as JSON lines (time, question, answer, table hash).
    #[arg(long)]
    decision_log: Option<PathBuf>,
    /// Rotate the decision log to FILE.1 when it reaches this many bytes.
    #[arg(long, default_value_t = 64 << 20)]
    decision_log_max_bytes: u64,
    /// Format of the server's own log (on standard error).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

pub fn run(args: ServeArgs) -> u8 {
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TRELLIS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        );
    let _ = match args.log_format {
        LogFormat::Text => subscriber.with_ansi(false).try_init(),
        LogFormat::Json => subscriber.json().try_init(),
    };
    let token = match &args.token_file {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(t) if !t.trim().is_empty() => Some(t.trim().to_owned()),
            Ok(_) => {
                super::err(&format!(
                    "error: {}: the token file is empty\n",
                    path.display()
                ));
                return EXIT_USAGE;
            }
            Err(e) => {
                super::err(&format!("error: cannot read `{}`: {e}\n", path.display()));
                return EXIT_USAGE;
            }
        },
        None => None,
    };
    let mut config = trellis_server::Config::new(args.table.clone());
    config.listen = args.listen;
    config.token = token;
    config.max_body_bytes = args.max_body_bytes;
    config.max_batch = args.max_batch;
    config.request_timeout = Duration::from_millis(args.request_timeout_ms);
    config.head_timeout = Duration::from_millis(args.head_timeout_ms.max(1));
    config.watch = !args.no_watch;
    config.poll_interval = Duration::from_millis(args.poll_interval_ms.max(10));
    config.decision_log = args
        .decision_log
        .map(|path| trellis_server::DecisionLogConfig {
            path,
            max_bytes: args.decision_log_max_bytes,
        });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            super::err(&format!("error: cannot start the server: {e}\n"));
            return EXIT_USAGE;
        }
    };
    let result = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        // Tests and scripts read the address (the port may be 0: any).
        super::err(&format!(
            "trellis serve: listening on http://{}\n",
            listener.local_addr()?
        ));
        trellis_server::run(config, listener, trellis_server::stop_signal()).await
    });
    match result {
        Ok(()) => EXIT_OK,
        Err(e) => {
            super::err(&format!("error: {e}\n"));
            EXIT_USAGE
        }
    }
}

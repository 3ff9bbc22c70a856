//! The opt-in decision log: one JSON line per decision (time, endpoint,
//! question, answer, table hash), in a file that is rotated to `FILE.1`
//! when it reaches its size bound, so that it never takes more than twice
//! that bound.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Mutex;

/// Where the log goes and how large it may grow.
#[derive(Clone, Debug)]
pub struct DecisionLogConfig {
    pub path: PathBuf,
    /// Rotate when the file reaches this many bytes.
    pub max_bytes: u64,
}

struct Sink {
    out: BufWriter<File>,
    written: u64,
}

pub(crate) struct DecisionLog {
    config: DecisionLogConfig,
    sink: Mutex<Sink>,
}

fn open(path: &PathBuf) -> std::io::Result<(BufWriter<File>, u64)> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let written = file.metadata()?.len();
    Ok((BufWriter::new(file), written))
}

impl DecisionLog {
    pub fn open(config: DecisionLogConfig) -> std::io::Result<DecisionLog> {
        let (out, written) = open(&config.path)?;
        Ok(DecisionLog {
            config,
            sink: Mutex::new(Sink { out, written }),
        })
    }

    /// Appends one decision; a failure to write is logged, never fatal.
    pub fn write(&self, endpoint: &str, question: &serde_json::Value, allowed: bool, table: &str) {
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let mut line = serde_json::json!({
            "time": time,
            "endpoint": endpoint,
            "question": question,
            "decision": if allowed { "allow" } else { "deny" },
            "input_hash": table,
        })
        .to_string();
        line.push('\n');
        let Ok(mut sink) = self.sink.lock() else {
            return;
        };
        if sink.written + line.len() as u64 > self.config.max_bytes {
            let _ = sink.out.flush();
            let rotated = self
                .config
                .path
                .with_extension(match self.config.path.extension() {
                    Some(e) => format!("{}.1", e.to_string_lossy()),
                    None => "1".to_owned(),
                });
            if let Err(e) = std::fs::rename(&self.config.path, &rotated) {
                tracing::warn!(error = %e, "cannot rotate the decision log");
            }
            match open(&self.config.path) {
                Ok((out, written)) => {
                    sink.out = out;
                    sink.written = written;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot reopen the decision log");
                    return;
                }
            }
        }
        if let Err(e) = sink
            .out
            .write_all(line.as_bytes())
            .and_then(|_| sink.out.flush())
        {
            tracing::warn!(error = %e, "cannot write the decision log");
            return;
        }
        sink.written += line.len() as u64;
    }
}

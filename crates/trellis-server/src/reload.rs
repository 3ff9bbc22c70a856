//! Hot reload: on SIGHUP, and (with watching on) when the table file
//! changes, the new file is opened and validated completely, then swapped
//! in atomically. A request holds the table it started with until it ends;
//! a file that fails to load is logged and counted, and the old table
//! keeps serving.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use notify::Watcher;
use trellis_table::Table;

use crate::{Loaded, ServerError, State};

/// Loads the table file again and swaps it in if it is valid.
pub(crate) fn reload(state: &State) {
    match Table::open(&state.config.table) {
        Ok(table) => {
            let loaded = Loaded {
                table,
                loaded_at: SystemTime::now(),
            };
            let hash = loaded.table.input_hash();
            state.metrics.reloaded(&loaded);
            state.current.store(Arc::new(loaded));
            tracing::info!(input_hash = format!("{hash:016x}"), "table reloaded");
        }
        Err(e) => {
            state.metrics.reload_failed();
            tracing::warn!(error = %e, "new table refused; the old one keeps serving");
        }
    }
}

/// Starts the reload triggers: SIGHUP, and a watcher on the file's
/// directory (a table is replaced by renaming a new file over it). The
/// watcher lives as long as the value returned.
pub(crate) fn start(state: Arc<State>) -> Result<Option<notify::RecommendedWatcher>, ServerError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    #[cfg(unix)]
    {
        let tx = tx.clone();
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                let _ = tx.try_send(());
            }
        });
    }
    let watcher = if state.config.watch {
        let name = state.config.table.file_name().map(|n| n.to_owned());
        let dir = match state.config.table.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => std::path::PathBuf::from("."),
        };
        let tx = tx.clone();
        let mut w = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if event.kind.is_access() {
                return;
            }
            if event.paths.iter().any(|p| p.file_name() == name.as_deref()) {
                let _ = tx.try_send(());
            }
        })
        .map_err(|e| ServerError::Watch(e.to_string()))?;
        w.watch(&dir, notify::RecursiveMode::NonRecursive)
            .map_err(|e| ServerError::Watch(e.to_string()))?;
        Some(w)
    } else {
        None
    };
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Let a burst of events (a write, then a rename) settle, so that
            // one reload reads the finished file.
            tokio::time::sleep(Duration::from_millis(20)).await;
            while rx.try_recv().is_ok() {}
            let state = state.clone();
            let _ = tokio::task::spawn_blocking(move || reload(&state)).await;
        }
    });
    Ok(watcher)
}

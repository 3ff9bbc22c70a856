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

/// What identifies the file's content without reading it: its size, time
/// of change and inode, through symlinks (a Kubernetes ConfigMap swaps a
/// symlink above the file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

pub(crate) fn stamp(path: &std::path::Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stamp {
        len: m.len(),
        modified: m.modified().ok(),
        inode,
    })
}

/// Loads the table file again and swaps it in if it is valid.
pub(crate) fn reload(state: &State) {
    let before = stamp(&state.config.table);
    match Table::open(&state.config.table) {
        Ok(table) => {
            let loaded = Loaded::new(table);
            let hash = loaded.table.input_hash();
            state.metrics.reloaded(&loaded);
            state.current.store(Arc::new(loaded));
            if let Ok(mut s) = state.stamp.lock() {
                *s = before;
            }
            tracing::info!(input_hash = format!("{hash:016x}"), "table reloaded");
        }
        Err(e) => {
            state.metrics.reload_failed();
            // Not retried until the file changes again.
            if let Ok(mut s) = state.stamp.lock() {
                *s = before;
            }
            tracing::warn!(error = %e, "new table refused; the old one keeps serving");
        }
    }
}

/// Has the file changed since it was last loaded (or refused)?
fn changed(state: &State) -> bool {
    let now = stamp(&state.config.table);
    state.stamp.lock().map_or(true, |s| *s != now)
}

/// Starts the reload triggers: SIGHUP (always reloads), a watcher on the
/// file's directory, and a poll of the file's stamp (for file systems that
/// send no events); the last two reload only when the file changed. The
/// watcher lives as long as the value returned.
pub(crate) fn start(state: Arc<State>) -> Result<Option<notify::RecommendedWatcher>, ServerError> {
    // true: reload whatever the stamp says (SIGHUP).
    let (tx, mut rx) = tokio::sync::mpsc::channel::<bool>(4);
    #[cfg(unix)]
    {
        let tx = tx.clone();
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                let _ = tx.try_send(true);
            }
        });
    }
    let watcher = if state.config.watch {
        let dir = match state.config.table.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => std::path::PathBuf::from("."),
        };
        let events = tx.clone();
        let mut w = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if event.is_ok_and(|e| !e.kind.is_access()) {
                let _ = events.try_send(false);
            }
        })
        .map_err(|e| ServerError::Watch(e.to_string()))?;
        w.watch(&dir, notify::RecursiveMode::NonRecursive)
            .map_err(|e| ServerError::Watch(e.to_string()))?;
        let poll = tx.clone();
        let every = state.config.poll_interval;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if poll.send(false).await.is_err() {
                    break;
                }
            }
        });
        Some(w)
    } else {
        None
    };
    tokio::spawn(async move {
        while let Some(mut forced) = rx.recv().await {
            // Let a burst of events (a write, then a rename) settle, so that
            // one reload reads the finished file.
            tokio::time::sleep(Duration::from_millis(20)).await;
            while let Ok(f) = rx.try_recv() {
                forced |= f;
            }
            let state = state.clone();
            let _ = tokio::task::spawn_blocking(move || {
                if forced || changed(&state) {
                    reload(&state);
                }
            })
            .await;
        }
    });
    Ok(watcher)
}

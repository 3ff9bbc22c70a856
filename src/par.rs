//! Work sharing over the machine's cores without a thread-pool crate: each
//! worker takes the next item from a shared counter, so one large file (the
//! provider's, say) does not leave the other cores idle, and results come
//! back in input order whatever the scheduling.

use std::sync::atomic::{AtomicUsize, Ordering};

/// How many workers to run: the available cores, at most one per item.
pub fn workers(items: usize) -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items)
        .max(1)
}

/// `items.iter().map(f).collect()`, on every core, in input order. Workers
/// take runs of items (about 32 per worker in all) from a shared counter,
/// and each result is moved once, into the returned vector.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = workers(items.len());
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let run = items.len().div_ceil(threads * 32).max(1);
    let next = AtomicUsize::new(0);
    let mut runs: Vec<(usize, Vec<R>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let start = next.fetch_add(run, Ordering::Relaxed);
                        let Some(part) = items.get(start..(start + run).min(items.len())) else {
                            break;
                        };
                        if part.is_empty() {
                            break;
                        }
                        done.push((start, part.iter().map(&f).collect::<Vec<R>>()));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(r) => r,
                // A panic in a worker is a bug: surface it, never drop items.
                Err(e) => std::panic::resume_unwind(e),
            })
            .collect()
    });
    runs.sort_unstable_by_key(|(start, _)| *start);
    let mut out = Vec::with_capacity(items.len());
    for (_, part) in runs {
        out.extend(part);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_input_order() {
        let items: Vec<u32> = (0..10_000).collect();
        let out = super::map(&items, |x| x * 2);
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
    }
}

//! Work sharing over the machine's cores without a thread-pool crate: each
//! worker takes the next item from a shared counter, so one large file (the
//! provider's, say) does not leave the other cores idle, and results come
//! back in input order whatever the scheduling.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The results of [`map`], in input order (a concrete type, so that it
/// borrows neither the items nor the closure).
pub type Results<R> = std::iter::Flatten<std::vec::IntoIter<Vec<R>>>;

/// How many workers to run: the available cores, at most one per item.
pub fn workers(items: usize) -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items)
        .max(1)
}

/// `0..len` cut into one contiguous range per worker, for work that keeps
/// state (a cache) from one item to the next: `map(&ranges(n), ...)`.
pub fn ranges(len: usize) -> Vec<std::ops::Range<usize>> {
    let chunk = len.div_ceil(workers(len)).max(1);
    (0..len)
        .step_by(chunk)
        .map(|start| start..(start + chunk).min(len))
        .collect()
}

/// `items.iter().map(f)`, computed on every core, handed back in input
/// order. Workers take runs of items (about 32 per worker in all) from a
/// shared counter; the results stay in their runs, so each is moved only
/// once more, by the caller (a million users are not copied twice).
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Results<R> {
    let threads = workers(items.len());
    if threads == 1 {
        return vec![items.iter().map(f).collect::<Vec<R>>()]
            .into_iter()
            .flatten();
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
    runs.into_iter()
        .map(|(_, part)| part)
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_input_order() {
        let items: Vec<u32> = (0..10_000).collect();
        let out: Vec<u32> = super::map(&items, |x| x * 2).collect();
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
    }

    #[test]
    fn ranges_cover_every_index_once_in_order() {
        for len in [0, 1, 2, 3, 1000, 1001] {
            let all: Vec<usize> = super::ranges(len).into_iter().flatten().collect();
            assert_eq!(all, (0..len).collect::<Vec<_>>(), "len {len}");
        }
    }
}

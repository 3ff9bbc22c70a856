//! Counters and histograms, rendered in the Prometheus text format. Plain
//! atomics: a decision costs a few relaxed increments.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::Loaded;

/// Upper bounds of the latency buckets, in seconds.
const LATENCY: [f64; 12] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1, 0.5, 2.0,
];
/// Upper bounds of the batch-size buckets.
const BATCH: [f64; 7] = [1.0, 10.0, 100.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0];
/// The endpoints timed separately; everything else is `other`.
const ENDPOINTS: [&str; 10] = [
    "/v1/allow",
    "/v1/allow/batch",
    "/v1/roles",
    "/v1/policies",
    "/v1/who",
    "/v1/published",
    "/v1/can_assign",
    "/v1/explain",
    "/v1/table",
    "other",
];

/// The index of `path` among the endpoints timed separately.
pub(crate) fn endpoint(path: &str) -> usize {
    ENDPOINTS
        .iter()
        .position(|e| *e == path)
        .unwrap_or(ENDPOINTS.len() - 1)
}

struct Histogram<const N: usize> {
    buckets: [AtomicU64; N],
    count: AtomicU64,
    /// The sum, in microseconds (or items for sizes).
    sum: AtomicU64,
}

impl<const N: usize> Default for Histogram<N> {
    fn default() -> Self {
        Histogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
        }
    }
}

impl<const N: usize> Histogram<N> {
    fn observe(&self, bounds: &[f64; N], value: f64, sum_unit: f64) {
        if let Some(i) = bounds.iter().position(|b| value <= *b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum.fetch_add((value * sum_unit) as u64, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str, bounds: &[f64; N], sum_unit: f64) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (b, n) in bounds.iter().zip(&self.buckets) {
            cumulative += n.load(Relaxed);
            out.push_str(&format!(
                "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cumulative}\n"
            ));
        }
        let count = self.count.load(Relaxed);
        out.push_str(&format!(
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}\n"
        ));
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        out.push_str(&format!(
            "{name}_sum{braces} {}\n{name}_count{braces} {count}\n",
            self.sum.load(Relaxed) as f64 / sum_unit
        ));
    }
}

/// Everything `/metrics` reports.
#[derive(Default)]
pub(crate) struct Metrics {
    allowed: AtomicU64,
    denied: AtomicU64,
    latency: [Histogram<12>; 10],
    /// Responses by class: 2xx, 4xx, 5xx.
    responses: [AtomicU64; 3],
    batch_sizes: Histogram<7>,
    reloads: AtomicU64,
    failed_reloads: AtomicU64,
    unauthorized: AtomicU64,
    loaded_at: AtomicU64,
}

impl Metrics {
    pub fn decisions(&self, allowed: bool, n: u64) {
        if allowed {
            self.allowed.fetch_add(n, Relaxed);
        } else {
            self.denied.fetch_add(n, Relaxed);
        }
    }

    pub fn decisions_batch(&self, allowed: usize, denied: usize) {
        self.allowed.fetch_add(allowed as u64, Relaxed);
        self.denied.fetch_add(denied as u64, Relaxed);
        self.batch_sizes
            .observe(&BATCH, (allowed + denied) as f64, 1.0);
    }

    pub fn request(&self, endpoint: usize, status: u16, took: Duration) {
        let i = endpoint.min(ENDPOINTS.len() - 1);
        self.latency[i].observe(&LATENCY, took.as_secs_f64(), 1e6);
        let class = match status {
            200..=399 => 0,
            400..=499 => 1,
            _ => 2,
        };
        self.responses[class].fetch_add(1, Relaxed);
    }

    pub fn unauthorized(&self) {
        self.unauthorized.fetch_add(1, Relaxed);
    }

    pub fn reloaded(&self, loaded: &Loaded) {
        self.reloads.fetch_add(1, Relaxed);
        self.table_loaded(loaded);
    }

    pub fn reload_failed(&self) {
        self.failed_reloads.fetch_add(1, Relaxed);
    }

    pub fn table_loaded(&self, loaded: &Loaded) {
        let secs = loaded
            .loaded_at
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.loaded_at.store(secs, Relaxed);
    }

    /// Reloads done and failed, for `/v1/table`.
    pub fn reload_counts(&self) -> serde_json::Value {
        serde_json::json!({
            "done": self.reloads.load(Relaxed),
            "failed": self.failed_reloads.load(Relaxed),
        })
    }

    pub fn render(&self, loaded: &Loaded) -> String {
        let mut out = String::new();
        out.push_str("# HELP trellis_decisions_total Decisions answered, by result.\n# TYPE trellis_decisions_total counter\n");
        out.push_str(&format!(
            "trellis_decisions_total{{result=\"allow\"}} {}\ntrellis_decisions_total{{result=\"deny\"}} {}\n",
            self.allowed.load(Relaxed),
            self.denied.load(Relaxed)
        ));
        out.push_str("# HELP trellis_request_duration_seconds Time to answer a request, by endpoint.\n# TYPE trellis_request_duration_seconds histogram\n");
        for (e, h) in ENDPOINTS.iter().zip(&self.latency) {
            h.render(
                &mut out,
                "trellis_request_duration_seconds",
                &format!("endpoint=\"{e}\""),
                &LATENCY,
                1e6,
            );
        }
        out.push_str("# HELP trellis_responses_total Responses, by status class.\n# TYPE trellis_responses_total counter\n");
        for (class, n) in ["2xx", "4xx", "5xx"].iter().zip(&self.responses) {
            out.push_str(&format!(
                "trellis_responses_total{{class=\"{class}\"}} {}\n",
                n.load(Relaxed)
            ));
        }
        out.push_str("# HELP trellis_batch_size Questions per batch request.\n# TYPE trellis_batch_size histogram\n");
        self.batch_sizes
            .render(&mut out, "trellis_batch_size", "", &BATCH, 1.0);
        out.push_str(&format!(
            "# HELP trellis_reloads_total Tables loaded after the first.\n# TYPE trellis_reloads_total counter\ntrellis_reloads_total {}\n",
            self.reloads.load(Relaxed)
        ));
        out.push_str(&format!(
            "# HELP trellis_reload_failures_total New tables refused (corrupt, truncated, unreadable); the old one kept serving.\n# TYPE trellis_reload_failures_total counter\ntrellis_reload_failures_total {}\n",
            self.failed_reloads.load(Relaxed)
        ));
        out.push_str(&format!(
            "# HELP trellis_unauthorized_total Requests refused for a missing or wrong token.\n# TYPE trellis_unauthorized_total counter\ntrellis_unauthorized_total {}\n",
            self.unauthorized.load(Relaxed)
        ));
        out.push_str(&format!(
            "# HELP trellis_table_info The table being served.\n# TYPE trellis_table_info gauge\ntrellis_table_info{{input_hash=\"{:016x}\",format_version=\"{}\"}} 1\n",
            loaded.table.input_hash(),
            trellis_table::format::VERSION
        ));
        out.push_str(&format!(
            "# HELP trellis_table_loaded_timestamp_seconds When the table being served was loaded.\n# TYPE trellis_table_loaded_timestamp_seconds gauge\ntrellis_table_loaded_timestamp_seconds {}\n",
            self.loaded_at.load(Relaxed)
        ));
        out
    }
}

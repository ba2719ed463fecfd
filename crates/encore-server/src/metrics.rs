//! Request counts and latencies in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct Route {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// What the server counts.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Route>>,
    listens: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Records one request. Methods outside HTTP's standard set are
    /// counted as `other`: a client may send any token as a method, and
    /// each one a label would grow the page without bound (issue 20: 50 KB
    /// method names made a 51 MB page). Routes are axum's matched paths or
    /// `unmatched`, a fixed set.
    pub fn observe(&self, method: &str, route: &str, status: u16, took: Duration) {
        const KNOWN: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"];
        let method = if KNOWN.contains(&method) { method } else { "other" };
        *self.requests.lock().expect("metrics").entry((method.into(), route.into(), status)).or_default() += 1;
        let s = took.as_secs_f64();
        let mut l = self.latency.lock().expect("metrics");
        let r = l.entry(route.into()).or_default();
        r.count += 1;
        r.sum += s;
        for (b, le) in r.buckets.iter_mut().zip(BUCKETS) {
            if s <= le {
                *b += 1;
            }
        }
    }

    /// Counts stored listens.
    pub fn listens(&self, n: u64) {
        self.listens.fetch_add(n, Ordering::Relaxed);
    }

    /// The exposition text.
    pub fn render(&self, model_version: &str) -> String {
        let mut o = String::new();
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        o.push_str("# HELP encore_requests_total HTTP requests by method, route and status.\n");
        o.push_str("# TYPE encore_requests_total counter\n");
        for ((m, r, s), n) in self.requests.lock().expect("metrics").iter() {
            let _ = writeln!(o, "encore_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {n}", esc(r));
        }
        o.push_str("# HELP encore_request_duration_seconds Request latency by route.\n");
        o.push_str("# TYPE encore_request_duration_seconds histogram\n");
        for (r, h) in self.latency.lock().expect("metrics").iter() {
            let r = esc(r);
            for (b, le) in h.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(o, "encore_request_duration_seconds_bucket{{route=\"{r}\",le=\"{le}\"}} {b}");
            }
            let _ = writeln!(o, "encore_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(o, "encore_request_duration_seconds_sum{{route=\"{r}\"}} {}", h.sum);
            let _ = writeln!(o, "encore_request_duration_seconds_count{{route=\"{r}\"}} {}", h.count);
        }
        o.push_str("# HELP encore_listens_ingested_total Listens stored through the API.\n");
        o.push_str("# TYPE encore_listens_ingested_total counter\n");
        let _ = writeln!(o, "encore_listens_ingested_total {}", self.listens.load(Ordering::Relaxed));
        o.push_str("# HELP encore_model_info The model release being served.\n");
        o.push_str("# TYPE encore_model_info gauge\n");
        let _ = writeln!(o, "encore_model_info{{version=\"{}\"}} 1", esc(model_version));
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_share_one_label() {
        let m = Metrics::default();
        for i in 0..100 {
            m.observe(&format!("X{i}{}", "A".repeat(50_000)), "unmatched", 405, Duration::from_millis(1));
        }
        m.observe("GET", "/healthz", 200, Duration::from_millis(1));
        let page = m.render("v1");
        assert!(page.len() < 10_000, "{} bytes", page.len());
        assert!(page.contains(r#"encore_requests_total{method="other",route="unmatched",status="405"} 100"#), "{page}");
        assert!(page.contains(r#"method="GET",route="/healthz",status="200"} 1"#), "{page}");
    }
}

//! The metrics a Mesos 1.11 master and agent publish (`/metrics/snapshot`, GET_METRICS), by
//! Mesos's names, with real values where the cluster has them and Mesos's idle values
//! otherwise. One table per process kind: `master.rs`, `agent.rs`; the host's `system/*`
//! (libprocess's `System` process) and timers are here.

mod agent;
mod master;

pub use agent::agent;
pub use master::master;

use super::host;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, VecDeque};

/// Metrics by name: libprocess keeps its snapshot in a sorted map.
pub type Metrics = BTreeMap<String, f64>;

/// libprocess's `system/*` gauges.
fn system(out: &mut Metrics) {
    let s = host::system();
    out.insert("system/cpus_total".into(), s.cpus_total);
    out.insert("system/load_15min".into(), s.load_15min);
    out.insert("system/load_1min".into(), s.load_1min);
    out.insert("system/load_5min".into(), s.load_5min);
    out.insert("system/mem_free_bytes".into(), s.mem_free_bytes);
    out.insert("system/mem_total_bytes".into(), s.mem_total_bytes);
}

/// How many samples a timer keeps for its statistics (libprocess keeps a time window).
const TIMER_SAMPLES: usize = 1000;

/// A libprocess `Timer`: its last sample in milliseconds (`<name>_ms`), and once it has
/// two samples, their statistics (`<name>_ms/count`, `/min`, `/max`, `/p50` ...).
#[derive(Debug, Clone, Default)]
pub struct Timer {
    samples: VecDeque<f64>,
}

impl Timer {
    pub fn record(&mut self, elapsed: std::time::Duration) {
        if self.samples.len() == TIMER_SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(elapsed.as_secs_f64() * 1e3);
    }

    /// Writes the timer as libprocess does: nothing before its first sample.
    pub fn write(&self, name: &str, out: &mut Metrics) {
        let Some(last) = self.samples.back() else {
            return;
        };
        let key = format!("{name}_ms");
        out.insert(key.clone(), *last);
        if self.samples.len() < 2 {
            return;
        }
        let mut sorted: Vec<f64> = self.samples.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        out.insert(format!("{key}/count"), sorted.len() as f64);
        out.insert(format!("{key}/min"), sorted[0]);
        out.insert(format!("{key}/max"), sorted[sorted.len() - 1]);
        for (suffix, p) in [
            ("p50", 0.5),
            ("p90", 0.9),
            ("p95", 0.95),
            ("p99", 0.99),
            ("p999", 0.999),
            ("p9999", 0.9999),
        ] {
            out.insert(format!("{key}/{suffix}"), percentile(&sorted, p));
        }
    }
}

/// libprocess's percentile of sorted values: linear interpolation between neighbours.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let position = p * (sorted.len() - 1) as f64;
    let index = position.floor() as usize;
    let delta = position - index as f64;
    match sorted.get(index + 1) {
        Some(next) => sorted[index] + (next - sorted[index]) * delta,
        None => sorted[index],
    }
}

/// A resource's share of a total, as Mesos's `_percent` gauges give it (a fraction).
fn share(used: f64, total: f64) -> f64 {
    if total > 0.0 {
        used / total
    } else {
        0.0
    }
}

/// The flat form of `/metrics/snapshot`.
pub fn flat(metrics: &Metrics) -> Value {
    Value::Object(
        metrics
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<Map<String, Value>>(),
    )
}

/// The form of GET_METRICS: `{"metrics": [{"name", "value"}]}`.
pub fn v1(metrics: &Metrics) -> Value {
    json!({"metrics": metrics.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>()})
}

/// Mesos's percent-encoding of a framework name in metric names (`process::http::encode`:
/// everything but unreserved characters).
fn encode(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timers_write_their_last_sample_then_statistics() {
        let mut t = Timer::default();
        let mut out = Metrics::new();
        t.write("registrar/state_store", &mut out);
        assert!(out.is_empty());
        t.record(Duration::from_millis(2));
        t.write("registrar/state_store", &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out["registrar/state_store_ms"], 2.0);
        t.record(Duration::from_millis(4));
        t.write("registrar/state_store", &mut out);
        assert_eq!(out["registrar/state_store_ms/count"], 2.0);
        assert_eq!(out["registrar/state_store_ms/p50"], 3.0);
        assert_eq!(out["registrar/state_store_ms/max"], 4.0);
        assert_eq!(encode("my app/1"), "my%20app%2F1");
    }
}

//! Prometheus metrics: recorded through the `metrics` facade, served on a listener of their own
//! (`AIRLOCK_METRICS_LISTEN`), never on the public or custom-domain hosts. Off unless configured;
//! off, recording costs one relaxed atomic load. Labels are bounded: zone (`project`,
//! `environment`, `kind`), route templates, statuses and outcomes; never a user or client id.

use std::sync::atomic::{AtomicBool, Ordering};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::model::Environment;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Latency buckets, in seconds.
const SECONDS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Installs the process's recorder; the handle renders the exposition text.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets(&SECONDS)?
        .install_recorder()?;
    ENABLED.store(true, Ordering::Relaxed);
    Ok(handle)
}

/// Whether metrics are recorded at all.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The labels of a zone.
pub fn zone(environment: &Environment) -> [(&'static str, String); 3] {
    [
        ("project", environment.project.clone()),
        ("environment", environment.name.clone()),
        ("kind", environment.kind.as_str().to_string()),
    ]
}

/// Counts one occurrence of `name` in `environment`, with `extra` labels.
pub fn count(name: &'static str, environment: &Environment, extra: &[(&'static str, &str)]) {
    let kind = environment.kind.as_str();
    count_in(name, (&environment.project, &environment.name, kind), extra);
}

/// Like `count`, for a zone known by its labels (`project`, `environment`, `kind`).
pub fn count_in(
    name: &'static str,
    (project, environment, kind): (&str, &str, &str),
    extra: &[(&'static str, &str)],
) {
    if !enabled() {
        return;
    }
    let mut labels: Vec<(&'static str, String)> = vec![
        ("project", project.to_string()),
        ("environment", environment.to_string()),
        ("kind", kind.to_string()),
    ];
    labels.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    metrics::counter!(name, &labels).increment(1);
}

/// Counts one request that addressed no zone (probes, the admin API, unknown hosts and paths).
pub fn count_unzoned(name: &'static str, extra: &[(&'static str, &str)]) {
    if !enabled() {
        return;
    }
    let mut labels: Vec<(&'static str, String)> = vec![
        ("project", String::new()),
        ("environment", String::new()),
        ("kind", "none".to_string()),
    ];
    labels.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    metrics::counter!(name, &labels).increment(1);
}

/// Counts one lookup in a node cache (`clients`, `keys`, `zones`), hit or missed: the hit ratio is
/// `hit / (hit + miss)`.
pub fn cache_lookup(cache: &'static str, environment: Option<&Environment>, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    let labels = [("cache", cache), ("result", result)];
    match environment {
        Some(environment) => count("airlock_cache_lookups_total", environment, &labels),
        None => count_unzoned("airlock_cache_lookups_total", &labels),
    }
}

/// Sets the gauge `name` of `environment`, with `extra` labels.
pub fn set_gauge(
    name: &'static str,
    environment: &Environment,
    extra: &[(&'static str, &str)],
    value: f64,
) {
    if !enabled() {
        return;
    }
    let mut labels: Vec<(&'static str, String)> = zone(environment).to_vec();
    labels.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    metrics::gauge!(name, &labels).set(value);
}

/// Records `seconds` in the histogram `name` of `environment`, with `extra` labels.
pub fn observe(
    name: &'static str,
    environment: &Environment,
    extra: &[(&'static str, &str)],
    seconds: f64,
) {
    if !enabled() {
        return;
    }
    let mut labels: Vec<(&'static str, String)> = zone(environment).into();
    labels.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    metrics::histogram!(name, &labels).record(seconds);
}

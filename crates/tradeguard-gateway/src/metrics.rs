//! The gateway's operational counters and their Prometheus text exposition (format 0.0.4),
//! served by `GET /metrics`. No I/O here: [`Metrics`] counts what handlers report, and
//! [`render`] turns the counters and a [`Gauges`] reading into text.
//!
//! Every label value is a `&'static str` from a fixed set (route templates, check names,
//! risk rejection codes, trading states), so the number of series is bounded whatever the
//! clients send; no principal, path or order id ever becomes a label.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{Method, StatusCode};

use crate::error::GatewayError;
use crate::intents::IntakeStats;
use crate::trading::TradingMode;

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Counters keyed by a fixed number of static label values.
struct CounterVec<const N: usize>(Mutex<BTreeMap<[&'static str; N], u64>>);

impl<const N: usize> Default for CounterVec<N> {
    fn default() -> Self {
        Self(Mutex::new(BTreeMap::new()))
    }
}

impl<const N: usize> CounterVec<N> {
    fn add(&self, labels: [&'static str; N]) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(labels).or_default() += 1;
    }

    fn snapshot(&self) -> BTreeMap<[&'static str; N], u64> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// What this replica counted since it started.
#[derive(Default)]
pub struct Metrics {
    requests: CounterVec<3>,
    auth_refusals: CounterVec<1>,
    orders_submitted: AtomicU64,
    orders_refused: CounterVec<1>,
    orders_placed: AtomicU64,
    orders_failed: AtomicU64,
    halts: CounterVec<1>,
    sessions_opened: AtomicU64,
}

impl Metrics {
    /// One answered request: `route` is a route template (or `other`).
    pub fn request(&self, method: &Method, route: &'static str, status: StatusCode) {
        let class = match status.as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.requests.add([method_label(method), route, class]);
    }

    /// One request refused by authentication or authorization (other errors are ignored).
    pub fn auth_refused(&self, error: &GatewayError) {
        let check = match error {
            GatewayError::Unauthenticated { check, .. } => check.name(),
            GatewayError::LockedOut { .. } => "lockout",
            GatewayError::RateLimited { .. } => "rate-limit",
            GatewayError::Forbidden { .. } => "scope",
            GatewayError::Denied { .. } => "denied",
            _ => return,
        };
        self.auth_refusals.add([check]);
    }

    /// One order that passed the gateway's own checks and went to the risk engine.
    pub fn order_submitted(&self) {
        self.orders_submitted.fetch_add(1, Ordering::Relaxed);
    }

    /// One order refused, once per `reason` (a risk rejection code or a gateway state).
    pub fn order_refused(&self, reason: &'static str) {
        self.orders_refused.add([reason]);
    }

    /// One order the exchange side accepted.
    pub fn order_placed(&self) {
        self.orders_placed.fetch_add(1, Ordering::Relaxed);
    }

    /// One approved order the exchange side failed to place.
    pub fn order_failed(&self) {
        self.orders_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// One `POST /v1/halt` that switched to `mode`.
    pub fn halt(&self, mode: TradingMode) {
        self.halts.add([mode.as_str()]);
    }

    /// One session opened.
    pub fn session_opened(&self) {
        self.sessions_opened.fetch_add(1, Ordering::Relaxed);
    }
}

/// The method as a label: the standard ones by name, anything else `other`.
pub fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// Values read from the gateway's state at scrape time; `None` where the part is not wired
/// or could not be read (the series is then left out).
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// The trading state in force.
    pub trading: Option<TradingMode>,
    /// Active lockouts of keys and of addresses.
    pub lockouts: (u64, u64),
    /// Live sessions (all replicas: read from the store).
    pub sessions_live: Option<u64>,
    /// The sealed-intent intake's counters.
    pub intents: Option<IntakeStats>,
    /// Entries in the audit log.
    pub audit_entries: Option<u64>,
    /// Tree size of the latest signed audit checkpoint.
    pub audit_checkpoint_size: Option<u64>,
}

/// Writes metric families in the text format.
struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) -> &mut Self {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
        self
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: u64) -> &mut Self {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let v = v
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                let _ = write!(self.0, "{k}=\"{v}\"");
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
        self
    }

    fn counter(&mut self, name: &str, help: &str, value: u64) -> &mut Self {
        self.family(name, "counter", help).sample(name, &[], value)
    }

    fn gauge(&mut self, name: &str, help: &str, value: u64) -> &mut Self {
        self.family(name, "gauge", help).sample(name, &[], value)
    }
}

/// The exposition of `metrics` and `gauges`, every family with `# HELP` and `# TYPE`.
pub fn render(metrics: &Metrics, gauges: &Gauges) -> String {
    let mut out = Exposition(String::new());
    render_requests(&mut out, metrics);
    render_orders(&mut out, metrics);
    render_state(&mut out, metrics, gauges);
    if let Some(stats) = &gauges.intents {
        render_intents(&mut out, stats);
    }
    if let Some(n) = gauges.audit_entries {
        out.gauge("tradeguard_audit_entries", "Entries in the audit log.", n);
    }
    if let Some(n) = gauges.audit_checkpoint_size {
        out.gauge(
            "tradeguard_audit_checkpoint_size",
            "Tree size of the latest signed audit checkpoint.",
            n,
        );
    }
    out.0
}

fn render_requests(out: &mut Exposition, m: &Metrics) {
    let name = "tradeguard_http_requests_total";
    out.family(
        name,
        "counter",
        "HTTP requests answered, by method, route template and status class.",
    );
    for ([method, route, class], n) in m.requests.snapshot() {
        out.sample(
            name,
            &[("method", method), ("route", route), ("status", class)],
            n,
        );
    }
    let name = "tradeguard_auth_refusals_total";
    out.family(
        name,
        "counter",
        "Requests refused by authentication or authorization, by the check that refused them.",
    );
    for ([check], n) in m.auth_refusals.snapshot() {
        out.sample(name, &[("check", check)], n);
    }
}

fn render_orders(out: &mut Exposition, m: &Metrics) {
    out.counter(
        "tradeguard_orders_submitted_total",
        "Orders that reached the risk engine.",
        m.orders_submitted.load(Ordering::Relaxed),
    );
    let name = "tradeguard_orders_refused_total";
    out.family(
        name,
        "counter",
        "Order refusals: a risk rejection code (one per failed check) or gateway_halted / gateway_reducing.",
    );
    for ([reason], n) in m.orders_refused.snapshot() {
        out.sample(name, &[("reason", reason)], n);
    }
    out.counter(
        "tradeguard_orders_placed_total",
        "Orders the exchange side accepted.",
        m.orders_placed.load(Ordering::Relaxed),
    )
    .counter(
        "tradeguard_orders_failed_total",
        "Risk-approved orders the exchange side failed to place.",
        m.orders_failed.load(Ordering::Relaxed),
    );
}

fn render_state(out: &mut Exposition, m: &Metrics, g: &Gauges) {
    if let Some(mode) = g.trading {
        let name = "tradeguard_trading_state";
        out.family(
            name,
            "gauge",
            "1 for the trading state in force, 0 for the others.",
        );
        for s in [
            TradingMode::Active,
            TradingMode::Reducing,
            TradingMode::Halted,
        ] {
            out.sample(name, &[("state", s.as_str())], u64::from(s == mode));
        }
    }
    let name = "tradeguard_halts_total";
    out.family(
        name,
        "counter",
        "POST /v1/halt calls, by the mode they switched to.",
    );
    for ([mode], n) in m.halts.snapshot() {
        out.sample(name, &[("mode", mode)], n);
    }
    let name = "tradeguard_lockouts_active";
    out.family(
        name,
        "gauge",
        "Keys and addresses locked out after repeated authentication failures.",
    )
    .sample(name, &[("subject", "key")], g.lockouts.0)
    .sample(name, &[("subject", "address")], g.lockouts.1);
    out.counter(
        "tradeguard_sessions_opened_total",
        "Sessions opened through this replica.",
        m.sessions_opened.load(Ordering::Relaxed),
    );
    if let Some(n) = g.sessions_live {
        out.gauge(
            "tradeguard_sessions_active",
            "Sessions not yet expired nor ended.",
            n,
        );
    }
}

fn render_intents(out: &mut Exposition, s: &IntakeStats) {
    out.counter(
        "tradeguard_intent_packets_total",
        "Sealed-intent packets received.",
        s.packets,
    )
    .counter(
        "tradeguard_intent_real_total",
        "Sealed intents handed to the order path.",
        s.real,
    )
    .counter(
        "tradeguard_intent_dummies_total",
        "Dummy sealed-intent packets opened and dropped.",
        s.dummies,
    )
    .counter(
        "tradeguard_intent_status_queries_total",
        "Sealed-intent status queries answered.",
        s.queries,
    );
    let name = "tradeguard_intent_refused_total";
    out.family(name, "counter", "Sealed-intent packets refused, by reason.");
    for (reason, n) in &s.refused {
        out.sample(name, &[("reason", reason)], *n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_status_classes_bounded() {
        let m = Metrics::default();
        m.request(&Method::GET, "/v1/state", StatusCode::OK);
        m.request(&Method::GET, "/v1/state", StatusCode::NO_CONTENT);
        m.request(
            &Method::from_bytes(b"BREW").unwrap(),
            "other",
            StatusCode::from_u16(599).unwrap(),
        );
        let text = render(&m, &Gauges::default());
        assert!(text.contains(
            "tradeguard_http_requests_total{method=\"GET\",route=\"/v1/state\",status=\"2xx\"} 2\n"
        ));
        assert!(text.contains(
            "tradeguard_http_requests_total{method=\"other\",route=\"other\",status=\"5xx\"} 1\n"
        ));
        let mut e = Exposition(String::new());
        e.sample("x", &[("l", "a\"b\\c\nd")], 1);
        assert_eq!(e.0, "x{l=\"a\\\"b\\\\c\\nd\"} 1\n");
    }

    #[test]
    fn unwired_parts_are_left_out() {
        let text = render(&Metrics::default(), &Gauges::default());
        assert!(!text.contains("tradeguard_trading_state"));
        assert!(!text.contains("tradeguard_intent_"));
        assert!(!text.contains("tradeguard_audit_"));
        assert!(!text.contains("tradeguard_sessions_active"));
        let g = Gauges {
            trading: Some(TradingMode::Halted),
            ..Gauges::default()
        };
        let text = render(&Metrics::default(), &g);
        assert!(text.contains("tradeguard_trading_state{state=\"halted\"} 1\n"));
        assert!(text.contains("tradeguard_trading_state{state=\"active\"} 0\n"));
    }
}

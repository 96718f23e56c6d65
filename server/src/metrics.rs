//! What an operator watches: counters, gauges and a histogram, served as Prometheus text on
//! `/metrics` (see [`crate::http::metrics`]).
//!
//! One [`Metrics`] per server, made with its state, so two servers in one test process count
//! apart. Every field is a cheap handle onto shared atomics: the hub, the message writer and
//! the broker each keep clones of the ones they move, and the hot path (a delivery) costs one
//! atomic add per fan-out, not per socket.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};
use std::sync::Arc;

/// Labels of a closed socket: why it closed.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

/// Labels of a socket command: its `type` and how it ended (`ok` or the error code).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandLabels {
    pub kind: &'static str,
    pub outcome: &'static str,
}

/// Labels of a refusal by a rate limit: which limit.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabel {
    pub limit: &'static str,
}

/// Every metric the server keeps.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// WebSockets open on this node.
    pub sockets_open: Gauge,
    /// Frames queued to sockets (one per socket a fan-out reached).
    pub deliveries: Counter,
    /// Frames not queued because the socket's queue was full (the socket is closed for it).
    pub frames_dropped: Counter,
    /// Sockets closed, by why.
    pub sockets_closed: Family<ReasonLabel, Counter>,
    /// Socket commands, by type and outcome.
    pub commands: Family<CommandLabels, Counter>,
    /// Seconds each group commit of messages took (one transaction, many posts; a retry after
    /// a repeated nonce included, failed batches too).
    pub commit_seconds: Histogram,
    /// Envelopes the broker failed to publish to the other nodes.
    pub broker_publish_failures: Counter,
    /// Times this node closed all its sockets so their clients catch up (events may have been
    /// lost between nodes).
    pub resyncs: Counter,
    /// Requests and commands refused by a rate limit, by which.
    pub rate_limited: Family<LimitLabel, Counter>,
    /// Log-ins refused for a wrong username or password, a disabled account, or a username
    /// too long to exist.
    pub login_failures: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("whisper");
        let r = &mut registry;
        Metrics {
            sockets_open: registered(r, "sockets_open", "WebSockets open on this node"),
            deliveries: registered(
                r,
                "deliveries",
                "Frames queued to sockets, one per socket reached",
            ),
            frames_dropped: registered(
                r,
                "frames_dropped",
                "Frames dropped at a full socket queue (that socket is closed to resync)",
            ),
            sockets_closed: registered(r, "sockets_closed", "Sockets closed, by reason"),
            commands: registered(
                r,
                "commands",
                "Socket commands, by type and outcome (ok or the error code)",
            ),
            commit_seconds: {
                // 0.1 ms to ~3.3 s, doubling.
                let histogram = Histogram::new(exponential_buckets(0.000_1, 2.0, 16));
                r.register(
                    "message_commit_seconds",
                    "Time to store one batch of messages",
                    histogram.clone(),
                );
                histogram
            },
            broker_publish_failures: registered(
                r,
                "broker_publish_failures",
                "Envelopes that could not be published to the other nodes",
            ),
            resyncs: registered(
                r,
                "resyncs",
                "Times this node closed every socket so clients catch up from the database",
            ),
            rate_limited: registered(
                r,
                "rate_limited",
                "Requests and commands refused by a rate limit, by limit",
            ),
            login_failures: registered(
                r,
                "login_failures",
                "Log-ins refused for a wrong username or password",
            ),
            // Last: the fields above borrow it to register themselves.
            registry: Arc::new(registry),
        }
    }
}

/// A new metric, registered under `name`; the returned handle shares its value.
fn registered<M: Metric + Clone + Default>(registry: &mut Registry, name: &str, help: &str) -> M {
    let metric = M::default();
    registry.register(name, help, metric.clone());
    metric
}

impl Metrics {
    /// Counts a socket closed for `reason`.
    pub fn socket_closed(&self, reason: &'static str) {
        self.sockets_closed
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// Counts a refusal by the rate limit named `limit`.
    pub fn limited(&self, limit: &'static str) {
        self.rate_limited.get_or_create(&LimitLabel { limit }).inc();
    }

    /// Counts a command of `kind` that ended with `outcome`.
    pub fn command(&self, kind: &'static str, outcome: &'static str) {
        self.commands
            .get_or_create(&CommandLabels { kind, outcome })
            .inc();
    }

    /// Everything, in the text exposition format (OpenMetrics, which Prometheus reads).
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_metric_with_its_labels() {
        let metrics = Metrics::default();
        metrics.deliveries.inc_by(3);
        metrics.command("send", "ok");
        metrics.command("join", "rate_limited");
        metrics.socket_closed("overloaded");
        metrics.commit_seconds.observe(0.002);
        let text = metrics.render();
        assert!(text.contains("whisper_deliveries_total 3"), "{text}");
        assert!(
            text.contains(r#"whisper_commands_total{kind="join",outcome="rate_limited"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"whisper_sockets_closed_total{reason="overloaded"} 1"#),
            "{text}"
        );
        assert!(
            text.contains("whisper_message_commit_seconds_count 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}

//! Latency percentiles as the load commands print them.

/// The `p`-th quantile of `sorted` µs samples, in ms.
fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[index]) / 1000.0
}

/// One line: p50, p90, p99 and the maximum of `sorted` µs samples, in ms.
pub fn print_latency(label: &str, sorted: &[u32]) {
    println!(
        "{label}: p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
        percentile(sorted, 0.50),
        percentile(sorted, 0.90),
        percentile(sorted, 0.99),
        percentile(sorted, 1.0)
    );
}

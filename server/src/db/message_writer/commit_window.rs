//! How long a batch waits for company before it commits.
//!
//! A commit has a cost of its own beside its posts' (on SQLite: the write-ahead log's frames for
//! every page the batch touched, the search index's new segment), and on a SQLite file it was
//! about 150 µs of server CPU, as much as the rest of a post's own work (BENCHMARKS.md,
//! twenty-sixth session). Posts that arrive while a batch commits already share the next one,
//! but at hundreds of posts a second a commit is usually over before the next post arrives,
//! so nearly every post paid for a commit alone.
//!
//! So while posts keep coming, batches start at most once per [`WINDOW`]: a post that arrives
//! sooner than that after the last batch began waits out the rest of the window, and every post
//! that arrives meanwhile commits with it. A post that finds the window over commits at once,
//! so a quiet room pays nothing, and no post waits more than one window.

use std::time::{Duration, Instant};

/// The shortest time between the starts of two batches while posts keep arriving.
pub const WINDOW: Duration = Duration::from_millis(2);

/// When the last batch began, to tell how long the next one waits.
#[derive(Debug, Default)]
pub struct CommitWindow {
    last_start: Option<Instant>,
}

impl CommitWindow {
    /// How long a batch whose first post is here at `now` waits before it gathers the posts
    /// queued behind that one.
    pub fn wait(&self, now: Instant) -> Duration {
        self.last_start
            .map(|start| (start + WINDOW).saturating_duration_since(now))
            .unwrap_or_default()
    }

    /// A batch begins at `at` (after its wait): the next window runs from here.
    pub fn begin(&mut self, at: Instant) {
        self.last_start = Some(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_batch_commits_at_once() {
        assert_eq!(CommitWindow::default().wait(Instant::now()), Duration::ZERO);
    }

    #[test]
    fn a_post_soon_after_a_batch_began_waits_out_the_window() {
        let start = Instant::now();
        let mut window = CommitWindow::default();
        window.begin(start);
        let soon = start + Duration::from_micros(500);
        assert_eq!(window.wait(soon), WINDOW - Duration::from_micros(500));
        assert_eq!(window.wait(start), WINDOW, "never more than one window");
    }

    #[test]
    fn a_post_after_the_window_commits_at_once() {
        let start = Instant::now();
        let mut window = CommitWindow::default();
        window.begin(start);
        assert_eq!(window.wait(start + WINDOW), Duration::ZERO);
        assert_eq!(window.wait(start + 10 * WINDOW), Duration::ZERO);
    }
}

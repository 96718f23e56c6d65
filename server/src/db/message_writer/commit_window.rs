//! How long a batch waits for company before it commits.
//!
//! A commit has a cost of its own beside its posts' (on SQLite: the write-ahead log's frames for
//! every page the batch touched, the search index's new segment). On a SQLite file it was about
//! 160 µs of server CPU, nearly as much as the rest of a post's own work (BENCHMARKS.md,
//! twenty-sixth session). Posts that arrive while a batch commits already share the next one,
//! but at hundreds of posts a second a commit is usually over before the next post arrives,
//! so nearly every post paid for a commit alone.
//!
//! So while posts keep coming, the writer starts batches at most once per [`WINDOW`]: a post
//! that arrives sooner than that after the last batch began waits out the rest of the window,
//! and the posts that arrive meanwhile commit with it. A post that finds the window over
//! commits at once, so on an idle writer a post waits for nothing, and a batch's first post
//! sleeps at most one window (a tokio timer, on the pooled writer, rounds up to its next
//! millisecond). The window is the writer's, not a room's: a post in a quiet room on a busy
//! node shares its wait with the busy rooms' posts.

use super::batch::MAX_BATCH;
use std::time::{Duration, Instant};

/// The shortest time between the starts of two batches while posts keep arriving.
pub(super) const WINDOW: Duration = Duration::from_millis(2);

/// When the last batch began, to tell when the next one may.
#[derive(Debug, Default)]
pub(super) struct CommitWindow {
    last_start: Option<Instant>,
}

impl CommitWindow {
    /// The next batch: its first post is here at `now`, with `queued` more behind it. Returns
    /// how long to sleep before gathering them, and counts the next window from the end of that
    /// sleep (not from when the sleep happens to end, so a late wake-up does not stretch the
    /// spacing). A batch that is already full does not wait.
    pub(super) fn reserve(&mut self, now: Instant, queued: usize) -> Duration {
        let full = queued + 1 >= MAX_BATCH;
        let wait = match self.last_start {
            Some(last) if !full => (last + WINDOW).saturating_duration_since(now),
            _ => Duration::ZERO,
        };
        self.last_start = Some(now + wait);
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALF_A_MILLISECOND: Duration = Duration::from_micros(500);

    #[test]
    fn the_first_batch_commits_at_once() {
        assert_eq!(
            CommitWindow::default().reserve(Instant::now(), 0),
            Duration::ZERO
        );
    }

    #[test]
    fn a_post_soon_after_a_batch_began_waits_out_the_window() {
        let start = Instant::now();
        let mut window = CommitWindow::default();
        window.reserve(start, 0);
        assert_eq!(
            window.reserve(start + HALF_A_MILLISECOND, 3),
            WINDOW - HALF_A_MILLISECOND
        );
        // That batch began at `start + WINDOW`: the next window runs from there.
        assert_eq!(window.reserve(start + WINDOW, 0), WINDOW);
    }

    #[test]
    fn a_post_after_the_window_commits_at_once() {
        let start = Instant::now();
        let mut window = CommitWindow::default();
        window.reserve(start, 0);
        assert_eq!(window.reserve(start + WINDOW, 0), Duration::ZERO);
        let later = start + 10 * WINDOW;
        assert_eq!(window.reserve(later, 0), Duration::ZERO);
        // The window now runs from `later`, not from `start`.
        assert_eq!(
            window.reserve(later + HALF_A_MILLISECOND, 0),
            WINDOW - HALF_A_MILLISECOND
        );
    }

    #[test]
    fn a_full_batch_does_not_wait() {
        let start = Instant::now();
        let mut window = CommitWindow::default();
        window.reserve(start, 0);
        assert_eq!(window.reserve(start, MAX_BATCH - 1), Duration::ZERO);
        assert_eq!(window.reserve(start, MAX_BATCH - 2), WINDOW);
    }
}

//! Coalescing change hints into batches: a burst of events becomes one sync, not one per event.
//! A batch is handed out once no event came for [`QUIET`], or [`LONGEST_WAIT`] after its first
//! event however busy the stream is, so a steady trickle cannot hold a change back. Pure: the
//! caller passes the clock.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::time::Instant;

use super::change_log::ChangeHint;

/// How long the stream must be quiet before a batch goes.
pub const QUIET: Duration = Duration::from_millis(300);
/// The longest a batch waits after its first event.
pub const LONGEST_WAIT: Duration = Duration::from_secs(2);
/// More users than this in one batch are read as everyone: one complete read is cheaper than
/// that many single ones.
pub const MOST_USERS: usize = 1_000;

/// What a batch asks to read again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeBatch {
    /// Dialpad user ids named by its events.
    pub users: BTreeSet<String>,
    /// Whether some event asked for every user.
    pub everyone: bool,
    /// How many events it holds.
    pub events: usize,
}

/// Collects hints until a batch is due.
#[derive(Debug)]
pub struct Coalescer {
    quiet: Duration,
    longest: Duration,
    pending: Option<Pending>,
}

#[derive(Debug)]
struct Pending {
    batch: ChangeBatch,
    first: Instant,
    last: Instant,
}

impl Default for Coalescer {
    fn default() -> Self {
        Self::new(QUIET, LONGEST_WAIT)
    }
}

impl Coalescer {
    /// A coalescer with its own timings.
    pub fn new(quiet: Duration, longest: Duration) -> Self {
        Self {
            quiet,
            longest,
            pending: None,
        }
    }

    /// Adds one event's hint, received at `now`. A hint for nothing is not a change and leaves
    /// the timing alone.
    pub fn add(&mut self, hint: ChangeHint, now: Instant) {
        if hint == ChangeHint::Nothing {
            return;
        }
        let pending = self.pending.get_or_insert_with(|| Pending {
            batch: ChangeBatch::default(),
            first: now,
            last: now,
        });
        pending.last = now;
        pending.batch.events += 1;
        match hint {
            ChangeHint::Users(users) if !pending.batch.everyone => {
                pending.batch.users.extend(users);
                if pending.batch.users.len() > MOST_USERS {
                    pending.batch.users.clear();
                    pending.batch.everyone = true;
                }
            }
            ChangeHint::Users(_) | ChangeHint::Nothing => {}
            ChangeHint::Everyone => {
                pending.batch.users.clear();
                pending.batch.everyone = true;
            }
        }
    }

    /// When the pending batch is due, if there is one.
    pub fn due_at(&self) -> Option<Instant> {
        self.pending
            .as_ref()
            .map(|p| (p.last + self.quiet).min(p.first + self.longest))
    }

    /// The pending batch, if it is due at `now`.
    pub fn take_due(&mut self, now: Instant) -> Option<ChangeBatch> {
        if self.due_at().is_some_and(|at| at <= now) {
            self.pending.take().map(|p| p.batch)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: u32) -> ChangeHint {
        ChangeHint::Users(BTreeSet::from([id.to_string()]))
    }

    #[test]
    fn a_thousand_events_in_a_second_become_one_batch() {
        let start = Instant::now();
        let mut coalescer = Coalescer::default();
        let mut batches = Vec::new();
        for i in 0..1_000u32 {
            let now = start + Duration::from_millis(u64::from(i));
            coalescer.add(user(i % 250), now);
            batches.extend(coalescer.take_due(now));
        }
        assert!(batches.is_empty(), "nothing goes while events keep coming");
        let quiet = start + Duration::from_millis(999) + QUIET;
        let batch = coalescer.take_due(quiet).expect("due once the stream is quiet");
        assert_eq!(
            (batch.events, batch.users.len(), batch.everyone),
            (1_000, 250, false)
        );
        assert_eq!(coalescer.take_due(quiet + LONGEST_WAIT), None, "handed out once");
    }

    #[test]
    fn a_steady_stream_cannot_hold_a_batch_back_longer_than_the_longest_wait() {
        let start = Instant::now();
        let mut coalescer = Coalescer::default();
        let mut handed = Vec::new();
        for step in 0..60u64 {
            let now = start + Duration::from_millis(step * 100);
            coalescer.add(user(1), now);
            if let Some(batch) = coalescer.take_due(now) {
                handed.push((now - start, batch.events));
            }
        }
        assert_eq!(handed.first().map(|h| h.0), Some(LONGEST_WAIT));
        assert!(handed.len() >= 2, "{handed:?}");
    }

    #[test]
    fn everyone_absorbs_single_users_and_too_many_users_become_everyone() {
        let now = Instant::now();
        let mut coalescer = Coalescer::default();
        coalescer.add(user(1), now);
        coalescer.add(ChangeHint::Everyone, now);
        coalescer.add(user(2), now);
        let batch = coalescer.take_due(now + LONGEST_WAIT).unwrap();
        assert!(batch.everyone && batch.users.is_empty() && batch.events == 3);
        for i in 0..=MOST_USERS as u32 {
            coalescer.add(user(i), now);
        }
        let batch = coalescer.take_due(now + LONGEST_WAIT).unwrap();
        assert!(batch.everyone && batch.users.is_empty());
    }

    #[test]
    fn events_about_nothing_the_sync_reads_make_no_batch() {
        let now = Instant::now();
        let mut coalescer = Coalescer::default();
        coalescer.add(ChangeHint::Nothing, now);
        assert_eq!(coalescer.due_at(), None);
        assert_eq!(coalescer.take_due(now + LONGEST_WAIT), None);
    }
}

//! Confirmation against a fake tenant that counts what it is asked.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::*;
use crate::sync::change::Refusal;

/// A tenant where every submitted change has finished: `holders` shows the assignments it made,
/// and operations in `refused` were refused for a licence, with a detail.
#[derive(Default)]
struct Finished {
    holders: HashMap<String, Option<String>>,
    refused: HashMap<String, String>,
    running: Vec<String>,
    listings: Mutex<usize>,
    looks: Mutex<usize>,
}

impl ChangeConfirmer for Finished {
    async fn outcome(&self, url: &str) -> Result<Option<ChangeOutcome>, WriteError> {
        *self.looks.lock().unwrap() += 1;
        if self.running.iter().any(|r| r == url) {
            return Ok(None);
        }
        Ok(Some(match self.refused.get(url) {
            Some(detail) => ChangeOutcome::Refused(Refusal::Licence(detail.clone())),
            None => ChangeOutcome::Succeeded,
        }))
    }

    async fn holders(&self) -> Result<HashMap<String, Option<String>>, WriteError> {
        *self.listings.lock().unwrap() += 1;
        Ok(self.holders.clone())
    }

    fn operation_timeout(&self) -> Duration {
        Duration::from_secs(60)
    }
}

fn assignments(count: usize) -> Vec<PendingChange> {
    (0..count)
        .map(|i| PendingChange {
            outcome: i,
            kind: ActionKind::Assign {
                number: format!("+1425555{i:04}"),
                user_id: format!("user-{i}"),
                location_id: None,
            },
            url: Some(format!("op-{i}")),
        })
        .collect()
}

fn made(changes: &[PendingChange]) -> HashMap<String, Option<String>> {
    changes
        .iter()
        .filter_map(|c| match &c.kind {
            ActionKind::Assign { number, user_id, .. } => Some((number.clone(), Some(user_id.clone()))),
            ActionKind::Unassign { .. } => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_wave_of_changes_is_confirmed_by_one_listing_not_by_polling_each() {
    let pending = assignments(500);
    let tenant = Finished {
        holders: made(&pending),
        ..Default::default()
    };
    let verdicts = confirm(&tenant, pending, FIRST_LOOK).await;
    assert_eq!(verdicts.len(), 500);
    assert!(
        verdicts
            .iter()
            .all(|(_, _, r)| *r == Ok(ChangeOutcome::Succeeded))
    );
    assert_eq!(*tenant.listings.lock().unwrap(), 1);
    assert_eq!(*tenant.looks.lock().unwrap(), 0, "no operation polled");
}

#[tokio::test(start_paused = true)]
async fn a_refused_change_is_looked_at_alone_and_keeps_teams_detail() {
    let pending = assignments(100);
    let mut holders = made(&pending);
    holders.insert("+14255550007".into(), None);
    let tenant = Finished {
        holders,
        refused: [("op-7".to_owned(), "User does not have a valid license".to_owned())].into(),
        ..Default::default()
    };
    let verdicts = confirm(&tenant, pending, FIRST_LOOK).await;
    assert_eq!(verdicts.len(), 100);
    let refused: Vec<_> = verdicts
        .iter()
        .filter(|(_, _, r)| *r != Ok(ChangeOutcome::Succeeded))
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, 7);
    assert_eq!(
        refused[0].2,
        Ok(ChangeOutcome::Refused(Refusal::Licence(
            "User does not have a valid license".into()
        )))
    );
    assert_eq!(
        *tenant.looks.lock().unwrap(),
        1,
        "only the unconfirmed change is polled"
    );
}

#[tokio::test(start_paused = true)]
async fn a_change_still_running_at_the_timeout_is_reported_still_running_never_assumed_done() {
    let pending = assignments(3);
    let mut holders = made(&pending);
    holders.insert("+14255550001".into(), Some("someone-else".into()));
    let tenant = Finished {
        holders,
        running: vec!["op-1".into()],
        ..Default::default()
    };
    let verdicts = confirm(&tenant, pending, FIRST_LOOK).await;
    let of = |index: usize| verdicts.iter().find(|(i, _, _)| *i == index).unwrap().2.clone();
    assert_eq!(of(0), Ok(ChangeOutcome::Succeeded));
    assert_eq!(of(1), Ok(ChangeOutcome::StillRunning));
    assert_eq!(of(2), Ok(ChangeOutcome::Succeeded));
}

#[tokio::test(start_paused = true)]
async fn a_change_teams_accepted_without_a_location_is_confirmed_by_the_listing() {
    let mut pending = assignments(2);
    for change in &mut pending {
        change.url = None;
    }
    let mut holders = made(&pending);
    holders.insert("+14255550001".into(), None);
    let tenant = Finished {
        holders,
        ..Default::default()
    };
    let verdicts = confirm(&tenant, pending, FIRST_LOOK).await;
    let of = |index: usize| verdicts.iter().find(|(i, _, _)| *i == index).unwrap().2.clone();
    assert_eq!(of(0), Ok(ChangeOutcome::Succeeded), "the listing shows it made");
    assert_eq!(
        of(1),
        Ok(ChangeOutcome::StillRunning),
        "not in the listing by the timeout: still running, never assumed done"
    );
    assert!(
        *tenant.listings.lock().unwrap() >= 2,
        "read again until the timeout"
    );
    assert_eq!(
        *tenant.looks.lock().unwrap(),
        0,
        "there is no operation to look at"
    );
}

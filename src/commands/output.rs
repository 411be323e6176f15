//! What `demo` and `plan` print: a `kubectl get`-style summary line, the tenant conditions, and
//! a table of users with their state, reason and message.

use std::fmt::Write;

use crate::api::conditions::{READY, find_condition};
use crate::api::{Severity, TeamsTenantSync, TeamsTenantSyncStatus};
use crate::sync::model::UserOutcome;
use crate::sync::report::listing_order;

/// `NAME TENANT READY IN SYNC DESIRED FAILED`, as `kubectl get tts` shows it.
pub fn summary(resource: &TeamsTenantSync, status: &TeamsTenantSyncStatus) -> String {
    let name = resource.metadata.name.clone().unwrap_or_default();
    let ready = find_condition(&status.conditions, READY).map_or("Unknown", |c| c.status.as_str());
    let summary = status.summary.clone().unwrap_or_default();
    let rows = vec![
        vec![
            "NAME".into(),
            "TENANT".into(),
            "READY".into(),
            "IN SYNC".into(),
            "DESIRED".into(),
            "FAILED".into(),
        ],
        vec![
            name,
            resource.spec.tenant.domain.clone(),
            ready.into(),
            summary.in_sync.to_string(),
            summary.desired.to_string(),
            summary.failed.to_string(),
        ],
    ];
    table(&rows)
}

/// The tenant conditions: `TYPE STATUS REASON MESSAGE`.
pub fn conditions(status: &TeamsTenantSyncStatus) -> String {
    let mut rows = vec![vec![
        "CONDITION".into(),
        "STATUS".into(),
        "REASON".into(),
        "MESSAGE".into(),
    ]];
    for condition in &status.conditions {
        rows.push(vec![
            condition.type_.clone(),
            condition.status.clone(),
            condition.reason.clone(),
            condition.message.clone(),
        ]);
    }
    table(&rows)
}

/// Every user of the sync, one row each (failures first, then pending, then in sync): the full
/// list, which `.status.users` shortens.
pub fn users(outcomes: &[UserOutcome]) -> String {
    let mut rows = vec![vec![
        "EMAIL".into(),
        "NUMBER".into(),
        "STATE".into(),
        "REASON".into(),
        "MESSAGE".into(),
    ]];
    let mut ordered: Vec<&UserOutcome> = outcomes.iter().collect();
    ordered.sort_by(|a, b| listing_order(a, b));
    for outcome in ordered {
        let state = match outcome.reason.severity() {
            Severity::Healthy => "in sync",
            Severity::Pending => "pending",
            Severity::Failed => "FAILED",
        };
        rows.push(vec![
            outcome.email.clone().unwrap_or_else(|| "(no email)".into()),
            outcome.phone_number.clone().unwrap_or_else(|| "-".into()),
            state.into(),
            outcome.reason.as_str().into(),
            outcome.message.clone(),
        ]);
    }
    table(&rows)
}

/// Left-aligned columns, two spaces apart; the last column is not padded.
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ", width = widths[c]);
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_the_last_is_not_padded() {
        let rows = vec![
            vec!["A".into(), "BB".into(), "C".into()],
            vec!["long".into(), "x".into(), "last".into()],
        ];
        assert_eq!(table(&rows), "A     BB  C\nlong  x   last\n");
    }
}

//! What `kubectl teamssync users` does with the report's shards once read: puts them together
//! (refusing an incomplete or mixed set), filters by reason, and prints a table, CSV or JSON.
//! Pure: no I/O but the writer handed in.

use std::collections::BTreeSet;
use std::io::Write;

use crate::api::{Reason, ReasonLevel, Severity};
use crate::sync::users_report::ReportEntry;
use crate::sync::users_report::shards::ShardDocument;

/// What is wrong with the report or the command line.
#[derive(Debug, thiserror::Error)]
pub enum ReportReadError {
    /// Shards of different reports, or some missing: the operator is rewriting it.
    #[error(
        "the users report is being rewritten (found shards {found:?}, expected 0 to {last}); run the command again"
    )]
    Incomplete {
        /// The shard indexes found.
        found: Vec<usize>,
        /// The last index expected.
        last: usize,
    },
    /// `--reason` names a reason no user can have.
    #[error("unknown reason {given:?}; a user's reason is one of: {valid}")]
    UnknownReason {
        /// The reason given.
        given: String,
        /// The valid ones, comma-separated.
        valid: String,
    },
    /// Writing the output failed.
    #[error("cannot write the report: {0}")]
    Write(#[from] std::io::Error),
    /// Writing CSV failed.
    #[error("cannot write the report as CSV: {0}")]
    Csv(#[from] csv::Error),
    /// Writing JSON failed.
    #[error("cannot write the report as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Every user of a complete set of shards, departed and failing users first, then by email.
/// Also returns how many users the report left out.
pub fn assemble(documents: Vec<ShardDocument>) -> Result<(Vec<ReportEntry>, usize), ReportReadError> {
    let expected = documents.first().map_or(0, |d| d.shards);
    let found: BTreeSet<usize> = documents.iter().map(|d| d.shard).collect();
    let complete = documents.len() == expected
        && found.len() == expected
        && documents
            .iter()
            .all(|d| d.shards == expected && d.shard < expected);
    if !complete {
        return Err(ReportReadError::Incomplete {
            found: found.into_iter().collect(),
            last: expected.saturating_sub(1),
        });
    }
    let omitted = documents.first().map_or(0, |d| d.omitted);
    let mut entries: Vec<ReportEntry> = documents.into_iter().flat_map(|d| d.users).collect();
    entries.sort_by_cached_key(|entry| {
        let severity = Reason::parse(&entry.reason).map_or(Severity::Failed, Reason::severity);
        let departed = entry.key.starts_with("departed/");
        (
            !departed,
            std::cmp::Reverse(severity),
            entry.email.is_none(),
            entry.email.clone(),
            entry.key.clone(),
        )
    });
    Ok((entries, omitted))
}

/// The reasons a user's `Synced` condition can have.
pub fn user_reasons() -> impl Iterator<Item = Reason> {
    Reason::ALL
        .iter()
        .copied()
        .filter(|reason| reason.level() != ReasonLevel::Tenant)
}

/// The reasons of `--reason` (each value may list several, comma-separated), or the first that
/// no user can have.
pub fn parse_reasons(values: &[String]) -> Result<BTreeSet<Reason>, ReportReadError> {
    let mut reasons = BTreeSet::new();
    for given in values.iter().flat_map(|v| v.split(',')).map(str::trim) {
        if given.is_empty() {
            continue;
        }
        match Reason::parse(given).filter(|r| r.level() != ReasonLevel::Tenant) {
            Some(reason) => reasons.insert(reason),
            None => {
                return Err(ReportReadError::UnknownReason {
                    given: given.to_owned(),
                    valid: user_reasons().map(Reason::as_str).collect::<Vec<_>>().join(", "),
                });
            }
        };
    }
    Ok(reasons)
}

/// The entries whose reason is among `reasons` (all of them when it is empty).
pub fn filter(entries: Vec<ReportEntry>, reasons: &BTreeSet<Reason>) -> Vec<ReportEntry> {
    if reasons.is_empty() {
        return entries;
    }
    entries
        .into_iter()
        .filter(|entry| Reason::parse(&entry.reason).is_some_and(|r| reasons.contains(&r)))
        .collect()
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 8] = [
    "email",
    "phoneNumber",
    "dialpadUserId",
    "teamsUserId",
    "reason",
    "since",
    "message",
    "key",
];

/// A header and one RFC 4180 record per user.
pub fn write_csv(entries: &[ReportEntry], out: impl Write) -> Result<(), ReportReadError> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(CSV_HEADER)?;
    for entry in entries {
        let field = |value: &Option<String>| value.clone().unwrap_or_default();
        writer.write_record([
            field(&entry.email),
            field(&entry.phone_number),
            field(&entry.dialpad_user_id),
            field(&entry.teams_user_id),
            entry.reason.clone(),
            entry.since.clone(),
            entry.message.clone(),
            entry.key.clone(),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

/// A JSON array of the entries.
pub fn write_json(entries: &[ReportEntry], mut out: impl Write) -> Result<(), ReportReadError> {
    serde_json::to_writer_pretty(&mut out, entries)?;
    writeln!(out)?;
    Ok(())
}

/// `EMAIL NUMBER REASON SINCE MESSAGE`, one line per user.
pub fn table(entries: &[ReportEntry]) -> String {
    let mut rows = vec![
        ["EMAIL", "NUMBER", "REASON", "SINCE", "MESSAGE"]
            .map(String::from)
            .to_vec(),
    ];
    let shown = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".into());
    for entry in entries {
        rows.push(vec![
            shown(&entry.email),
            shown(&entry.phone_number),
            entry.reason.clone(),
            entry.since.clone(),
            entry.message.clone(),
        ]);
    }
    super::output::table(&rows)
}

#[cfg(test)]
#[path = "users_output_tests.rs"]
mod tests;

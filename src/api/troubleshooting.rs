//! The troubleshooting table of `docs/troubleshooting.md`, generated from the reason vocabulary so
//! that the manual cannot drift from the code: one row per [`Reason::ALL`] entry with where it
//! appears, the condition status it gives, what it means (its `///` doc) and its remedy.
//!
//! `tests/docs.rs` compares the checked-in table with [`troubleshooting_table`] and rewrites it
//! when `UPDATE_DOCS=1` is set.

use super::reasons::{Reason, ReasonLevel, Severity};

/// The line that opens the generated section of `docs/troubleshooting.md`.
pub const BEGIN_MARKER: &str = "<!-- reasons:begin -->";
/// The line that closes it.
pub const END_MARKER: &str = "<!-- reasons:end -->";

/// The Markdown table of every reason, one row each, in declaration order, ending with a newline.
pub fn troubleshooting_table() -> String {
    let mut table = String::from(
        "| Reason | Where it appears | Status | Meaning | What to do |\n\
         |---|---|---|---|---|\n",
    );
    for reason in Reason::ALL {
        let remedy = match reason.remedy() {
            "" => "Nothing.".to_owned(),
            remedy => cell(remedy),
        };
        table.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            reason.as_str(),
            level_text(reason.level()),
            severity_text(reason.severity()),
            cell(reason.meaning()),
            remedy,
        ));
    }
    table
}

/// `document` with the text between the lines `begin` and `end` (such as [`BEGIN_MARKER`] and
/// [`END_MARKER`]) replaced by `section`; `None` if a marker is missing or they are out of order.
pub fn replace_section(document: &str, begin: &str, end: &str, section: &str) -> Option<String> {
    let (before, rest) = document.split_once(begin)?;
    let (_, after) = rest.split_once(end)?;
    Some(format!("{before}{begin}\n{section}{end}{after}"))
}

/// The text between the lines `begin` and `end` of `document`, if both are there in that order.
pub fn section<'a>(document: &'a str, begin: &str, end: &str) -> Option<&'a str> {
    let (_, rest) = document.split_once(begin)?;
    let (section, _) = rest.split_once(end)?;
    Some(section.strip_prefix('\n').unwrap_or(section))
}

fn level_text(level: ReasonLevel) -> &'static str {
    match level {
        ReasonLevel::User => "user `Synced`",
        ReasonLevel::Tenant => "tenant condition",
        ReasonLevel::Both => "user `Synced` or tenant condition",
    }
}

fn severity_text(severity: Severity) -> &'static str {
    match severity {
        Severity::Healthy => "`True`",
        Severity::Pending => "`False`, pending",
        Severity::Failed => "`False`, failed",
    }
}

/// One table cell: field paths, account names, E.164 numbers and CamelCase identifiers become code
/// spans (so `<` and `>` render as written), and `|` is escaped.
fn cell(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let start = word.find(|c: char| c != '(').unwrap_or(word.len());
            let end = word
                .rfind(|c: char| !matches!(c, '.' | ',' | ';' | ':' | ')'))
                .map_or(start, |i| i + 1)
                .max(start);
            let (open, core, close) = (&word[..start], &word[start..end], &word[end..]);
            if is_code(core) {
                format!("{open}`{core}`{close}")
            } else {
                word.replace('|', "\\|")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_code(word: &str) -> bool {
    let field = ["spec.", "status.", "summary."]
        .iter()
        .any(|prefix| word.starts_with(prefix) && word.len() > prefix.len());
    let number = word
        .strip_prefix('+')
        .is_some_and(|digits| !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()));
    field || number || word.contains('@') || word.contains('<') || is_camel_case(word)
}

/// `AdminConnected`, `DryRun`: an uppercase letter, a lowercase one, and a later uppercase one
/// (how reasons, conditions and Event reasons are written).
pub fn is_camel_case(word: &str) -> bool {
    let mut chars = word.chars();
    let starts = matches!(
        (chars.next(), chars.next()),
        (Some(a), Some(b)) if a.is_ascii_uppercase() && b.is_ascii_lowercase()
    );
    starts
        && word.chars().all(|c| c.is_ascii_alphanumeric())
        && word.chars().skip(2).any(|c| c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_one_row_per_reason_with_its_remedy() {
        let table = troubleshooting_table();
        assert_eq!(table.lines().count(), Reason::ALL.len() + 2);
        for reason in Reason::ALL {
            assert_eq!(table.matches(&format!("| `{reason}` |")).count(), 1, "{reason}");
        }
        let row = table
            .lines()
            .find(|l| l.starts_with("| `CallingPlanAssigned` |"))
            .expect("a row for CallingPlanAssigned");
        assert!(row.contains("| user `Synced` | `False`, failed |"), "{row}");
        assert!(
            row.ends_with(&format!("| {} |", Reason::CallingPlanAssigned.remedy())),
            "{row}"
        );
    }

    #[test]
    fn field_paths_account_names_and_identifiers_become_code() {
        assert_eq!(
            cell("Use the account dialpad-msteams-admin@<spec.tenant.domain> in the Secret."),
            "Use the account `dialpad-msteams-admin@<spec.tenant.domain>` in the Secret."
        );
        assert_eq!(
            cell("Fix the AdminConnected condition (see spec.mode), e.g. +14155550100."),
            "Fix the `AdminConnected` condition (see `spec.mode`), e.g. `+14155550100`."
        );
        assert_eq!(cell("egress IPs, a | b"), "egress IPs, a \\| b");
    }

    #[test]
    fn the_section_between_the_markers_is_replaced() {
        let (begin, end) = (BEGIN_MARKER, END_MARKER);
        let document = format!("intro\n{begin}\nold\n{end}\nafter\n");
        let updated = replace_section(&document, begin, end, "new\n").unwrap();
        assert_eq!(updated, format!("intro\n{begin}\nnew\n{end}\nafter\n"));
        assert_eq!(section(&updated, begin, end), Some("new\n"));
        assert_eq!(replace_section("no markers", begin, end, "x"), None);
        assert_eq!(section(&format!("{end}\n{begin}"), begin, end), None);
    }
}

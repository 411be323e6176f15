//! Logging set-up: `tracing` events to stderr, as human-readable text or one JSON object a line.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::util::SubscriberInitExt;

/// The filter used when neither a filter nor `RUST_LOG` is given.
pub const DEFAULT_FILTER: &str = "info,kube=warn";

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

/// Installs the process's log subscriber, writing to stderr in `format`.
///
/// The filter is `filter` when given, else `RUST_LOG`, else [`DEFAULT_FILTER`]; one that does not
/// parse falls back to the default, with a warning. Only the first call in a process installs
/// anything; later calls do nothing.
pub fn init(format: LogFormat, filter: Option<&str>) {
    let (env_filter, rejected) = build_filter(filter);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Text => builder.finish().try_init(),
        LogFormat::Json => builder.json().with_current_span(true).finish().try_init(),
    };
    if installed.is_ok()
        && let Some((text, error)) = rejected
    {
        tracing::warn!(filter = %text, %error, default = DEFAULT_FILTER, "invalid log filter, using the default");
    }
}

/// The filter to use, and the rejected filter text with its error if one did not parse.
fn build_filter(filter: Option<&str>) -> (EnvFilter, Option<(String, String)>) {
    let text = filter
        .map(str::to_owned)
        .or_else(|| std::env::var(EnvFilter::DEFAULT_ENV).ok())
        .filter(|text| !text.trim().is_empty());
    let Some(text) = text else {
        return (EnvFilter::new(DEFAULT_FILTER), None);
    };
    match EnvFilter::try_new(&text) {
        Ok(parsed) => (parsed, None),
        Err(error) => (EnvFilter::new(DEFAULT_FILTER), Some((text, error.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_filter_is_used_as_given() {
        let (filter, rejected) = build_filter(Some("debug,hyper=info"));
        assert!(rejected.is_none());
        assert_eq!(filter.to_string(), "hyper=info,debug");
    }

    #[test]
    fn unparsable_filter_falls_back_to_the_default() {
        let (filter, rejected) = build_filter(Some("kube=loud"));
        assert!(rejected.is_some());
        assert_eq!(filter.to_string(), EnvFilter::new(DEFAULT_FILTER).to_string());
    }
}

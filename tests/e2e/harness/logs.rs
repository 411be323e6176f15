//! The log of the operator when it runs in the test process: shown as `RUST_LOG` asks, and kept
//! in full (debug) so that the secrets scan reads every line it wrote.

use std::sync::OnceLock;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::common::captured_log::{Captured, LogBuffer, keep_panics};

fn buffer() -> &'static LogBuffer {
    static LOG: OnceLock<LogBuffer> = OnceLock::new();
    LOG.get_or_init(LogBuffer::default)
}

/// Installs the subscriber once per test binary; later calls do nothing.
pub fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let kept = buffer().clone();
        let shown = tracing_subscriber::fmt::layer()
            .with_test_writer()
            .with_filter(EnvFilter::from_default_env());
        let captured = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || Captured(kept.clone()))
            .with_filter(EnvFilter::new("info,dialpad_teams_operator=debug"));
        let _ = tracing_subscriber::registry()
            .with(shown)
            .with(captured)
            .try_init();
        keep_panics(buffer().clone());
    });
}

/// Everything the in-process operator logged so far (and every panic message).
pub fn text() -> String {
    crate::common::captured_log::text(buffer())
}

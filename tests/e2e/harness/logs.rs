//! The log of the operator when it runs in the test process: shown as `RUST_LOG` asks, and kept
//! in full (debug) so that the secrets scan reads every line it wrote.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

fn buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(Arc::default)
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
        let panics = buffer().clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = writeln!(panics.lock().expect("log lock"), "panic: {info}");
            previous(info);
        }));
    });
}

/// Everything the in-process operator logged so far (and every panic message).
pub fn text() -> String {
    String::from_utf8_lossy(&buffer().lock().expect("log lock")).into_owned()
}

struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

//! A log kept in memory, for tests that scan everything the operator wrote (and every panic
//! message) for secrets.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// The bytes written so far.
pub type LogBuffer = Arc<Mutex<Vec<u8>>>;

/// A `tracing_subscriber` writer appending to a [`LogBuffer`].
pub struct Captured(pub LogBuffer);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Appends every panic message to `buffer`, then reports the panic as before.
pub fn keep_panics(buffer: LogBuffer) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = writeln!(buffer.lock().expect("log lock"), "panic: {info}");
        previous(info);
    }));
}

/// What `buffer` holds, as text.
pub fn text(buffer: &LogBuffer) -> String {
    String::from_utf8_lossy(&buffer.lock().expect("log lock")).into_owned()
}

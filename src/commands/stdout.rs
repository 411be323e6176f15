//! Standard output for the one-shot commands. `print!` panics when the reader has gone
//! (`dialpad-teams-operator demo | head`); a Unix filter ends quietly there instead, killed by
//! SIGPIPE, which Rust programs ignore. [`out!`], [`outln!`] and [`ClosingStdout`] (for writers
//! that take an `io::Write`) write the same text and, on a closed pipe, end the process with
//! status 141, the status a shell shows for a process that SIGPIPE ended (128 + 13), so a
//! pipeline with `pipefail` still sees that the output was cut.

use std::io::{self, Write};

/// The exit status after the reader of standard output has gone: 128 + SIGPIPE (13).
pub const CLOSED_PIPE_STATUS: i32 = 141;

/// Writes `text` to standard output and flushes it; see the module docs for a closed pipe. Any
/// other write error ends the process with status 1 and says why on standard error.
pub fn write(text: std::fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    if let Err(error) = out.write_fmt(text).and_then(|()| out.flush()) {
        std::process::exit(exit_status(&error));
    }
}

/// Standard output as an [`io::Write`] for writers that take one (the CSV and JSON of
/// `kubectl teamssync users`): on a closed pipe it ends the process as [`write`] does; any other
/// error is returned to the writer.
pub struct ClosingStdout(io::StdoutLock<'static>);

impl ClosingStdout {
    /// Standard output, locked for this writer.
    pub fn lock() -> Self {
        Self(io::stdout().lock())
    }
}

impl Default for ClosingStdout {
    fn default() -> Self {
        Self::lock()
    }
}

impl Write for ClosingStdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(end_on_closed_pipe)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(end_on_closed_pipe)
    }
}

/// Ends the process quietly when `error` says the reader has gone; otherwise hands it back.
fn end_on_closed_pipe(error: io::Error) -> io::Error {
    if error.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(CLOSED_PIPE_STATUS);
    }
    error
}

/// The status to end with after `error` writing standard output.
fn exit_status(error: &io::Error) -> i32 {
    if error.kind() == io::ErrorKind::BrokenPipe {
        return CLOSED_PIPE_STATUS;
    }
    eprintln!("error: cannot write to standard output: {error}");
    1
}

/// `print!` that ends the process quietly when standard output's reader has gone.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::commands::stdout::write(format_args!($($arg)*))
    };
}

/// `println!` that ends the process quietly when standard output's reader has gone.
macro_rules! outln {
    () => {
        $crate::commands::stdout::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::commands::stdout::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_ends_with_the_status_a_shell_shows_for_sigpipe() {
        let closed = io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(exit_status(&closed), 141);
    }

    #[test]
    fn any_other_write_error_ends_with_status_1() {
        let full = io::Error::other("no space left on device");
        assert_eq!(exit_status(&full), 1);
    }
}

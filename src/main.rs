use std::process::ExitCode;

use dialpad_teams_operator::cli::{self, Command};
use dialpad_teams_operator::telemetry::logging::{self, LogFormat};

fn main() -> ExitCode {
    limit_malloc_arenas();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async_main())
}

/// glibc gives threads that contend for the heap arenas of their own (up to eight per core), and
/// memory freed in one is not reused by another: at 100,000 users `run`'s second sync peaked at
/// 308 MiB with the default arenas and 264 MiB with two (`benches/run-memory.sh`). Two arenas
/// cost nothing measurable here: the work is I/O-bound.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    // SAFETY: mallopt only tunes the allocator, and runs before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

async fn async_main() -> ExitCode {
    dialpad_teams_operator::tls::ensure_crypto_provider();
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(status) => return status,
    };
    let format = match &cli.command {
        Command::Run(args) => args.log_format,
        _ => LogFormat::Text,
    };
    logging::init(format, None);
    match cli::run(cli).await {
        Ok(status) => status,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

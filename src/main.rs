use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// mimalloc: fewer cycles per request than glibc's allocator, and it hands argon2's 19 MiB blocks
/// back to the system instead of keeping one per thread that ever hashed a password. Built without
/// transparent huge pages, which would count whole 2 MiB pages of a small heap as resident.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = airlock::cli::Cli::parse();
    let terminal = std::io::stderr().is_terminal();
    let json = match cli.config.log_format.as_deref() {
        Some(format) => format == "json",
        None => !terminal,
    };
    // Lines are written by a thread of their own: a request never waits on standard error (under
    // a flood the writer drops lines rather than slow the server).
    let (writer, _flush_on_exit) = tracing_appender::non_blocking(std::io::stderr());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(writer)
        .with_ansi(terminal && !json);
    if json {
        // One object a line, the request span's fields (request id, zone) flattened beside the
        // event's.
        logs.json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        logs.init();
    }
    airlock::cli::run(cli).await
}

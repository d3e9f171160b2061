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
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    airlock::cli::run(cli).await
}

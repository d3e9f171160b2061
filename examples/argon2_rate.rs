//! The physical limit of a full login: argon2id hashes per second on one thread, at the parameters
//! Airlock uses for passwords (OWASP: m = 19 MiB, t = 2, p = 1). Used by `bench/run.sh`.

use std::time::{Duration, Instant};

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let stored = airlock::crypto::password::hash_blocking("benchmark password");
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut count = 0u64;
    while Instant::now() < deadline {
        assert!(airlock::crypto::password::verify_blocking(
            "benchmark password",
            &stored
        ));
        count += 1;
    }
    println!("{:.1}", count as f64 / started.elapsed().as_secs_f64());
}

//! Process configuration: every flag is also an `AIRLOCK_*` environment variable. The only reader of
//! process settings; everything else receives a `Config`.

use std::path::PathBuf;

use clap::Args;

use crate::events::retry::{DEFAULT_SCHEDULE, RetrySchedule};

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database URL: `sqlite://FILE` (embedded default) or `postgres://…`.
    #[arg(
        long,
        env = "AIRLOCK_DATABASE_URL",
        default_value = "sqlite://airlock.db",
        global = true
    )]
    pub database_url: String,
    /// Base URL under which path issuers are published (`{public_url}/{project}/{environment}`).
    #[arg(
        long,
        env = "AIRLOCK_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub public_url: String,
    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "AIRLOCK_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: String,
    /// Key-encryption key file (32 bytes, created with mode 0600 if missing).
    #[arg(
        long,
        env = "AIRLOCK_KEK_FILE",
        default_value = "keys/kek",
        global = true
    )]
    pub kek_file: PathBuf,
    /// Maximum database connections of this node [default: 16 on PostgreSQL, 4 on SQLite, which
    /// has one writer at a time and a page cache per connection].
    #[arg(long, env = "AIRLOCK_DB_POOL_SIZE", global = true)]
    pub db_pool_size: Option<u32>,
    /// Seconds a node may serve environments and keys from its cache: another node's change (a key
    /// rotation, new limits) is seen within this bound.
    #[arg(
        long,
        env = "AIRLOCK_CACHE_SECONDS",
        default_value_t = 10,
        global = true
    )]
    pub cache_seconds: i64,
    /// Seconds a request waits for a database connection before answering 503.
    #[arg(
        long,
        env = "AIRLOCK_DB_ACQUIRE_TIMEOUT",
        default_value_t = 5,
        global = true
    )]
    pub db_acquire_timeout: u64,
    /// Longest a single SQL statement may run on PostgreSQL, in milliseconds (0: no limit).
    #[arg(
        long,
        env = "AIRLOCK_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 5000,
        global = true
    )]
    pub db_statement_timeout_ms: u64,
    /// How long start-up keeps retrying a database that is not reachable yet, in seconds.
    #[arg(
        long,
        env = "AIRLOCK_DB_CONNECT_RETRY",
        default_value_t = 30,
        global = true
    )]
    pub db_connect_retry: u64,
    /// Addresses (IPs or CIDR ranges, comma-separated) of reverse proxies whose `X-Forwarded-For`
    /// entries are believed (the right-most ones they appended); everyone else's are ignored.
    #[arg(
        long,
        env = "AIRLOCK_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_network,
        global = true
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Take the host from the `X-Forwarded-Host` a trusted proxy sets, rather than from `Host`.
    /// Only for a proxy that overwrites that header: most pass a client's own copy through.
    #[arg(long, env = "AIRLOCK_FORWARDED_HOST", global = true, value_parser = parse_switch, default_value = "off")]
    pub forwarded_host: bool,
    /// DNS server (`IP:PORT`) asked for domain ownership records; the system resolver when unset.
    #[arg(long, env = "AIRLOCK_DNS_RESOLVER", global = true)]
    pub dns_resolver: Option<std::net::SocketAddr>,
    /// Let admins mark a custom domain verified by hand (`airlock domain verify HOST --manual`).
    #[arg(long, env = "AIRLOCK_ALLOW_MANUAL_DOMAIN_VERIFICATION", global = true)]
    pub allow_manual_domain_verification: bool,
    /// Address of a TLS listener serving the custom domains that have certificate files (SNI picks
    /// the certificate); no TLS listener when unset.
    #[arg(long, env = "AIRLOCK_TLS_LISTEN", global = true)]
    pub tls_listen: Option<String>,
    /// Seconds a rotated-in signing key is published in the JWKS before it starts signing.
    #[arg(
        long,
        env = "AIRLOCK_KEY_PUBLISH_DELAY",
        default_value_t = 600,
        global = true
    )]
    pub key_publish_delay: i64,
    /// Seconds a custom domain may stay pending (unverified) before its claim lapses.
    #[arg(long, env = "AIRLOCK_PENDING_DOMAIN_TTL", default_value_t = 7 * 24 * 3600, value_parser = clap::value_parser!(i64).range(60..=31_536_000), global = true)]
    pub pending_domain_ttl: i64,
    /// Days audit entries are kept; older ones are pruned, the pruning recorded in the chain.
    /// 0 keeps them forever.
    #[arg(long, env = "AIRLOCK_AUDIT_RETENTION_DAYS", default_value_t = 365, value_parser = clap::value_parser!(i64).range(0..=36_500), global = true)]
    pub audit_retention_days: i64,
    /// Seconds between two purges of expired rows (and of audit entries past retention).
    #[arg(long, env = "AIRLOCK_PURGE_INTERVAL", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400), global = true)]
    pub purge_interval: u64,
    /// Seconds within which a request whose first bytes came in must be answered, so headers
    /// trickled in a byte at a time cannot hold a connection (both listeners).
    #[arg(long, env = "AIRLOCK_HEADER_READ_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub header_read_timeout: u64,
    /// Seconds a connection may stay silent (no bytes either way) before it is closed.
    #[arg(long, env = "AIRLOCK_IDLE_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400), global = true)]
    pub idle_timeout: u64,
    /// Seconds a TLS client has to complete its handshake.
    #[arg(long, env = "AIRLOCK_TLS_HANDSHAKE_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub tls_handshake_timeout: u64,
    /// Open connections per listener; more wait to be accepted.
    #[arg(long, env = "AIRLOCK_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000), global = true)]
    pub max_connections: u64,
    /// Seconds a webhook receiver has to answer before the attempt counts as failed.
    #[arg(long, env = "AIRLOCK_WEBHOOK_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300), global = true)]
    pub webhook_timeout: u64,
    /// Waits between delivery attempts (`5s,30s,2m,…`); when they are used up the delivery has failed.
    #[arg(long, env = "AIRLOCK_WEBHOOK_RETRY_SCHEDULE", default_value = DEFAULT_SCHEDULE, value_parser = parse_schedule, global = true)]
    pub webhook_retry_schedule: RetrySchedule,
    /// Deliveries one node sends at once.
    #[arg(long, env = "AIRLOCK_WEBHOOK_CONCURRENCY", default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024), global = true)]
    pub webhook_concurrency: u64,
    /// Deliveries of one environment one node sends at once, so a flood in one zone leaves room
    /// for the others.
    #[arg(long, env = "AIRLOCK_WEBHOOK_ENVIRONMENT_CONCURRENCY", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1024), global = true)]
    pub webhook_environment_concurrency: u64,
    /// Milliseconds between two looks for due deliveries.
    #[arg(long, env = "AIRLOCK_WEBHOOK_POLL_MS", default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..=60_000), global = true)]
    pub webhook_poll_ms: u64,
    /// Networks (CIDR ranges, comma-separated) webhooks may reach beyond the public internet, such
    /// as an internal receiver; for every environment, live ones included.
    #[arg(long, env = "AIRLOCK_WEBHOOK_ALLOWED_NETWORKS", value_delimiter = ',', value_parser = parse_network, global = true)]
    pub webhook_allowed_networks: Vec<ipnet::IpNet>,
    /// PEM file of extra root certificates webhook receivers may present (an internal CA).
    #[arg(long, env = "AIRLOCK_WEBHOOK_CA_FILE", global = true)]
    pub webhook_ca_file: Option<PathBuf>,
    /// Days events (and their delivery log) stay inspectable; 0 keeps them forever.
    #[arg(long, env = "AIRLOCK_EVENT_RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(i64).range(0..=36_500), global = true)]
    pub event_retention_days: i64,
    /// Address of a listener serving Prometheus metrics at `/metrics` (never on the public or
    /// custom-domain listeners); no metrics when unset.
    #[arg(long, env = "AIRLOCK_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<String>,
    /// One access log line per request (target `airlock::access`), at some cost in throughput.
    #[arg(long, env = "AIRLOCK_ACCESS_LOG", global = true, value_parser = parse_switch, default_value = "off")]
    pub access_log: bool,
    /// Seconds between two flushes of this node's usage counts (a crash loses at most one).
    #[arg(long, env = "AIRLOCK_USAGE_FLUSH_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub usage_flush_seconds: u64,
    /// Log lines as `json` (one object a line) or `text` [default: text on a terminal, JSON
    /// otherwise]. Colour only on a terminal.
    #[arg(long, env = "AIRLOCK_LOG_FORMAT", value_parser = ["json", "text"], global = true)]
    pub log_format: Option<String>,
    /// Days an environment's mail (the captured inbox, the sent log) is kept; 0 keeps it forever.
    #[arg(long, env = "AIRLOCK_MAIL_RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(i64).range(0..=36_500), global = true)]
    pub mail_retention_days: i64,
    /// SMTP server of live environments' mail: `smtp://host:25`, `smtp://host:587?tls=required`
    /// (STARTTLS), `smtps://user:password@host:465`. Unset: live environments cannot turn on
    /// flows that need mail. Test environments never send mail.
    #[arg(long, env = "AIRLOCK_SMTP_URL", global = true)]
    pub smtp_url: Option<String>,
    /// The sender of account mail where an environment names none.
    #[arg(
        long,
        env = "AIRLOCK_MAIL_FROM",
        default_value = "Airlock <no-reply@localhost>",
        global = true
    )]
    pub mail_from: String,
}

fn parse_schedule(value: &str) -> Result<RetrySchedule, String> {
    value.parse()
}

/// `on`/`off` (also `true`/`false`, `1`/`0`).
fn parse_switch(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        other => Err(format!("{other} is neither on nor off")),
    }
}

/// An IP address (a network of one) or a CIDR range.
fn parse_network(value: &str) -> Result<ipnet::IpNet, String> {
    let value = value.trim();
    value
        .parse::<ipnet::IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{value} is neither an IP address nor a CIDR range"))
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("AIRLOCK_PUBLIC_URL must be an absolute http(s) URL without query or fragment")]
    PublicUrl,
}

impl Config {
    /// A configuration for tests and embedding, with the given database and public URL.
    pub fn new(
        database_url: impl Into<String>,
        public_url: impl Into<String>,
        kek_file: PathBuf,
    ) -> Self {
        Config {
            database_url: database_url.into(),
            public_url: public_url.into(),
            listen: "127.0.0.1:0".into(),
            kek_file,
            db_pool_size: Some(8),
            cache_seconds: 10,
            db_acquire_timeout: 5,
            db_statement_timeout_ms: 5000,
            db_connect_retry: 0,
            trusted_proxies: Vec::new(),
            forwarded_host: false,
            dns_resolver: None,
            allow_manual_domain_verification: false,
            tls_listen: None,
            key_publish_delay: 600,
            pending_domain_ttl: 7 * 24 * 3600,
            audit_retention_days: 365,
            purge_interval: 600,
            header_read_timeout: 10,
            idle_timeout: 30,
            tls_handshake_timeout: 10,
            max_connections: 1024,
            webhook_timeout: 10,
            webhook_retry_schedule: RetrySchedule::default(),
            webhook_concurrency: 32,
            webhook_environment_concurrency: 8,
            webhook_poll_ms: 200,
            webhook_allowed_networks: Vec::new(),
            webhook_ca_file: None,
            event_retention_days: 30,
            mail_retention_days: 30,
            log_format: None,
            usage_flush_seconds: 60,
            metrics_listen: None,
            access_log: false,
            smtp_url: None,
            mail_from: "Airlock <no-reply@localhost>".into(),
        }
    }

    pub fn validate(mut self) -> Result<Self, ConfigError> {
        let parsed = url::Url::parse(&self.public_url).map_err(|_| ConfigError::PublicUrl)?;
        let usable = matches!(parsed.scheme(), "http" | "https")
            && parsed.host().is_some()
            && parsed.query().is_none()
            && parsed.fragment().is_none()
            && parsed.username().is_empty();
        if !usable {
            return Err(ConfigError::PublicUrl);
        }
        self.public_url = self.public_url.trim_end_matches('/').to_string();
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_network;

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        assert_eq!(
            parse_network("127.0.0.1").unwrap().to_string(),
            "127.0.0.1/32"
        );
        assert_eq!(parse_network(" ::1 ").unwrap().to_string(), "::1/128");
        assert_eq!(
            parse_network("10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert!(parse_network("proxy.internal").is_err());
        assert!(parse_network("10.0.0.0/33").is_err());
    }
}

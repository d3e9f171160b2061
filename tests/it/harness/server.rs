use std::sync::Arc;

use airlock::config::Config;
use airlock::model::{EnvKind, Environment, SigningAlg};
use airlock::service::admin::NewClient;
use airlock::service::{Airlock, Caller};
use sqlx::Connection;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Server settings beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub dns_resolver: Option<std::net::SocketAddr>,
    pub allow_manual_domain_verification: bool,
    /// Also serve custom domains over TLS (address in `tls_addr`).
    pub tls: bool,
    /// The node cache bound, when a test cannot wait the default.
    pub cache_seconds: Option<i64>,
}

pub struct TestServer {
    pub base: String,
    pub tls_addr: Option<std::net::SocketAddr>,
    /// The database and KEK the server uses, for the CLI and for tampering tests.
    pub database_url: String,
    pub kek_file: std::path::PathBuf,
    pub airlock: Arc<Airlock>,
    handle: JoinHandle<()>,
    postgres: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

/// One seeded environment: its issuer, a confidential client, a public client and a user.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub environment: Environment,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub public_client_id: String,
    pub redirect_uri: String,
    pub email: String,
    pub password: String,
    pub sub: String,
}

pub const REDIRECT_URI: &str = "https://rp.example/callback";
/// Registered as the confidential client's post-logout redirect URI.
pub const POST_LOGOUT_URI: &str = "https://rp.example/signed-out";
pub const PASSWORD: &str = "correct horse battery";

fn unique_name() -> String {
    format!("airlock_t_{}", airlock::crypto::secrets::random_id())
}

impl TestServer {
    /// Starts a server on 127.0.0.1:0 with an empty database. `None` when PostgreSQL is not configured.
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, Options::default()).await
    }

    /// Like `start`, with settings for custom-domain tests.
    pub async fn start_with(backend: Backend, options: Options) -> Option<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        let (database_url, postgres) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("airlock.db").display()),
                None,
            ),
            Backend::Postgres => {
                let Ok(admin_url) = std::env::var("AIRLOCK_TEST_POSTGRES_URL") else {
                    eprintln!(
                        "SKIPPED (PostgreSQL): AIRLOCK_TEST_POSTGRES_URL is not set; this test ran on SQLite only"
                    );
                    return None;
                };
                let name = unique_name();
                let mut conn = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("connect to AIRLOCK_TEST_POSTGRES_URL");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                let mut url = url::Url::parse(&admin_url).expect("postgres url");
                url.set_path(&format!("/{name}"));
                (url.to_string(), Some((admin_url, name)))
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let kek_file = dir.path().join("keys/kek");
        let mut config = Config::new(database_url.clone(), base.clone(), kek_file.clone())
            .validate()
            .expect("config");
        config.trusted_proxies = options.trusted_proxies;
        config.dns_resolver = options.dns_resolver;
        config.allow_manual_domain_verification = options.allow_manual_domain_verification;
        if let Some(seconds) = options.cache_seconds {
            config.cache_seconds = seconds;
        }
        let airlock = Airlock::start(config).await.expect("airlock starts");
        let tls_addr = if options.tls {
            let tls_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind tls");
            let addr = tls_listener.local_addr().expect("addr");
            tokio::spawn(airlock::http::serve_tls(airlock.clone(), tls_listener));
            Some(addr)
        } else {
            None
        };
        let serving = airlock.clone();
        let handle = tokio::spawn(async move {
            airlock::http::serve(serving, listener).await.ok();
        });
        Some(TestServer {
            base,
            tls_addr,
            database_url,
            kek_file,
            airlock,
            handle,
            postgres,
            _dir: dir,
        })
    }

    /// Stops the server and drops a PostgreSQL test database.
    pub async fn finish(self) {
        self.handle.abort();
        self.airlock.db.close().await;
        if let Some((admin_url, name)) = self.postgres
            && let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await
        {
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .ok();
        }
    }

    /// An admin token bound to `environment`.
    pub async fn admin_token(&self, environment: &Environment) -> String {
        self.airlock
            .create_admin_token(Some(environment), "test", self.now())
            .await
            .expect("admin token")
            .admin_token
    }

    /// An installation-wide admin token (the operator's).
    pub async fn installation_admin_token(&self) -> String {
        self.airlock
            .create_admin_token(None, "operator", self.now())
            .await
            .expect("admin token")
            .admin_token
    }

    /// Runs the `airlock` binary against this server's database; exit success, stdout and stderr.
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
            .args(args)
            .env("AIRLOCK_DATABASE_URL", &self.database_url)
            .env("AIRLOCK_KEK_FILE", &self.kek_file)
            .env("AIRLOCK_PUBLIC_URL", &self.base)
            .output()
            .expect("run airlock");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    pub fn now(&self) -> i64 {
        airlock::clock::now()
    }

    /// Creates `project` if needed, then the environment with its clients and one user.
    pub async fn seed(&self, project: &str, name: &str, kind: EnvKind) -> Seeded {
        self.seed_with(project, name, kind, SigningAlg::RS256, false)
            .await
    }

    pub async fn seed_with(
        &self,
        project: &str,
        name: &str,
        kind: EnvKind,
        alg: SigningAlg,
        first_party: bool,
    ) -> Seeded {
        let now = self.now();
        let a = &self.airlock;
        if a.db.find_project(project).await.expect("db").is_none() {
            a.create_project(project, now).await.expect("project");
        }
        let environment = a
            .create_environment(project, name, kind, now)
            .await
            .expect("environment");
        let confidential = a
            .create_client(
                &environment,
                NewClient {
                    name: "Test App".into(),
                    redirect_uris: vec![REDIRECT_URI.into()],
                    post_logout_redirect_uris: vec![POST_LOGOUT_URI.into()],
                    public: false,
                    first_party,
                    id_token_signed_response_alg: alg,
                },
                &Caller::cli(),
                now,
            )
            .await
            .expect("client");
        let public = a
            .create_client(
                &environment,
                NewClient {
                    name: "Public App".into(),
                    redirect_uris: vec![REDIRECT_URI.into()],
                    post_logout_redirect_uris: vec![],
                    public: true,
                    first_party: true,
                    id_token_signed_response_alg: SigningAlg::RS256,
                },
                &Caller::cli(),
                now,
            )
            .await
            .expect("public client");
        let email = format!("user@{name}.{project}.example");
        let user = a
            .create_user(
                &environment,
                &email,
                PASSWORD.into(),
                Some("Test User".into()),
                &Caller::cli(),
                now,
            )
            .await
            .expect("user");
        Seeded {
            issuer: format!("{}/{project}/{name}", self.base),
            environment,
            client_id: confidential.client.client_id,
            client_secret: confidential.client_secret.expect("secret"),
            public_client_id: public.client.client_id,
            redirect_uri: REDIRECT_URI.into(),
            email,
            password: PASSWORD.into(),
            sub: user.user_id,
        }
    }
}

/// A plain HTTP client that never follows redirects.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

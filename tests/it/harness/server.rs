use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use airlock::config::Config;
use airlock::http::AppState;
use airlock::model::{EnvKind, Environment, EnvironmentId, Secret, SigningAlg};
use airlock::service::admin::clients::NewClient;
use airlock::service::admin::users::NewUser;
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
    /// `AIRLOCK_FORWARDED_HOST=on`.
    pub forwarded_host: bool,
    /// Any other setting.
    pub configure: Option<fn(&mut Config)>,
}

/// A PostgreSQL database made for one test, dropped when the test ends, however it ends.
struct TestDatabase {
    admin_url: String,
    name: String,
}

impl TestDatabase {
    async fn create(admin_url: String) -> (Self, String) {
        let name = format!("airlock_t_{}", airlock::crypto::secrets::random_id());
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
        (TestDatabase { admin_url, name }, url.to_string())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop may run while a panicking test unwinds inside the test's runtime: use a thread with
        // a runtime of its own.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    sqlx::query(&sql).execute(&mut conn).await.ok();
                    conn.close().await.ok();
                }
            });
        });
        dropped.join().ok();
    }
}

pub struct TestServer {
    pub base: String,
    pub tls_addr: Option<std::net::SocketAddr>,
    /// The database and KEK the server uses, for the CLI and for tampering tests.
    pub database_url: String,
    pub kek_file: std::path::PathBuf,
    pub airlock: Arc<Airlock>,
    pub config: Arc<Config>,
    handle: JoinHandle<()>,
    /// Environments whose audit chain a test breaks on purpose.
    broken_chains: Mutex<HashSet<EnvironmentId>>,
    // Dropped after the server's handle is aborted (fields drop in order).
    _database: Option<TestDatabase>,
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

impl TestServer {
    /// Starts a server on 127.0.0.1:0 with an empty database. `None` when PostgreSQL is not configured.
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, Options::default()).await
    }

    /// Like `start`, with settings for custom-domain tests.
    pub async fn start_with(backend: Backend, options: Options) -> Option<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        let (database_url, database) = match backend {
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
                let (database, url) = TestDatabase::create(admin_url).await;
                (url, Some(database))
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
        config.forwarded_host = options.forwarded_host;
        if let Some(configure) = options.configure {
            configure(&mut config);
        }
        if let Some(seconds) = options.cache_seconds {
            config.cache_seconds = seconds;
        }
        let config = Arc::new(config);
        let airlock = Airlock::start(config.clone())
            .await
            .expect("airlock starts");
        let state = AppState {
            airlock: airlock.clone(),
            config: config.clone(),
            demo_issuers: Vec::new().into(),
        };
        let tls_addr = if options.tls {
            let tls_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind tls");
            let addr = tls_listener.local_addr().expect("addr");
            tokio::spawn(airlock::http::serve_tls(state.clone(), tls_listener));
            Some(addr)
        } else {
            None
        };
        let handle = tokio::spawn(async move {
            airlock::http::serve(state, listener).await.ok();
        });
        Some(TestServer {
            base,
            tls_addr,
            database_url,
            kek_file,
            airlock,
            config,
            handle,
            broken_chains: Mutex::default(),
            _database: database,
            _dir: dir,
        })
    }

    /// The end of a test: every environment's audit chain must still verify (but those a test
    /// broke on purpose), then the server stops and its database goes.
    pub async fn finish(self) {
        let environments = self
            .airlock
            .environments()
            .list(None, &Caller::cli())
            .await
            .expect("environments");
        let broken = self.broken_chains.lock().expect("lock").clone();
        for environment in environments.iter().filter(|e| !broken.contains(&e.id)) {
            let report = self
                .airlock
                .audit_trail()
                .verify(environment)
                .await
                .expect("verify");
            assert!(
                report.intact,
                "audit chain of {}: {report:?}",
                environment.slug()
            );
        }
        self.handle.abort();
        self.airlock.close().await;
    }

    /// Runs `sql` on the server's database behind its back, as someone with write access to the
    /// database could.
    pub async fn write_directly(&self, sql: &[String]) {
        use sqlx::Executor;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.database_url)
            .await
            .expect("connect");
        for statement in sql {
            conn.execute(statement.as_str()).await.expect("write");
        }
        conn.close().await.ok();
    }

    /// The single integer `sql` selects from the server's database, read behind its back.
    pub async fn count_directly(&self, sql: &str) -> i64 {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.database_url)
            .await
            .expect("connect");
        let (count,): (i64,) = sqlx::query_as(sql)
            .fetch_one(&mut conn)
            .await
            .expect("count");
        conn.close().await.ok();
        count
    }

    /// The first column of every row `sql` selects, as text, read behind the server's back.
    pub async fn strings_directly(&self, sql: &str) -> Vec<String> {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.database_url)
            .await
            .expect("connect");
        let rows: Vec<(String,)> = sqlx::query_as(sql)
            .fetch_all(&mut conn)
            .await
            .expect("select");
        conn.close().await.ok();
        rows.into_iter().map(|(value,)| value).collect()
    }

    /// Leaves `environment` out of the teardown check: the test breaks its chain on purpose.
    pub fn expect_broken_chain(&self, environment: &Environment) {
        self.broken_chains
            .lock()
            .expect("lock")
            .insert(environment.id.clone());
    }

    /// An admin token bound to `environment`.
    pub async fn admin_token(&self, environment: &Environment) -> String {
        self.issue_admin_token(Some(environment), "test").await
    }

    /// An installation-wide admin token (the operator's).
    pub async fn installation_admin_token(&self) -> String {
        self.issue_admin_token(None, "operator").await
    }

    pub async fn issue_admin_token(&self, environment: Option<&Environment>, name: &str) -> String {
        self.airlock
            .admin_tokens()
            .create(environment, name, &Caller::cli(), self.now())
            .await
            .expect("admin token")
            .admin_token
            .expose()
            .to_string()
    }

    /// Runs the `airlock` binary against this server's database; exit success, stdout and stderr.
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        self.cli_with(&[], args)
    }

    /// Like `cli`, with more `AIRLOCK_*` settings in its environment.
    pub fn cli_with(&self, settings: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
            .args(args)
            .envs(settings.iter().copied())
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

    /// `PROJECT/ENV` as the operator sees it.
    pub async fn environment(&self, slug: &str) -> Environment {
        self.airlock
            .admin_access()
            .environment_by_slug(&Caller::cli(), slug, self.now())
            .await
            .expect("environment")
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
        let (now, operator) = (self.now(), Caller::cli());
        let a = &self.airlock;
        a.projects()
            .ensure(project, &operator, now)
            .await
            .expect("project");
        let environment = a
            .environments()
            .create(project, name, kind, &operator, now)
            .await
            .expect("environment");
        let client = |name: &str, public: bool, first_party: bool, alg: SigningAlg| NewClient {
            name: name.into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            post_logout_redirect_uris: if public {
                vec![]
            } else {
                vec![POST_LOGOUT_URI.into()]
            },
            public,
            first_party,
            id_token_signed_response_alg: alg,
            token_endpoint_auth_method: None,
            jwks: None,
            jwks_uri: None,
        };
        let clients = a.clients();
        let confidential = clients
            .create(
                &environment,
                client("Test App", false, first_party, alg),
                &operator,
                now,
            )
            .await
            .expect("client");
        let public = clients
            .create(
                &environment,
                client("Public App", true, true, SigningAlg::RS256),
                &operator,
                now,
            )
            .await
            .expect("public client");
        let email = format!("user@{name}.{project}.example");
        let user = a
            .users()
            .create(
                &environment,
                NewUser {
                    email: email.clone(),
                    password: Secret::new(PASSWORD),
                    name: Some("Test User".into()),
                },
                &operator,
                now,
            )
            .await
            .expect("user");
        Seeded {
            issuer: format!("{}/{project}/{name}", self.base),
            environment,
            client_id: confidential.client.client_id.into(),
            client_secret: confidential
                .client_secret
                .expect("secret")
                .expose()
                .to_string(),
            public_client_id: public.client.client_id.into(),
            redirect_uri: REDIRECT_URI.into(),
            email,
            password: PASSWORD.into(),
            sub: user.user_id.into(),
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

//! At rest: the SQLite file's mode (item 19), the keyed audit chain (item 9), purge and audit
//! retention (item 5).

use airlock::model::EnvKind;
use airlock::service::admin::audit::AuditFilter;

use crate::backend_test;
use crate::harness::flow::{self, client_post};
use crate::harness::{Backend, Browser, Options, TestServer};

/// Item 19: the SQLite database holds password hashes and the audit log: only its owner reads it,
/// and so its WAL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;

    let server = TestServer::start(Backend::Sqlite).await.expect("server");
    server.seed("acme", "sandbox", EnvKind::Test).await;
    let path = server
        .database_url
        .trim_start_matches("sqlite://")
        .to_string();
    for file in [path.clone(), format!("{path}-wal")] {
        let mode = std::fs::metadata(&file).expect("file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
    server.finish().await;
}

/// The statements that rewrite `environment`'s whole audit chain as `hash` links it, keeping the
/// first `keep` entries, with the head moved to match: what someone with write access to the
/// database can do.
async fn rewritten_chain(
    server: &TestServer,
    environment: &airlock::model::Environment,
    keep: usize,
    hash: fn(i64, &airlock::model::audit::AuditDraft, &str) -> String,
) -> Vec<String> {
    let filter = AuditFilter {
        limit: Some(10_000),
        ..Default::default()
    };
    let trail = server.airlock.audit_trail();
    let entries = trail.list(environment, filter).await.expect("audit");
    assert!(entries.len() > keep, "{} entries", entries.len());
    let env_id = environment.id.as_str();
    let mut sql = vec![format!(
        "DELETE FROM audit_log WHERE env_id = '{env_id}' AND seq > {keep}"
    )];
    let mut prev = airlock::audit::chain::GENESIS.to_string();
    for view in entries.iter().take(keep) {
        let linked = hash(view.seq, &view.entry, &prev);
        sql.push(format!(
            "UPDATE audit_log SET prev_hash = '{prev}', hash = '{linked}' \
             WHERE env_id = '{env_id}' AND seq = {}",
            view.seq
        ));
        prev = linked;
    }
    sql.push(format!(
        "UPDATE audit_heads SET seq = {keep}, hash = '{prev}' WHERE env_id = '{env_id}'"
    ));
    sql
}

/// Item 9: the audit chain is keyed (HMAC under a key derived from the KEK): a log rewritten by
/// someone who can write the database but lacks the KEK no longer verifies. Chains written before
/// keying are relinked under the key when a node starts, if they verify as written.
async fn a_rewritten_audit_log_does_not_verify(server: &TestServer) {
    use airlock::audit::chain::legacy_entry_hash;
    let sandbox = server.seed("acme", "sandbox", EnvKind::Test).await;
    let production = server.seed("acme", "production", EnvKind::Live).await;
    for zone in [&sandbox, &production] {
        flow::sign_in(zone, &Browser::new()).await;
        crate::limits::attempt(zone, &zone.email, "wrong").await;
    }
    server.expect_broken_chain(&sandbox.environment);
    let forged = rewritten_chain(server, &sandbox.environment, 2, legacy_entry_hash).await;
    server.write_directly(&forged).await;
    let trail = server.airlock.audit_trail();
    let report = trail.verify(&sandbox.environment).await.expect("verify");
    assert!(!report.intact, "{report:?}");

    // Marking the forged chain as one written before keying launders nothing: only the process
    // that adds the keying relinks such chains.
    let unkeyed = format!(
        "UPDATE audit_heads SET keyed = 0 WHERE env_id = '{}'",
        sandbox.environment.id
    );
    server.write_directly(&[unkeyed]).await;
    let restarted = airlock::service::Airlock::start(server.config.clone())
        .await
        .expect("a node starts");
    let again = restarted.audit_trail().verify(&sandbox.environment).await;
    assert!(!again.expect("verify").intact, "not laundered");
    restarted.close().await;

    // Production as a version before keying left it: linked by bare SHA-256, and the keying and
    // retention (and later) migrations not applied yet. The node that applies them relinks it.
    let mut legacy = rewritten_chain(server, &production.environment, 5, legacy_entry_hash).await;
    legacy.extend([
        "DROP INDEX admin_tokens_operator".to_string(),
        "ALTER TABLE admin_tokens DROP COLUMN operator_sub".to_string(),
        "ALTER TABLE users DROP COLUMN disabled_at".to_string(),
        "ALTER TABLE users DROP COLUMN signed_up".to_string(),
        "DROP TABLE console_sessions".to_string(),
        "DROP TABLE releases".to_string(),
        "ALTER TABLE projects DROP COLUMN max_live_mau".to_string(),
        "ALTER TABLE projects DROP COLUMN max_test_users".to_string(),
        "ALTER TABLE projects DROP COLUMN max_environments".to_string(),
        "DROP TABLE deletions".to_string(),
        "ALTER TABLE admin_tokens DROP COLUMN access".to_string(),
        "ALTER TABLE admin_tokens DROP COLUMN expires_at".to_string(),
        "ALTER TABLE admin_tokens DROP COLUMN revoked_at".to_string(),
        "DROP TABLE registration_tokens".to_string(),
        "ALTER TABLE clients DROP COLUMN registration_digest".to_string(),
        "DROP TABLE client_assertions".to_string(),
        "ALTER TABLE clients DROP COLUMN token_endpoint_auth_method".to_string(),
        "ALTER TABLE clients DROP COLUMN jwks".to_string(),
        "ALTER TABLE clients DROP COLUMN jwks_uri".to_string(),
        "ALTER TABLE clients DROP COLUMN secret_sealed".to_string(),
        "DROP TABLE client_api_grants".to_string(),
        "DROP TABLE apis".to_string(),
        "ALTER TABLE authorization_codes DROP COLUMN resource".to_string(),
        "ALTER TABLE refresh_tokens DROP COLUMN resource".to_string(),
        "DROP TABLE usage_subjects".to_string(),
        "DROP TABLE usage_counts".to_string(),
        "DROP TABLE mail_messages".to_string(),
        "DROP TABLE account_links".to_string(),
        "ALTER TABLE users DROP COLUMN fixture".to_string(),
        "ALTER TABLE environments DROP COLUMN signup".to_string(),
        "ALTER TABLE environments DROP COLUMN require_verified_email".to_string(),
        "ALTER TABLE environments DROP COLUMN password_min_length".to_string(),
        "ALTER TABLE environments DROP COLUMN mail_from".to_string(),
        "ALTER TABLE environments DROP COLUMN product_name".to_string(),
        "DROP TABLE webhook_attempts".to_string(),
        "DROP TABLE webhook_deliveries".to_string(),
        "DROP TABLE events".to_string(),
        "DROP TABLE webhook_endpoints".to_string(),
        "ALTER TABLE audit_heads DROP COLUMN base_hash".to_string(),
        "ALTER TABLE audit_heads DROP COLUMN base_seq".to_string(),
        "ALTER TABLE audit_heads DROP COLUMN keyed".to_string(),
        "DELETE FROM _sqlx_migrations WHERE version >= 7".to_string(),
    ]);
    server.write_directly(&legacy).await;
    let upgraded = airlock::service::Airlock::start(server.config.clone())
        .await
        .expect("a node starts");
    let report = upgraded
        .audit_trail()
        .verify(&production.environment)
        .await
        .expect("verify");
    assert!(report.intact && report.entries == 5, "{report:?}");
    assert_eq!(report.head_seq, Some(5));
    assert_eq!(report.head_hash.map(|hash| hash.len()), Some(64));
    upgraded.close().await;
}
backend_test!(a_rewritten_audit_log_does_not_verify);

fn audit_kept_one_day() -> Options {
    Options {
        configure: Some(|config| config.audit_retention_days = 1),
        ..Options::default()
    }
}

/// Item 5: a purge deletes what no request can use any more (expired codes, sessions, refresh
/// tokens, revoked-token records, finished grants, stale failure series) and audit entries past
/// retention; the pruning is recorded in the chain, which still verifies from its new base, and
/// entries gone from the start without such a record are found.
async fn expired_rows_and_old_audit_entries_are_purged(server: &TestServer) {
    let zone = server.seed("acme", "sandbox", EnvKind::Test).await;
    let tokens = flow::sign_in(&zone, &Browser::new()).await;
    let revoked = client_post(
        &format!("{}/revoke", zone.issuer),
        &zone.client_id,
        &zone.client_secret,
        &[("token", tokens.access_token.as_str())],
    )
    .await;
    assert_eq!(revoked.0, 200);
    crate::limits::attempt(&zone, "nobody@example.com", "wrong").await;
    let env_id = zone.environment.id.as_str();
    let tables = [
        "sessions",
        "authorization_codes",
        "refresh_tokens",
        "grants",
        "revoked_access_tokens",
        "signin_failures",
    ];
    let mut expire = Vec::new();
    for (table, column) in [
        ("sessions", "expires_at"),
        ("authorization_codes", "expires_at"),
        ("refresh_tokens", "expires_at"),
        ("revoked_access_tokens", "expires_at"),
        ("grants", "revoked_at"),
        ("signin_failures", "last_failure_at"),
    ] {
        expire.push(format!(
            "UPDATE {table} SET {column} = 1 WHERE env_id = '{env_id}'"
        ));
    }
    expire.push(format!(
        "UPDATE audit_log SET at = 1 WHERE env_id = '{env_id}' AND seq <= 4"
    ));
    server.write_directly(&expire).await;
    for table in tables {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE env_id = '{env_id}'");
        assert!(
            server.count_directly(&sql).await > 0,
            "{table} has a row to purge"
        );
    }

    let purged = server.airlock.purge(server.now()).await.expect("purge");
    assert_eq!(purged.audit_entries, 4);
    for table in tables {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE env_id = '{env_id}'");
        assert_eq!(server.count_directly(&sql).await, 0, "{table}");
    }
    let trail = server.airlock.audit_trail();
    let report = trail.verify(&zone.environment).await.expect("verify");
    assert!(report.intact, "{report:?}");
    let all = AuditFilter {
        limit: Some(10_000),
        ..Default::default()
    };
    let entries = trail
        .list(&zone.environment, all.clone())
        .await
        .expect("audit");
    assert_eq!(entries[0].seq, 5);
    let record = entries.last().expect("entries");
    assert_eq!(record.entry.event, "audit.pruned");
    assert_eq!(record.details["through_seq"], 4);

    // Entries removed from the start without a record: found.
    server.expect_broken_chain(&zone.environment);
    let (seq, hash) = (entries[0].seq, entries[0].hash.clone());
    server
        .write_directly(&[
            format!("DELETE FROM audit_log WHERE env_id = '{env_id}' AND seq = {seq}"),
            format!(
                "UPDATE audit_heads SET base_seq = {seq}, base_hash = '{hash}' WHERE env_id = '{env_id}'"
            ),
        ])
        .await;
    let report = trail.verify(&zone.environment).await.expect("verify");
    assert!(!report.intact, "{report:?}");
}
backend_test!(
    expired_rows_and_old_audit_entries_are_purged,
    super::audit_kept_one_day()
);

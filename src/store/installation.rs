//! Rows that belong to the installation rather than to one environment: projects, environments and
//! admin tokens.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::keys::StoredKey;
use super::sql::Params;
use super::{Db, EnvStore, StoreError};
use crate::model::{
    AccountPolicy, EnvKind, EnvPolicy, Environment, EnvironmentId, Project, ProjectLimits,
    RateLimits,
};

/// An admin API credential, known by its digest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdminTokenRecord {
    pub token_id: String,
    /// `None` for an installation-wide token.
    pub env_id: Option<EnvironmentId>,
    pub name: String,
    /// It may only read.
    pub read_only: bool,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub(super) fn admin_token_from_row(row: &AnyRow) -> Result<AdminTokenRecord, StoreError> {
    Ok(AdminTokenRecord {
        token_id: row.try_get("token_id")?,
        env_id: row
            .try_get::<Option<String>, _>("env_id")?
            .map(EnvironmentId::from),
        name: row.try_get("name")?,
        read_only: row.try_get::<String, _>("access")? == "read",
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub(super) const ADMIN_TOKEN_COLUMNS: &str =
    "token_id, env_id, name, access, created_at, expires_at, revoked_at";

/// Every table that holds rows of one environment, children before their parents: what deleting
/// an environment removes, in this order, before the environment itself.
const ZONE_TABLES: [&str; 28] = [
    "releases",
    "webhook_attempts",
    "webhook_deliveries",
    "events",
    "webhook_endpoints",
    "client_api_grants",
    "apis",
    "client_assertions",
    "registration_tokens",
    "refresh_tokens",
    "authorization_codes",
    "grants",
    "consents",
    "sessions",
    "account_links",
    "mail_messages",
    "revoked_access_tokens",
    "signin_failures",
    "usage_counts",
    "usage_subjects",
    "domains",
    "signing_keys",
    "clients",
    "users",
    "admin_tokens",
    "audit_log",
    "audit_heads",
    "environments",
];

/// An installation-level record of a deleted project or environment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Deletion {
    pub deletion_id: String,
    /// `project` or `environment`.
    pub what: String,
    /// `PROJECT` or `PROJECT/ENV`.
    pub name: String,
    pub kind: Option<String>,
    pub env_id: Option<String>,
    pub actor: String,
    pub deleted_at: i64,
    /// Rows removed, by table.
    pub removed: serde_json::Value,
}

const ENVIRONMENT_COLUMNS: &str = "e.id, e.project_id, p.name AS project_name, e.name, e.kind, \
     e.access_token_ttl, e.id_token_ttl, e.refresh_token_ttl, e.refresh_family_ttl, e.code_ttl, \
     e.session_ttl, e.created_at, \
     e.token_requests_per_minute, e.signin_failures_per_minute, e.lockout_threshold, e.path_issuer_enabled, \
     e.signup, e.require_verified_email, e.password_min_length, e.mail_from, e.product_name";

fn environment_from_row(row: &AnyRow) -> Result<Environment, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(Environment {
        id: super::text(row, "id")?,
        project_id: row.try_get("project_id")?,
        project: row.try_get("project_name")?,
        name: row.try_get("name")?,
        kind: EnvKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("kind {kind}")))?,
        policy: EnvPolicy {
            access_token_ttl: row.try_get("access_token_ttl")?,
            id_token_ttl: row.try_get("id_token_ttl")?,
            refresh_token_ttl: row.try_get("refresh_token_ttl")?,
            refresh_family_ttl: row.try_get("refresh_family_ttl")?,
            code_ttl: row.try_get("code_ttl")?,
            session_ttl: row.try_get("session_ttl")?,
        },
        limits: RateLimits {
            token_requests_per_minute: row.try_get("token_requests_per_minute")?,
            signin_failures_per_minute: row.try_get("signin_failures_per_minute")?,
            lockout_threshold: row.try_get("lockout_threshold")?,
        },
        accounts: AccountPolicy {
            signup: row.try_get::<i64, _>("signup")? != 0,
            require_verified_email: row.try_get::<i64, _>("require_verified_email")? != 0,
            password_min_length: row.try_get("password_min_length")?,
            mail_from: row.try_get("mail_from")?,
            product_name: row.try_get("product_name")?,
        },
        path_issuer_enabled: row.try_get::<i64, _>("path_issuer_enabled")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

/// Environments joined with their project's name; `{}` is the condition.
/// An environment's rate limits; `$1` is its id (bound by `EnvStore::query`).
pub(super) const UPDATE_LIMITS: &str = "UPDATE environments SET token_requests_per_minute = $2, \
     signin_failures_per_minute = $3, lockout_threshold = $4 WHERE id = $1";

/// An environment's token lifetimes and account policy; `$1` is its id.
pub(super) const UPDATE_POLICY: &str = "UPDATE environments SET access_token_ttl = $2, \
     id_token_ttl = $3, refresh_token_ttl = $4, refresh_family_ttl = $5, session_ttl = $6, \
     signup = $7, require_verified_email = $8, password_min_length = $9, mail_from = $10, \
     product_name = $11 WHERE id = $1";

pub(super) fn limits_values(limits: &RateLimits) -> impl Params<'_> {
    (
        limits.token_requests_per_minute,
        limits.signin_failures_per_minute,
        limits.lockout_threshold,
    )
}

pub(super) fn policy_values<'q>(
    (policy, accounts): (&'q EnvPolicy, &'q AccountPolicy),
) -> impl Params<'q> {
    (
        policy.access_token_ttl,
        policy.id_token_ttl,
        policy.refresh_token_ttl,
        policy.refresh_family_ttl,
        policy.session_ttl,
        i64::from(accounts.signup),
        i64::from(accounts.require_verified_email),
        accounts.password_min_length,
        &accounts.mail_from,
        &accounts.product_name,
    )
}

fn environments_where(condition: &str) -> String {
    format!(
        "SELECT {ENVIRONMENT_COLUMNS} FROM environments e JOIN projects p ON p.id = e.project_id \
         WHERE {condition} ORDER BY p.name, e.name"
    )
}

impl Db {
    pub async fn insert_project(&self, project: &Project) -> Result<(), StoreError> {
        let sql = "INSERT INTO projects (id, name, created_at) VALUES ($1, $2, $3)";
        let values = (&project.id, &project.name, project.created_at);
        self.query(sql, values).execute(self.pool()).await?;
        Ok(())
    }

    pub async fn find_project(&self, name: &str) -> Result<Option<Project>, StoreError> {
        let sql = "SELECT id, name, created_at FROM projects WHERE name = $1";
        let Some(row) = self.query(sql, (name,)).fetch_optional(self.pool()).await? else {
            return Ok(None);
        };
        Ok(Some(Project {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
        }))
    }

    /// Creates an environment and its first signing keys in one transaction.
    pub async fn insert_environment(
        &self,
        environment: &Environment,
        keys: &[StoredKey],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let sql = "INSERT INTO environments (id, project_id, name, kind, access_token_ttl, \
             id_token_ttl, refresh_token_ttl, code_ttl, session_ttl, created_at, \
             token_requests_per_minute, signin_failures_per_minute, lockout_threshold, \
             refresh_family_ttl) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
        let (policy, limits) = (&environment.policy, &environment.limits);
        let values = (
            environment.id.as_str(),
            &environment.project_id,
            &environment.name,
            environment.kind.as_str(),
            policy.access_token_ttl,
            policy.id_token_ttl,
            policy.refresh_token_ttl,
            policy.code_ttl,
            policy.session_ttl,
            environment.created_at,
            limits.token_requests_per_minute,
            limits.signin_failures_per_minute,
            limits.lockout_threshold,
            policy.refresh_family_ttl,
        );
        self.query(sql, values).execute(&mut *tx).await?;
        let store = EnvStore::new(self, &environment.id);
        for key in keys {
            store.insert_key(&mut tx, key).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn find_environment(
        &self,
        project: &str,
        name: &str,
    ) -> Result<Option<Environment>, StoreError> {
        let sql = environments_where("p.name = $1 AND e.name = $2");
        let row = self
            .query(&sql, (project, name))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(environment_from_row).transpose()
    }

    pub async fn find_environment_by_id(
        &self,
        id: &EnvironmentId,
    ) -> Result<Option<Environment>, StoreError> {
        let sql = environments_where("e.id = $1");
        let row = self
            .query(&sql, (id.as_str(),))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(environment_from_row).transpose()
    }

    /// Every environment of the installation, by project and name.
    pub async fn list_environments(&self) -> Result<Vec<Environment>, StoreError> {
        let sql = environments_where("1 = 1");
        let rows = self.query(&sql, ()).fetch_all(self.pool()).await?;
        rows.iter().map(environment_from_row).collect()
    }

    pub async fn update_environment_limits(
        &self,
        env_id: &EnvironmentId,
        limits: &RateLimits,
    ) -> Result<(), StoreError> {
        let query = EnvStore::new(self, env_id).query(UPDATE_LIMITS, limits_values(limits));
        query.execute(self.pool()).await?;
        Ok(())
    }

    pub async fn update_environment_policy(
        &self,
        env_id: &EnvironmentId,
        settings: (&EnvPolicy, &AccountPolicy),
    ) -> Result<(), StoreError> {
        let query = EnvStore::new(self, env_id).query(UPDATE_POLICY, policy_values(settings));
        query.execute(self.pool()).await?;
        Ok(())
    }

    pub async fn set_path_issuer(
        &self,
        env_id: &EnvironmentId,
        enabled: bool,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE environments SET path_issuer_enabled = $2 WHERE id = $1";
        let values = (env_id.as_str(), super::flag(enabled));
        self.query(sql, values).execute(self.pool()).await?;
        Ok(())
    }

    pub async fn insert_admin_token(
        &self,
        record: &AdminTokenRecord,
        digest: &str,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO admin_tokens (token_id, token_digest, env_id, name, created_at, \
             access, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let env_id = record.env_id.as_ref().map(EnvironmentId::as_str);
        let access = if record.read_only { "read" } else { "write" };
        let values = (
            &record.token_id,
            digest,
            env_id,
            &record.name,
            record.created_at,
            access,
            record.expires_at,
        );
        self.query(sql, values).execute(self.pool()).await?;
        Ok(())
    }

    /// The admin token with this digest, if it is in force at `now` (not revoked, not expired).
    pub async fn find_admin_token(
        &self,
        digest: &str,
        now: i64,
    ) -> Result<Option<AdminTokenRecord>, StoreError> {
        let sql = format!(
            "SELECT {ADMIN_TOKEN_COLUMNS} FROM admin_tokens WHERE token_digest = $1 \
             AND operator_sub IS NULL AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)"
        );
        let row = self
            .query(&sql, (digest, now))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(admin_token_from_row).transpose()
    }

    /// Every admin token, revoked and expired ones included; bound to `env_id` only, if given.
    /// Operators' authorities are not tokens anyone holds: they are listed with the operators.
    pub async fn list_admin_tokens(
        &self,
        env_id: Option<&EnvironmentId>,
    ) -> Result<Vec<AdminTokenRecord>, StoreError> {
        let sql = format!(
            "SELECT {ADMIN_TOKEN_COLUMNS} FROM admin_tokens \
             WHERE ($1 = '' OR env_id = $1) AND operator_sub IS NULL ORDER BY created_at, token_id"
        );
        let env = env_id.map_or("", EnvironmentId::as_str);
        let rows = self.query(&sql, (env,)).fetch_all(self.pool()).await?;
        rows.iter().map(admin_token_from_row).collect()
    }

    /// Revokes a token in force; the token as it was, if there was one. Every node reads tokens
    /// from the database on each request, so it fails everywhere at once.
    pub async fn revoke_admin_token(
        &self,
        token_id: &str,
        now: i64,
    ) -> Result<Option<AdminTokenRecord>, StoreError> {
        let sql = format!(
            "UPDATE admin_tokens SET revoked_at = $2 WHERE token_id = $1 AND revoked_at IS NULL \
             RETURNING {ADMIN_TOKEN_COLUMNS}"
        );
        let row = self
            .query(&sql, (token_id, now))
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(admin_token_from_row).transpose()
    }

    /// Deletes an environment with every row of it, and records the deletion, in one transaction.
    pub async fn delete_environment(
        &self,
        environment: &Environment,
        deletion: &Deletion,
    ) -> Result<Deletion, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut removed = serde_json::Map::new();
        for table in ZONE_TABLES {
            let column = if table == "environments" {
                "id"
            } else {
                "env_id"
            };
            let sql = format!("DELETE FROM {table} WHERE {column} = $1");
            let done = self
                .query(&sql, (environment.id.as_str(),))
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() > 0 {
                removed.insert(table.to_string(), done.rows_affected().into());
            }
        }
        let deletion = Deletion {
            removed: serde_json::Value::Object(removed),
            ..deletion.clone()
        };
        insert_deletion(&mut tx, self, &deletion).await?;
        tx.commit().await?;
        Ok(deletion)
    }

    /// Deletes a project that has no environment left, and records it; false when it still has
    /// environments (or does not exist).
    pub async fn delete_project(
        &self,
        project: &Project,
        deletion: &Deletion,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let sql = "DELETE FROM projects WHERE id = $1 \
             AND NOT EXISTS (SELECT 1 FROM environments WHERE project_id = $1)";
        let done = self.query(sql, (&project.id,)).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_deletion(&mut tx, self, deletion).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn project_limits(&self, project_id: &str) -> Result<ProjectLimits, StoreError> {
        let sql =
            "SELECT max_live_mau, max_test_users, max_environments FROM projects WHERE id = $1";
        let row = self
            .query(sql, (project_id,))
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else {
            return Ok(ProjectLimits::default());
        };
        Ok(ProjectLimits {
            max_live_mau: row.try_get("max_live_mau")?,
            max_test_users: row.try_get("max_test_users")?,
            max_environments: row.try_get("max_environments")?,
        })
    }

    pub async fn set_project_limits(
        &self,
        project_id: &str,
        limits: &ProjectLimits,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE projects SET max_live_mau = $2, max_test_users = $3, \
             max_environments = $4 WHERE id = $1";
        let values = (
            project_id,
            limits.max_live_mau,
            limits.max_test_users,
            limits.max_environments,
        );
        self.query(sql, values).execute(self.pool()).await?;
        Ok(())
    }

    pub async fn count_environments(&self, project_id: &str) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) AS n FROM environments WHERE project_id = $1";
        let row = self
            .query(sql, (project_id,))
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Users across the project's test environments.
    pub async fn count_test_users(&self, project_id: &str) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) AS n FROM users u JOIN environments e ON e.id = u.env_id \
             WHERE e.project_id = $1 AND e.kind = 'test'";
        let row = self
            .query(sql, (project_id,))
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Of the project's live environments since `from_day`: how many subjects were active, and
    /// whether `subject` of `env_id` is one of them (as flushed so far).
    pub async fn live_actives(
        &self,
        project_id: &str,
        from_day: i64,
        (env_id, subject): (&EnvironmentId, &str),
    ) -> Result<(i64, bool), StoreError> {
        let counted = "SELECT COUNT(*) AS n FROM (SELECT DISTINCT s.env_id, s.subject \
             FROM usage_subjects s JOIN environments e ON e.id = s.env_id \
             WHERE e.project_id = $1 AND e.kind = 'live' AND s.day >= $2) actives";
        let row = self
            .query(counted, (project_id, from_day))
            .fetch_one(self.pool())
            .await?;
        let known = "SELECT 1 AS known FROM usage_subjects \
             WHERE env_id = $1 AND subject = $2 AND day >= $3";
        let already = self
            .query(known, (env_id.as_str(), subject, from_day))
            .fetch_optional(self.pool())
            .await?
            .is_some();
        Ok((row.try_get("n")?, already))
    }

    pub async fn list_projects(&self) -> Result<Vec<Project>, StoreError> {
        let sql = "SELECT id, name, created_at FROM projects ORDER BY name";
        let rows = self.query(sql, ()).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(Project {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub async fn list_deletions(&self) -> Result<Vec<Deletion>, StoreError> {
        let sql = "SELECT deletion_id, what, name, kind, env_id, actor, deleted_at, removed \
             FROM deletions ORDER BY deleted_at, deletion_id";
        let rows = self.query(sql, ()).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                let removed: String = row.try_get("removed")?;
                Ok(Deletion {
                    deletion_id: row.try_get("deletion_id")?,
                    what: row.try_get("what")?,
                    name: row.try_get("name")?,
                    kind: row.try_get("kind")?,
                    env_id: row.try_get("env_id")?,
                    actor: row.try_get("actor")?,
                    deleted_at: row.try_get("deleted_at")?,
                    removed: serde_json::from_str(&removed)
                        .map_err(|_| StoreError::Corrupt("removed".into()))?,
                })
            })
            .collect()
    }
}

async fn insert_deletion(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    db: &Db,
    deletion: &Deletion,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO deletions (deletion_id, what, name, kind, env_id, actor, deleted_at, \
         removed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    let values = (
        &deletion.deletion_id,
        &deletion.what,
        &deletion.name,
        &deletion.kind,
        &deletion.env_id,
        &deletion.actor,
        deletion.deleted_at,
        deletion.removed.to_string(),
    );
    db.query(sql, values).execute(&mut **tx).await?;
    Ok(())
}

//! A project's plan limits, enforced with a clear refusal where they bind: creating an
//! environment, creating a user in a test zone, and signing in a user not yet active this month in
//! a live zone. Live and test zones never share an allowance.

use super::Error;
use crate::model::{EnvKind, Environment, UserId};
use crate::store::Db;

#[derive(Debug, Clone, Copy)]
pub(super) struct PlanLimits<'a> {
    pub db: &'a Db,
}

impl PlanLimits<'_> {
    /// Refuses a new environment beyond the project's allowance.
    pub async fn check_new_environment(
        &self,
        project_id: &str,
        project: &str,
    ) -> Result<(), Error> {
        let Some(most) = self.db.project_limits(project_id).await?.max_environments else {
            return Ok(());
        };
        if self.db.count_environments(project_id).await? >= most {
            return Err(Error::Forbidden(format!(
                "project {project} allows {most} environments (airlock project limits)"
            )));
        }
        Ok(())
    }

    /// Refuses a new user of a test zone beyond the project's test-user allowance.
    pub async fn check_new_user(&self, environment: &Environment) -> Result<(), Error> {
        if environment.kind != EnvKind::Test {
            return Ok(());
        }
        let limits = self.db.project_limits(&environment.project_id).await?;
        let Some(most) = limits.max_test_users else {
            return Ok(());
        };
        if self.db.count_test_users(&environment.project_id).await? >= most {
            return Err(Error::Forbidden(format!(
                "project {} allows {most} users across its test environments",
                environment.project
            )));
        }
        Ok(())
    }

    /// Whether `user` may sign in to a live zone this month: always once active this month,
    /// otherwise while the project's live monthly actives are under its allowance. Activity is
    /// counted from flushed usage, so the allowance may be passed by those who first signed in
    /// within one flush interval.
    pub async fn allows_sign_in(
        &self,
        environment: &Environment,
        user: &UserId,
        now: i64,
    ) -> Result<bool, Error> {
        if environment.kind != EnvKind::Live {
            return Ok(true);
        }
        let limits = self.db.project_limits(&environment.project_id).await?;
        let Some(most) = limits.max_live_mau else {
            return Ok(true);
        };
        let (_, first_day, _) = super::usage::month_days(None, now)?;
        let (actives, already) = self
            .db
            .live_actives(
                &environment.project_id,
                first_day,
                (&environment.id, user.as_str()),
            )
            .await?;
        Ok(already || actives < most)
    }
}

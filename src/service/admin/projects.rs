//! Projects: the names under which environments are grouped.

use crate::crypto::secrets;
use crate::model::{self, Project, ProjectLimits};
use crate::service::{Caller, Error};
use crate::store::{Db, Deletion};

pub struct ProjectAdmin<'a> {
    pub(in crate::service) db: &'a Db,
}

/// Project names that would put a path issuer (`/{project}/{environment}`) under one of the
/// public host's own routes.
const RESERVED: [&str; 3] = ["admin", "console", "quickstart"];

impl ProjectAdmin<'_> {
    pub async fn create(&self, name: &str, caller: &Caller, now: i64) -> Result<Project, Error> {
        caller.require_installation()?;
        if !model::is_valid_slug(name) {
            return Err(Error::Invalid(
                "project names use a-z, 0-9 and -, starting with a letter".into(),
            ));
        }
        if RESERVED.contains(&name) {
            return Err(Error::Invalid(format!(
                "{name} is taken by the public host's own paths (/admin, /console, /quickstart)"
            )));
        }
        let project = Project {
            id: secrets::random_id(),
            name: name.to_string(),
            created_at: now,
        };
        self.db.insert_project(&project).await?;
        Ok(project)
    }

    /// The project `name`, created if it does not exist yet.
    pub async fn ensure(&self, name: &str, caller: &Caller, now: i64) -> Result<Project, Error> {
        match self.db.find_project(name).await? {
            Some(project) => Ok(project),
            None => self.create(name, caller, now).await,
        }
    }

    pub async fn list(&self, caller: &Caller) -> Result<Vec<Project>, Error> {
        caller.require_installation()?;
        Ok(self.db.list_projects().await?)
    }

    /// Deletes a project once it has no environment left (delete those first), and records it.
    pub async fn delete(&self, name: &str, caller: &Caller, now: i64) -> Result<Deletion, Error> {
        caller.require_installation()?;
        let project = self.db.find_project(name).await?.ok_or(Error::NotFound)?;
        let deletion = Deletion {
            deletion_id: format!("del_{}", secrets::random_id()),
            what: "project".into(),
            name: project.name.clone(),
            kind: None,
            env_id: None,
            actor: caller.actor.clone().unwrap_or_else(|| "cli".into()),
            deleted_at: now,
            removed: serde_json::json!({ "projects": 1 }),
        };
        if !self.db.delete_project(&project, &deletion).await? {
            return Err(Error::Invalid(format!(
                "project {name} still has environments: delete them first"
            )));
        }
        Ok(deletion)
    }

    /// A project's plan limits.
    pub async fn limits(&self, name: &str, caller: &Caller) -> Result<ProjectLimits, Error> {
        caller.require_installation()?;
        let project = self.db.find_project(name).await?.ok_or(Error::NotFound)?;
        Ok(self.db.project_limits(&project.id).await?)
    }

    /// Sets a project's plan limits (`None` lifts one); they bind from the next request on.
    pub async fn set_limits(
        &self,
        name: &str,
        limits: ProjectLimits,
        caller: &Caller,
    ) -> Result<ProjectLimits, Error> {
        caller.require_installation()?;
        let values = [
            limits.max_live_mau,
            limits.max_test_users,
            limits.max_environments,
        ];
        if values.iter().flatten().any(|value| *value < 0) {
            return Err(Error::Invalid("a limit is a number of 0 or more".into()));
        }
        let project = self.db.find_project(name).await?.ok_or(Error::NotFound)?;
        self.db.set_project_limits(&project.id, &limits).await?;
        tracing::info!(project = %name, ?limits, "plan limits set");
        Ok(limits)
    }
}

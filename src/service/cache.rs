//! A per-node cache of environments by `project/name`, bounded in time so another node's changes are
//! seen within the configured cache bound.

use std::collections::HashMap;
use std::sync::Mutex;

use super::Error;
use crate::model::Environment;
use crate::store::Db;

const MAX_ENTRIES: usize = 20_000;

#[derive(Debug, Default)]
pub struct EnvironmentCache {
    entries: Mutex<HashMap<(String, String), (Environment, i64)>>,
}

impl EnvironmentCache {
    pub async fn get(
        &self,
        db: &Db,
        project: &str,
        name: &str,
        now: i64,
        ttl: i64,
    ) -> Result<Option<Environment>, Error> {
        let key = (project.to_string(), name.to_string());
        if let Ok(entries) = self.entries.lock()
            && let Some((environment, fetched_at)) = entries.get(&key)
            && now - fetched_at < ttl
        {
            return Ok(Some(environment.clone()));
        }
        let found = db.find_environment(project, name).await?;
        if let (Some(environment), Ok(mut entries)) = (&found, self.entries.lock()) {
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|_, (_, fetched_at)| now - *fetched_at < ttl);
            }
            entries.insert(key, (environment.clone(), now));
        }
        Ok(found)
    }

    /// Drops an entry this node just changed, so it reads the new row at once.
    pub fn forget(&self, project: &str, name: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&(project.to_string(), name.to_string()));
        }
    }
}

//! Who asks for an administrative change, from where, and how far their credential reaches.

use super::Error;
use crate::model::EnvironmentId;
use crate::model::audit::Origin;

/// How far a caller's credential reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// The operator: the CLI, or an installation-wide admin token.
    Installation,
    /// An admin token bound to one environment.
    Environment(EnvironmentId),
}

/// Who acted, as recorded in the audit log: a user, a client, an admin token, or the CLI.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Option<String>,
    pub origin: Origin,
    pub reach: Reach,
    /// The id of the admin token the caller presented, if that is how it came.
    pub admin_token: Option<String>,
    /// A read-only admin token: it may look, never change.
    pub read_only: bool,
}

impl Caller {
    /// An operator at the command line.
    pub fn cli() -> Self {
        Caller {
            actor: Some("cli".into()),
            origin: Origin::default(),
            reach: Reach::Installation,
            admin_token: None,
            read_only: false,
        }
    }

    /// Operations that name files on the server, create zones or vouch for a host are the
    /// operator's call, not an environment admin's.
    pub fn require_installation(&self) -> Result<(), Error> {
        match self.reach {
            Reach::Installation => Ok(()),
            Reach::Environment(_) => Err(Error::Forbidden(
                "this admin token is bound to one environment".into(),
            )),
        }
    }

    /// Whether this caller may see and change `environment`.
    pub fn reaches(&self, environment: &EnvironmentId) -> bool {
        match &self.reach {
            Reach::Installation => true,
            Reach::Environment(bound) => bound == environment,
        }
    }
}

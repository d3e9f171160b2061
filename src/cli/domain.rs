//! `airlock domain …`

use clap::Subcommand;
use serde::Serialize;
use serde_json::json;

use super::Context;
use super::output::{lines, print};
use crate::model::{Domain, Environment, Issuer};
use crate::service::admin::domains::{BoundDomain, TlsFiles};

#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Bind a host to an environment; prints the DNS TXT record that proves ownership.
    Add {
        /// PROJECT/ENV
        slug: String,
        host: String,
        /// PEM certificate chain, for Airlock's own TLS listener (with --tls-key).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<String>,
        /// PEM private key of that certificate.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<String>,
    },
    /// Check the TXT record and activate the domain.
    Verify {
        host: String,
        /// The environment whose claim to verify (PROJECT/ENV), when several claim the host.
        #[arg(long)]
        env: Option<String>,
        /// Mark it verified without DNS (only where the installation allows it; audited).
        #[arg(long)]
        manual: bool,
    },
    /// Domains of one environment, or of all.
    List { slug: Option<String> },
    /// Unbind a host: from one environment with --env, else from every environment that claims it.
    Remove {
        host: String,
        /// PROJECT/ENV
        #[arg(long)]
        env: Option<String>,
    },
}

/// A domain as printed: where it points, and the record that proves ownership.
#[derive(Serialize)]
struct DomainOutput<'a> {
    #[serde(flatten)]
    domain: &'a Domain,
    project: &'a str,
    environment: &'a str,
    issuer: String,
    txt_record_name: String,
    txt_record_value: String,
}

impl<'a> DomainOutput<'a> {
    fn new(domain: &'a Domain, environment: &'a Environment) -> Self {
        DomainOutput {
            issuer: Issuer::for_domain(&domain.host).as_str().to_string(),
            txt_record_name: domain.challenge_name(),
            txt_record_value: domain.challenge_value(),
            project: &environment.project,
            environment: &environment.name,
            domain,
        }
    }
}

pub async fn run(command: DomainCommand, context: &Context) -> anyhow::Result<()> {
    let domains = context.airlock.domains();
    let (operator, now, json) = (&context.operator, context.now, context.json);
    match command {
        DomainCommand::Add {
            slug,
            host,
            tls_cert,
            tls_key,
        } => {
            let environment = context.environment(&slug).await?;
            let tls = tls_cert.zip(tls_key).map(|(cert_file, key_file)| TlsFiles {
                cert_file,
                key_file,
            });
            let domain = domains.add(&environment, &host, tls, operator, now).await?;
            let shown = DomainOutput::new(&domain, &environment);
            print(json, &shown, || {
                format!(
                    "{} added to {slug} (pending)\npublish:  {} TXT \"{}\"\nthen run: airlock domain verify {}\nissuer once active: {}",
                    domain.host,
                    shown.txt_record_name,
                    shown.txt_record_value,
                    domain.host,
                    shown.issuer
                )
            });
        }
        DomainCommand::Verify { host, env, manual } => {
            let environment = match env {
                Some(slug) => context.environment(&slug).await?,
                None => domains.environment_of(&host, operator, now).await?,
            };
            let domain = domains
                .verify(&environment, &host, manual, operator, now)
                .await?;
            let shown = DomainOutput::new(&domain, &environment);
            print(json, &shown, || {
                format!("{} is active; issuer {}", domain.host, shown.issuer)
            });
        }
        DomainCommand::List { slug } => {
            let environment = match slug {
                Some(slug) => Some(context.environment(&slug).await?),
                None => None,
            };
            let bound = domains.list(environment.as_ref(), now).await?;
            let shown: Vec<DomainOutput> = bound
                .iter()
                .map(
                    |BoundDomain {
                         domain,
                         environment,
                     }| DomainOutput::new(domain, environment),
                )
                .collect();
            print(json, &shown, || {
                lines(&bound, |b| {
                    format!(
                        "{}  {}  {}",
                        b.domain.host,
                        b.environment.slug(),
                        b.domain.state.as_str()
                    )
                })
            });
        }
        DomainCommand::Remove {
            host,
            env: Some(slug),
        } => {
            let environment = context.environment(&slug).await?;
            domains.remove(&environment, &host, operator, now).await?;
            print(json, &json!({ "removed": host }), || {
                format!("{host} removed from {slug}")
            });
        }
        DomainCommand::Remove { host, env: None } => {
            let released = domains.release(&host, operator, now).await?;
            print(
                json,
                &json!({ "removed": host, "claims": released }),
                || format!("{host} released ({released} claim(s))"),
            );
        }
    }
    Ok(())
}

//! `airlock quickstart`: seed the demo project and say how to sign in.

use super::Context;
use super::output::print;
use crate::model::EnvKind;
use crate::service::quickstart::{self, DemoEnvironment};

/// Seeds and prints; returns the issuers of the demo environments.
pub async fn run(context: &Context) -> anyhow::Result<Vec<String>> {
    let report = quickstart::seed(&context.airlock, context.now).await?;
    print(context.json, &report, || text(&report));
    Ok(report.into_iter().map(|zone| zone.issuer).collect())
}

fn text(report: &[DemoEnvironment]) -> String {
    let mut text = String::from("Airlock demo project seeded.\n");
    for zone in report {
        let badge = match zone.kind {
            EnvKind::Test => "SANDBOX (test)",
            EnvKind::Live => "PRODUCTION (live)",
        };
        let secret = zone.client_secret.as_ref().map_or(
            "(shown when first created; `airlock client rotate-secret` issues a new one)",
            |secret| secret.expose(),
        );
        let password = zone
            .user_password
            .as_ref()
            .map_or("(shown when first created)", |password| password.expose());
        text.push_str(&format!(
            "\n== {} · {badge}\nissuer:        {}\nclient_id:     {}\nclient_secret: {secret}\nredirect_uri:  {}\nuser:          {}\npassword:      {password}\nsign in at:    {}\n",
            zone.environment,
            zone.issuer,
            zone.client_id,
            zone.redirect_uri,
            zone.user_email,
            zone.authorization_url,
        ));
    }
    text
}

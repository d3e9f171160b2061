//! A browser: a cookie jar, no automatic redirects, and just enough HTML reading to submit our forms.

use std::collections::HashMap;

use reqwest::StatusCode;
use url::Url;

pub struct Browser {
    pub client: reqwest::Client,
}

/// Where a browser request landed.
#[derive(Debug)]
pub enum Step {
    /// A page with a form: its action and fields.
    Form {
        status: StatusCode,
        action: String,
        fields: Vec<(String, String)>,
        html: String,
    },
    /// A page without a form (error pages).
    Page { status: StatusCode, html: String },
    /// A redirect to `Location`.
    Redirect(String),
}

impl Step {
    pub fn location(&self) -> &str {
        match self {
            Step::Redirect(location) => location,
            other => panic!("expected a redirect, got {other:?}"),
        }
    }

    /// Query parameters of a redirect.
    pub fn redirect_params(&self) -> HashMap<String, String> {
        let url = Url::parse(self.location()).expect("absolute location");
        url.query_pairs().into_owned().collect()
    }

    pub fn html(&self) -> &str {
        match self {
            Step::Form { html, .. } | Step::Page { html, .. } => html,
            Step::Redirect(_) => "",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Step::Form { status, .. } | Step::Page { status, .. } => *status,
            Step::Redirect(_) => StatusCode::SEE_OTHER,
        }
    }
}

fn unescape(value: &str) -> String {
    value
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!("{name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// The first form of a page: action and hidden/named inputs.
pub fn parse_form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let form_start = html.find("<form")?;
    let form_tag_end = html[form_start..].find('>')? + form_start;
    let action = attribute(&html[form_start..form_tag_end], "action")?;
    let mut fields = Vec::new();
    let mut rest = &html[form_tag_end..];
    while let Some(at) = rest.find("<input") {
        let end = rest[at..].find('>').map(|e| e + at).unwrap_or(rest.len());
        let tag = &rest[at..end];
        if tag.contains("type=\"hidden\"")
            && let (Some(name), Some(value)) = (attribute(tag, "name"), attribute(tag, "value"))
        {
            fields.push((name, value));
        }
        rest = &rest[end..];
    }
    Some((action, fields))
}

impl Browser {
    pub fn new() -> Self {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("browser"),
        }
    }

    async fn step(response: reqwest::Response) -> Step {
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .expect("redirect has a location")
                .to_string();
            return Step::Redirect(location);
        }
        let html = response.text().await.expect("body");
        match parse_form(&html) {
            Some((action, fields)) => Step::Form {
                status,
                action,
                fields,
                html,
            },
            None => Step::Page { status, html },
        }
    }

    pub async fn get(&self, url: &str) -> Step {
        Self::step(self.client.get(url).send().await.expect("GET")).await
    }

    pub async fn post_form(&self, url: &str, fields: &[(String, String)]) -> Step {
        Self::step(
            self.client
                .post(url)
                .form(fields)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }

    /// Submits the login form of `step` with these credentials.
    pub async fn login(&self, step: &Step, email: &str, password: &str) -> Step {
        let Step::Form {
            action,
            fields,
            html,
            ..
        } = step
        else {
            panic!("expected the login form, got {step:?}");
        };
        assert!(
            html.contains("airlock_password"),
            "not a login page: {html}"
        );
        let mut fields = fields.clone();
        fields.push(("airlock_email".into(), email.into()));
        fields.push(("airlock_password".into(), password.into()));
        self.post_form(action, &fields).await
    }

    /// Answers the consent form of `step`.
    pub async fn consent(&self, step: &Step, allow: bool) -> Step {
        let Step::Form {
            action,
            fields,
            html,
            ..
        } = step
        else {
            panic!("expected the consent form, got {step:?}");
        };
        assert!(
            html.contains("airlock_decision"),
            "not a consent page: {html}"
        );
        let mut fields = fields.clone();
        let decision = if allow { "allow" } else { "deny" };
        fields.push(("airlock_decision".into(), decision.into()));
        self.post_form(action, &fields).await
    }

    /// Signs in (and consents if asked) from an authorization URL, returning the final redirect.
    pub async fn sign_in(&self, authorization_url: &str, email: &str, password: &str) -> Step {
        let login = self.get(authorization_url).await;
        let after_login = self.login(&login, email, password).await;
        match &after_login {
            Step::Form { html, .. } if html.contains("airlock_decision") => {
                self.consent(&after_login, true).await
            }
            _ => after_login,
        }
    }
}

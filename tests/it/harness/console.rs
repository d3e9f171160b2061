//! The console as a plain HTTP client sees it: a cookie jar, a sign-in with an admin token, pages
//! and their forms' CSRF token.

use reqwest::StatusCode;

use super::TestServer;
use super::browser::parse_form;

pub struct ConsoleClient {
    http: reqwest::Client,
    base: String,
    /// The CSRF token of this session's forms.
    pub csrf: String,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub location: String,
    pub html: String,
}

/// The value of the first hidden `csrf` field of a page.
pub fn csrf_of(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let rest = &html[at..];
    Some(rest[..rest.find('"')?].to_string())
}

impl ConsoleClient {
    /// A browser with no session yet.
    pub fn new(server: &TestServer) -> Self {
        ConsoleClient {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: server.base.clone(),
            csrf: String::new(),
        }
    }

    /// Signs in with `token`; panics unless the console lets it in.
    pub async fn signed_in(server: &TestServer, token: &str) -> Self {
        let mut console = Self::new(server);
        let signed = console.sign_in(token).await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.html);
        assert_eq!(signed.location, "/console");
        let home = console.get("/console").await;
        assert_eq!(home.status, StatusCode::OK);
        console.csrf = csrf_of(&home.html).expect("the sign-out form's CSRF token");
        console
    }

    /// The sign-in form, then the token posted with its CSRF token.
    pub async fn sign_in(&self, token: &str) -> Page {
        let form = self.get("/console/signin").await;
        let csrf = csrf_of(&form.html).expect("sign-in CSRF token");
        self.post("/console/signin", &[("csrf", &csrf), ("token", token)])
            .await
    }

    pub async fn get(&self, path: &str) -> Page {
        self.get_url(&format!("{}{path}", self.base)).await
    }

    pub async fn get_url(&self, url: &str) -> Page {
        let response = self.http.get(url).send().await.expect("GET");
        Self::read(response).await
    }

    /// An operator's sign-in up to the redirect back to the console: starts it, signs in at the
    /// operators zone's login page, and returns the redirect's URL (not followed).
    pub async fn operator_callback(&self, email: &str, password: &str) -> String {
        let started = self.get("/console/signin?with=operator").await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.html);
        let login = self.get_url(&started.location).await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.html);
        let (action, mut fields) = parse_form(&login.html).expect("the login form");
        fields.push(("airlock_email".into(), email.into()));
        fields.push(("airlock_password".into(), password.into()));
        let response = self
            .http
            .post(&action)
            .form(&fields)
            .send()
            .await
            .expect("POST");
        let signed = Self::read(response).await;
        assert!(
            signed.status.is_redirection(),
            "{}: {}",
            signed.status,
            signed.html
        );
        signed.location
    }

    /// Signs in as an operator; panics unless the console lets them in.
    pub async fn operator_signed_in(server: &TestServer, email: &str, password: &str) -> Self {
        let mut console = Self::new(server);
        let callback = console.operator_callback(email, password).await;
        let landed = console.get_url(&callback).await;
        assert_eq!(landed.status, StatusCode::SEE_OTHER, "{}", landed.html);
        assert_eq!(landed.location, "/console");
        let home = console.get("/console").await;
        assert_eq!(home.status, StatusCode::OK);
        console.csrf = csrf_of(&home.html).expect("the sign-out form's CSRF token");
        console
    }

    /// Posts `fields` as they are (no CSRF token added).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .expect("POST");
        Self::read(response).await
    }

    /// Posts `fields` with this session's CSRF token.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }

    /// Posts `body` as it is, with this content type; the status.
    pub async fn send_raw(&self, path: &str, content_type: &str, body: String) -> StatusCode {
        self.http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST")
            .status()
    }

    async fn read(response: reqwest::Response) -> Page {
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_string();
        Page {
            status,
            headers: response.headers().clone(),
            location,
            html: response.text().await.expect("body"),
        }
    }
}

/// The text of the element with `id` in `html` (its first text node).
pub fn text_of(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\"");
    let at = html.find(&marker)?;
    let rest = &html[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')?;
    Some(rest[start..start + end].trim().to_string())
}

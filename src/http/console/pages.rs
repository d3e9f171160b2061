//! The console's pages: the frame every page shares (zone banner, zone switcher, navigation), the
//! page types, errors as pages, and how pages are sent (uncached, under a CSP that allows only the
//! console's own stylesheet and script).

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use time::format_description::well_known::Rfc3339;

use crate::http::error::describe;
use crate::http::headers::no_store;
use crate::model::{EnvKind, Environment};
use crate::service::Error;

pub const SIGN_IN_PATH: &str = "/console/signin";

const CONSOLE_CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
     img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Rows per page of every list.
pub const PAGE_SIZE: usize = 25;

/// What every page shows around its content.
pub struct Chrome {
    /// The session's CSRF token, for the sign-out form and the page's own forms; empty when signed
    /// out.
    pub csrf: String,
    pub zone: Option<ZoneChrome>,
    /// The signed-in token may only read: no forms that change anything are shown.
    pub read_only: bool,
    /// An operator is signed in: the page offers signing out.
    pub signed_in: bool,
    /// The token reaches the whole installation: releases, promotions and zone deletion.
    pub operator: bool,
}

/// The zone a page is in, always on screen, and the operator's other zones of that project.
pub struct ZoneChrome {
    pub project: String,
    pub environment: String,
    pub test: bool,
    /// `/console/{project}/{environment}`
    pub base: String,
    /// The section shown (`clients`, `users`…), empty for the overview; the switcher keeps it.
    pub section: &'static str,
    pub siblings: Vec<Sibling>,
}

pub struct Sibling {
    pub name: String,
    pub test: bool,
    pub href: String,
    pub current: bool,
}

impl ZoneChrome {
    pub fn new(environment: &Environment, section: &'static str, zones: &[Environment]) -> Self {
        let href = |zone: &Environment| match section {
            "" => format!("/console/{}/{}", zone.project, zone.name),
            section => format!("/console/{}/{}/{section}", zone.project, zone.name),
        };
        ZoneChrome {
            project: environment.project.clone(),
            environment: environment.name.clone(),
            test: environment.kind == EnvKind::Test,
            base: format!("/console/{}/{}", environment.project, environment.name),
            section,
            siblings: zones
                .iter()
                .filter(|zone| zone.project == environment.project)
                .map(|zone| Sibling {
                    name: zone.name.clone(),
                    test: zone.kind == EnvKind::Test,
                    href: href(zone),
                    current: zone.id == environment.id,
                })
                .collect(),
        }
    }
}

/// One page of a filtered list, with the links to its neighbours.
pub struct Paging {
    pub query: String,
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl Paging {
    /// The rows of `page` (from 1) among those of `items` that `matches` the query.
    pub fn of<T>(
        items: Vec<T>,
        query: &str,
        matches: impl Fn(&T, &str) -> bool,
        page: usize,
        href: &str,
    ) -> (Vec<T>, Paging) {
        let needle = query.trim().to_lowercase();
        let found: Vec<T> = items
            .into_iter()
            .filter(|item| needle.is_empty() || matches(item, &needle))
            .collect();
        let total = found.len();
        let pages = total.div_ceil(PAGE_SIZE).max(1);
        let page = page.clamp(1, pages);
        let link = |page: usize| {
            let mut query_string = form_urlencoded::Serializer::new(String::new());
            if !needle.is_empty() {
                query_string.append_pair("q", query.trim());
            }
            query_string.append_pair("page", &page.to_string());
            format!("{href}?{}", query_string.finish())
        };
        let rows = found
            .into_iter()
            .skip((page - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .collect();
        let paging = Paging {
            query: query.trim().to_string(),
            page,
            pages,
            total,
            previous: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        };
        (rows, paging)
    }
}

/// The status of a page shown again with the reason its form was refused, or shown plainly.
pub fn refused_if(notice: &Option<String>) -> StatusCode {
    match notice {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    }
}

/// A console page with `status`, uncached, under the console CSP.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    let mut response = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "console template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    };
    no_store(&mut response);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONSOLE_CSP),
    );
    response
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    message: String,
}

/// An error shown as a console page.
pub struct ConsoleError {
    status: StatusCode,
    message: String,
}

impl ConsoleError {
    pub fn status(status: StatusCode) -> Self {
        let message = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "The form is too large.",
            _ => "The request is malformed.",
        };
        ConsoleError {
            status,
            message: message.into(),
        }
    }

    /// A form without this session's CSRF token: expired, replayed from another session, or forged.
    pub fn forbidden_form() -> Self {
        ConsoleError {
            status: StatusCode::FORBIDDEN,
            message:
                "This form did not come from your console session. Reload the page and try again."
                    .into(),
        }
    }
}

impl From<Error> for ConsoleError {
    fn from(error: Error) -> Self {
        let (status, message) = describe(&error);
        ConsoleError { status, message }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            chrome: Chrome {
                csrf: String::new(),
                zone: None,
                read_only: true,
                signed_in: false,
                operator: false,
            },
            status: self.status.as_u16(),
            message: self.message,
        };
        render(self.status, &page)
    }
}

pub type ConsoleResult = Result<Response, ConsoleError>;

/// A time as operators read it (RFC 3339, UTC).
pub fn timestamp(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| seconds.to_string())
}

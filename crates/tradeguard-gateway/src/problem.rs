//! RFC 9457 problem documents (`application/problem+json`), the body of every error answer.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The media type of a problem document.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document. `detail` is written by the gateway from identifiers and
/// fixed text only: it never echoes a header, a body, a token or a signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:tradeguard:problem:<slug>`).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What failed in this request and what to do about it.
    pub detail: String,
    /// For authentication failures: the name of the check that refused the request.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub check: Option<String>,
    /// For lockouts and rate limits: seconds until a retry may pass.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem of kind `slug` (the last part of the type URI).
    pub fn new(slug: &str, title: &str, status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            type_uri: format!("urn:tradeguard:problem:{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            check: None,
            retry_after: None,
        }
    }

    /// Names the authentication check that failed.
    pub fn with_check(mut self, check: &str) -> Self {
        self.check = Some(check.to_owned());
        self
    }

    /// Adds a retry delay in seconds (also sent as `Retry-After`).
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// The slug of the type URI.
    pub fn slug(&self) -> &str {
        self.type_uri.rsplit(':').next().unwrap_or("")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.retry_after;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut resp = (status, body).into_response();
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(secs) = retry {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn renders_as_problem_json_with_retry_after() {
        let p = Problem::new(
            "lockout",
            "Locked out",
            StatusCode::TOO_MANY_REQUESTS,
            "wait",
        )
        .with_check("lockout")
        .with_retry_after(30);
        let resp = p.clone().into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "30");
        let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
        let back: Problem = serde_json::from_slice(&body).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.slug(), "lockout");
    }
}

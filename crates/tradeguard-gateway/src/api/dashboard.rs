//! `GET /`: the dashboard, one static page (`dashboard.html`, inline CSS and JS) that holds no
//! data. It asks for a session token, keeps it in memory only, and reads `/v1/state`,
//! `/v1/portfolio`, `/v1/balances`, `/v1/orders` and `/v1/audit/checkpoint` with it every
//! few seconds. Its Content-Security-Policy allows only its own inline script and style (by
//! SHA-256 hash) and requests to this origin; no framing, no forms posting elsewhere.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use tradeguard_crypto::digest::sha256;

/// The page.
pub const PAGE: &str = include_str!("dashboard.html");

/// `GET /`.
pub async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, csp()),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::HeaderName::from_static("cross-origin-opener-policy"),
                "same-origin",
            ),
        ],
        PAGE,
    )
        .into_response()
}

/// The Content-Security-Policy of [`PAGE`] (computed once).
pub fn csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let script = inline_hash(PAGE, "script");
        let style = inline_hash(PAGE, "style");
        format!(
            "default-src 'none'; script-src '{script}'; style-src '{style}'; \
             connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
    })
}

/// `sha256-<base64>` of the text of the first `<tag>` element of `html` (empty when none).
fn inline_hash(html: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let text = html
        .split_once(&open)
        .and_then(|(_, rest)| rest.split_once(&close))
        .map_or("", |(inside, _)| inside);
    format!("sha256-{}", standard_base64(&sha256(text.as_bytes())))
}

/// Standard padded base64 (what CSP hashes use) from the crate's base64url.
fn standard_base64(bytes: &[u8]) -> String {
    let mut s: String = tradeguard_crypto::b64::encode(bytes)
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while !s.len().is_multiple_of(4) {
        s.push('=');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_hashes_are_standard_base64_of_the_inline_blocks() {
        // RFC 4648 test vector for the alphabet and padding; SHA-256("") for the hash.
        assert_eq!(standard_base64(b"\xfb\xff"), "+/8=");
        assert_eq!(
            inline_hash("<script></script>", "script"),
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        assert!(csp().contains("script-src 'sha256-"));
        assert!(csp().contains("style-src 'sha256-"));
        assert_eq!(PAGE.matches("<script>").count(), 1, "one inline script");
        assert_eq!(PAGE.matches("<style>").count(), 1, "one inline style");
        assert!(
            !PAGE.contains(" style=\""),
            "no style attribute (the CSP blocks it)"
        );
        let handler_attribute = PAGE.match_indices(" on").any(|(i, _)| {
            let rest = &PAGE[i + 3..];
            let name = rest.bytes().take_while(u8::is_ascii_lowercase).count();
            name > 0 && rest[name..].starts_with('=')
        });
        assert!(!handler_attribute, "no inline event handler attribute");
    }
}

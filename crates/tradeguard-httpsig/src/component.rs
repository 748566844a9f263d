//! Covered components (RFC 9421 §2): the derived components this profile supports and header
//! fields, and how each takes its value from a request.

use std::fmt;
use std::str::FromStr;

use http::HeaderMap;

use crate::HttpSigError;

/// Longest header field name accepted as a component (longer names are refused, not truncated).
const MAX_FIELD_NAME: usize = 128;

/// One covered component. Header fields are identified by their lowercase name (RFC 9421 §2.1);
/// component parameters (`sf`, `key`, `bs`, `req`, `tr`, `name`) are not part of this profile
/// and are refused when parsing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Component {
    /// `@method` (§2.2.1): the request method, as sent.
    Method,
    /// `@target-uri` (§2.2.2): `scheme://authority/path?query`; needs [`RequestParts::scheme`].
    TargetUri,
    /// `@authority` (§2.2.3): host and port, lowercased, default port omitted.
    Authority,
    /// `@scheme` (§2.2.4): `http` or `https`; needs [`RequestParts::scheme`].
    Scheme,
    /// `@path` (§2.2.6): the absolute path, `/` when empty.
    Path,
    /// `@query` (§2.2.7): `?` followed by the query, or `?` alone.
    Query,
    /// A header field (§2.1), by lowercase name.
    Field(String),
}

impl Component {
    /// A header-field component. The name must be a lowercase HTTP token (RFC 9110 §5.1).
    pub fn field(name: &str) -> Result<Self, HttpSigError> {
        let ok =
            !name.is_empty() && name.len() <= MAX_FIELD_NAME && name.bytes().all(is_lower_tchar);
        if ok {
            Ok(Self::Field(name.to_owned()))
        } else {
            Err(HttpSigError::UnsupportedComponent {
                component: bounded(name),
            })
        }
    }

    /// The component name as it appears, quoted, in `Signature-Input` (`@method`, `date`).
    pub fn name(&self) -> &str {
        match self {
            Self::Method => "@method",
            Self::TargetUri => "@target-uri",
            Self::Authority => "@authority",
            Self::Scheme => "@scheme",
            Self::Path => "@path",
            Self::Query => "@query",
            Self::Field(name) => name,
        }
    }

    /// The component's value in `req`, canonicalized as RFC 9421 §2 requires.
    pub(crate) fn value(&self, req: &RequestParts<'_>) -> Result<String, HttpSigError> {
        let value = match self {
            Self::Method => req.method.to_owned(),
            Self::TargetUri => {
                let scheme = req.scheme_lower().ok_or_else(|| self.not_in_message())?;
                let query = req.query.map(|q| format!("?{q}")).unwrap_or_default();
                format!(
                    "{scheme}://{}{}{query}",
                    req.authority_value(),
                    req.path_value()
                )
            }
            Self::Authority => req.authority_value(),
            Self::Scheme => req.scheme_lower().ok_or_else(|| self.not_in_message())?,
            Self::Path => req.path_value().to_owned(),
            Self::Query => format!("?{}", req.query.unwrap_or("")),
            Self::Field(name) => {
                field_value(req.headers, name).ok_or_else(|| self.not_in_message())??
            }
        };
        if value
            .bytes()
            .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
        {
            Ok(value)
        } else {
            Err(HttpSigError::InvalidComponentValue {
                component: self.name().to_owned(),
            })
        }
    }

    fn not_in_message(&self) -> HttpSigError {
        HttpSigError::ComponentNotInMessage {
            component: self.name().to_owned(),
        }
    }
}

impl FromStr for Component {
    type Err = HttpSigError;

    /// Parses a bare component name (`@path`, `content-type`), without quotes or parameters.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "@method" => Self::Method,
            "@target-uri" => Self::TargetUri,
            "@authority" => Self::Authority,
            "@scheme" => Self::Scheme,
            "@path" => Self::Path,
            "@query" => Self::Query,
            name => Self::field(name)?,
        })
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The parts of a request that signatures cover, borrowed from wherever the request lives (an
/// `http::Request`, a `reqwest::Request`, a test).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RequestParts<'a> {
    /// The method as sent (`GET`, `POST`).
    pub method: &'a str,
    /// `http` or `https`, when known; only `@scheme` and `@target-uri` need it.
    pub scheme: Option<&'a str>,
    /// Host and optional port, as in the `Host` header or the URI's authority.
    pub authority: &'a str,
    /// The percent-encoded absolute path (empty means `/`).
    pub path: &'a str,
    /// The query without its `?`, if any.
    pub query: Option<&'a str>,
    /// All request headers.
    pub headers: &'a HeaderMap,
}

impl<'a> RequestParts<'a> {
    /// Parts of a request whose scheme is not needed (no `@scheme` or `@target-uri`).
    pub fn new(
        method: &'a str,
        authority: &'a str,
        path: &'a str,
        query: Option<&'a str>,
        headers: &'a HeaderMap,
    ) -> Self {
        Self {
            method,
            scheme: None,
            authority,
            path,
            query,
            headers,
        }
    }

    /// The same parts with a scheme (`http` / `https`).
    pub fn with_scheme(mut self, scheme: &'a str) -> Self {
        self.scheme = Some(scheme);
        self
    }

    /// Parts of a server-side `http` request: authority from the URI (HTTP/2) or else from the
    /// `Host` header (HTTP/1.1); scheme from the URI when it has one.
    pub fn from_http(parts: &'a http::request::Parts) -> Result<Self, HttpSigError> {
        let uri = &parts.uri;
        let authority = match uri.authority() {
            Some(a) => a.as_str(),
            None => host_header(&parts.headers)?,
        };
        Ok(Self {
            method: parts.method.as_str(),
            scheme: uri.scheme_str(),
            authority,
            path: uri.path(),
            query: uri.query(),
            headers: &parts.headers,
        })
    }

    fn scheme_lower(&self) -> Option<String> {
        self.scheme.map(str::to_ascii_lowercase)
    }

    /// `@authority`: lowercased, the scheme's default port dropped (RFC 9421 §2.2.3).
    fn authority_value(&self) -> String {
        let lower = self.authority.to_ascii_lowercase();
        let default = match self.scheme_lower().as_deref() {
            Some("https") => ":443",
            Some("http") => ":80",
            _ => return lower,
        };
        match lower.strip_suffix(default) {
            Some(host) if !host.is_empty() && !host.ends_with(':') => host.to_owned(),
            _ => lower,
        }
    }

    fn path_value(&self) -> &str {
        if self.path.is_empty() { "/" } else { self.path }
    }
}

fn host_header(headers: &HeaderMap) -> Result<&str, HttpSigError> {
    let mut hosts = headers.get_all(http::header::HOST).iter();
    let (Some(host), None) = (hosts.next(), hosts.next()) else {
        return Err(HttpSigError::MissingHeader { header: "host" });
    };
    host.to_str().map_err(|_| HttpSigError::MalformedHeader {
        header: "host",
        reason: "not visible ASCII".into(),
    })
}

/// RFC 9421 §2.1: every field line's value with surrounding whitespace removed, joined by
/// `, `. `None` when the field is absent.
fn field_value(headers: &HeaderMap, name: &str) -> Option<Result<String, HttpSigError>> {
    let mut lines = headers.get_all(name).iter().peekable();
    lines.peek()?;
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(line.as_bytes().trim_ascii());
    }
    Some(
        String::from_utf8(out).map_err(|_| HttpSigError::InvalidComponentValue {
            component: name.to_owned(),
        }),
    )
}

/// RFC 9110 `tchar`, uppercase letters excluded.
fn is_lower_tchar(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Shortens attacker-chosen text before it goes into an error message.
pub(crate) fn bounded(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

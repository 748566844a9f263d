//! RFC 9530 `Content-Digest`: a dictionary of algorithm → byte sequence over the message
//! content (the body bytes as sent).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sfv::{BareItem, ListEntry};
use tradeguard_crypto::ct::ct_eq;
use tradeguard_crypto::digest::{sha256, sha512};

use crate::{HttpSigError, sf};

/// `Content-Digest` value for `body`: `sha-256=:<base64>:`.
///
/// ```
/// assert_eq!(
///     tradeguard_httpsig::content_digest(b"{\"hello\": \"world\"}\n"),
///     "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:", // RFC 9530 Appendix B.1
/// );
/// ```
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(sha256(body)))
}

/// Checks a `Content-Digest` value against `body`.
///
/// Every `sha-256` and `sha-512` member must match; members with other algorithm names are
/// ignored (RFC 9530 §2 lets a recipient ignore digests it does not support), but a header
/// with neither `sha-256` nor `sha-512` is refused with [`HttpSigError::UnsupportedDigest`].
/// Members with parameters or values that are not byte sequences make the header malformed.
pub fn verify_content_digest(header_value: &str, body: &[u8]) -> Result<(), HttpSigError> {
    let dict = sf::parse_dictionary("content-digest", header_value)?;
    let mut checked = false;
    for (alg, entry) in &dict {
        let ListEntry::Item(item) = entry else {
            return Err(malformed("a member is an inner list"));
        };
        let BareItem::ByteSequence(value) = &item.bare_item else {
            return Err(malformed("a member is not a byte sequence"));
        };
        let (name, ok) = match alg.as_str() {
            "sha-256" => ("sha-256", ct_eq(value, &sha256(body))),
            "sha-512" => ("sha-512", ct_eq(value, &sha512(body))),
            _ => continue,
        };
        if !item.params.is_empty() {
            return Err(malformed("a digest member has parameters"));
        }
        if !ok {
            return Err(HttpSigError::DigestMismatch { alg: name });
        }
        checked = true;
    }
    if checked {
        Ok(())
    } else {
        Err(HttpSigError::UnsupportedDigest)
    }
}

fn malformed(reason: &str) -> HttpSigError {
    HttpSigError::MalformedHeader {
        header: "content-digest",
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let body = b"{\"hello\": \"world\"}";
        let good = content_digest(body);
        let cases: [(String, Result<(), &str>); 7] = [
            (good.clone(), Ok(())),
            (format!("md5=:AAAA:, {good}"), Ok(())),
            ("sha-256=:AAAA:".into(), Err("does not match")),
            ("md5=:AAAA:".into(), Err("no sha-256")),
            ("sha-256=\"x\"".into(), Err("not a byte sequence")),
            (format!("{good};p=1"), Err("parameters")),
            ("sha-256=:AAAA:, sha-256=:AAAA:".into(), Err("twice")),
        ];
        for (i, (header, want)) in cases.iter().enumerate() {
            match (want, verify_content_digest(header, body)) {
                (Ok(()), Ok(())) => {}
                (Err(s), Err(e)) => assert!(e.to_string().contains(s), "TC{i} failed: {e}"),
                (w, g) => panic!("TC{i} failed: want {w:?}, got {g:?}"),
            }
        }
    }
}

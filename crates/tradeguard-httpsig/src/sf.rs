//! Strict, bounded parsing of the structured-field dictionaries this crate reads
//! (`Signature-Input`, `Signature`, `Content-Digest`), on the `sfv` crate in RFC 8941 mode.
//!
//! On top of RFC 8941: the header's length is capped before parsing, a dictionary with a key
//! listed twice is refused (RFC 8941 keeps the last; a verifier that silently picks one of two
//! signatures invites confusion), and the member count is capped.

use std::convert::Infallible;
use std::fmt;

use sfv::visitor::{DictionaryVisitor, EntryVisitor};
use sfv::{Dictionary, KeyRef, Parser, Version};

use crate::HttpSigError;

/// Longest `Signature-Input`, `Signature` or `Content-Digest` value parsed, in bytes.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;
/// Most members (signatures, digests) accepted in one dictionary.
pub const MAX_MEMBERS: usize = 8;

/// Parses `value` of header `header` as an RFC 8941 dictionary, within the limits above.
pub(crate) fn parse_dictionary(
    header: &'static str,
    value: &str,
) -> Result<Dictionary, HttpSigError> {
    if value.len() > MAX_HEADER_BYTES {
        return Err(HttpSigError::HeaderTooLarge {
            header,
            limit: MAX_HEADER_BYTES,
        });
    }
    let dict = Parser::new(value)
        .with_version(Version::Rfc8941)
        .parse_dictionary_with_visitor(UniqueKeys::default())
        .map_err(|e| HttpSigError::MalformedHeader {
            header,
            reason: format!("not an RFC 8941 dictionary ({e})"),
        })?;
    if dict.len() > MAX_MEMBERS {
        return Err(HttpSigError::TooMany {
            what: "dictionary members",
            limit: MAX_MEMBERS,
        });
    }
    Ok(dict)
}

/// Builds a [`Dictionary`] like `sfv`'s own visitor, but fails on a repeated key.
#[derive(Default)]
struct UniqueKeys {
    dict: Dictionary,
    seen: Vec<String>,
}

#[derive(Debug)]
struct DuplicateKey;

impl fmt::Display for DuplicateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key is listed twice")
    }
}

impl std::error::Error for DuplicateKey {}

impl From<Infallible> for DuplicateKey {
    fn from(never: Infallible) -> Self {
        match never {}
    }
}

impl<'de> DictionaryVisitor<'de> for UniqueKeys {
    type Out = Dictionary;
    type Error = DuplicateKey;

    fn entry(&mut self, key: &'de KeyRef) -> Result<impl EntryVisitor<'de>, Self::Error> {
        if self.seen.iter().any(|k| k == key.as_str()) {
            return Err(DuplicateKey);
        }
        self.seen.push(key.as_str().to_owned());
        Ok(DictionaryVisitor::entry(&mut self.dict, key)?)
    }

    fn finish(self) -> Result<Self::Out, Self::Error> {
        Ok(self.dict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: [(&str, Result<usize, &str>); 7] = [
            ("a=1, b=2", Ok(2)),
            ("sig=(\"@method\");created=1", Ok(1)),
            ("a=1, a=2", Err("twice")),
            ("a=1,", Err("dictionary")),
            ("A=1", Err("dictionary")),
            ("a=@1", Err("dictionary")),
            ("a=%\"x\"", Err("dictionary")),
        ];
        for (i, (input, want)) in cases.iter().enumerate() {
            let got = parse_dictionary("signature", input);
            match (want, got) {
                (Ok(n), Ok(d)) => assert_eq!(d.len(), *n, "TC{i} failed"),
                (Err(s), Err(e)) => assert!(e.to_string().contains(s), "TC{i} failed: {e}"),
                (w, g) => panic!("TC{i} failed: want {w:?}, got {g:?}"),
            }
        }
    }

    #[test]
    fn limits() {
        let long = format!("a=\"{}\"", "x".repeat(MAX_HEADER_BYTES));
        assert!(matches!(
            parse_dictionary("signature", &long),
            Err(HttpSigError::HeaderTooLarge { .. })
        ));
        let many = (0..=MAX_MEMBERS)
            .map(|i| format!("k{i}=1"))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(matches!(
            parse_dictionary("signature", &many),
            Err(HttpSigError::TooMany { .. })
        ));
    }
}

//! The signature base (RFC 9421 §2.5) and the serialization of signature parameters (§2.3).

use sfv::{Integer, KeyRef, ListEntry, ListSerializer, StringRef};

use crate::params::{check_string, check_time};
use crate::{Component, HttpSigError, RequestParts, SignatureParams};

const K_CREATED: &KeyRef = sfv::key_ref("created");
const K_EXPIRES: &KeyRef = sfv::key_ref("expires");
const K_NONCE: &KeyRef = sfv::key_ref("nonce");
const K_ALG: &KeyRef = sfv::key_ref("alg");
const K_KEYID: &KeyRef = sfv::key_ref("keyid");
const K_TAG: &KeyRef = sfv::key_ref("tag");

/// The signature base: one `"name": value` line per covered component, in order, then the
/// `"@signature-params"` line, joined by LF with no trailing LF.
pub(crate) fn build(
    parts: &RequestParts<'_>,
    components: &[Component],
    params_line: &str,
) -> Result<Vec<u8>, HttpSigError> {
    let mut base = String::with_capacity(256);
    for c in components {
        base.push('"');
        base.push_str(c.name());
        base.push_str("\": ");
        base.push_str(&c.value(parts)?);
        base.push('\n');
    }
    base.push_str("\"@signature-params\": ");
    base.push_str(params_line);
    Ok(base.into_bytes())
}

/// The `@signature-params` value (an RFC 8941 Inner List with parameters) for signing.
pub(crate) fn params_line(p: &SignatureParams) -> Result<String, HttpSigError> {
    check_components(&p.components)?;
    let mut ser = ListSerializer::new();
    {
        let mut inner = ser.inner_list();
        for c in &p.components {
            inner.bare_item(sf_string("component", c.name())?);
        }
        let mut params = inner.finish();
        if let Some(t) = p.created {
            params = params.parameter(K_CREATED, integer("created", t)?);
        }
        if let Some(t) = p.expires {
            params = params.parameter(K_EXPIRES, integer("expires", t)?);
        }
        if let Some(n) = &p.nonce {
            params = params.parameter(K_NONCE, sf_string("nonce", n)?);
        }
        if let Some(a) = p.alg {
            params = params.parameter(K_ALG, sf_string("alg", a.as_str())?);
        }
        if let Some(k) = &p.keyid {
            params = params.parameter(K_KEYID, sf_string("keyid", k)?);
        }
        if let Some(t) = &p.tag {
            params.parameter(K_TAG, sf_string("tag", t)?);
        }
    }
    Ok(ser.finish().unwrap_or_default())
}

/// Serializes a parsed Inner List back to its canonical form (RFC 9421 §3.2 step 4: the
/// verifier rebuilds `@signature-params` from the parsed value, not from the raw bytes).
pub(crate) fn reserialize(list: &sfv::InnerList) -> String {
    let mut ser = ListSerializer::new();
    ser.members([&ListEntry::InnerList(list.clone())]);
    ser.finish().unwrap_or_default()
}

/// Refuses an empty-named, duplicated or over-long component list.
pub(crate) fn check_components(components: &[Component]) -> Result<(), HttpSigError> {
    if components.len() > crate::params::MAX_COMPONENTS {
        return Err(HttpSigError::TooMany {
            what: "covered components",
            limit: crate::params::MAX_COMPONENTS,
        });
    }
    for (i, c) in components.iter().enumerate() {
        if components[..i].contains(c) {
            return Err(HttpSigError::DuplicateComponent {
                component: c.name().to_owned(),
            });
        }
    }
    Ok(())
}

fn sf_string<'a>(param: &'static str, value: &'a str) -> Result<&'a StringRef, HttpSigError> {
    check_string(param, value)?;
    StringRef::from_str(value).map_err(|_| HttpSigError::InvalidParameter {
        param,
        reason: "not an RFC 8941 String",
    })
}

fn integer(param: &'static str, value: u64) -> Result<Integer, HttpSigError> {
    check_time(param, value)?;
    Integer::try_from(value).map_err(|_| HttpSigError::InvalidParameter {
        param,
        reason: "larger than an RFC 8941 Integer",
    })
}

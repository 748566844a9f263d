//! Parsing and verifying (RFC 9421 §3.2): the gateway side.
//!
//! [`parse`] does everything that needs no key: it picks the signature, checks the parameters
//! and components against this profile, and rebuilds the signature base from the request.
//! The caller then checks freshness, replay and required coverage, looks the key up by
//! [`ParsedSignature::keyid`], and calls [`ParsedSignature::verify`].

use sfv::{BareItem, Dictionary, InnerList, ListEntry};
use tradeguard_crypto::secret::SecretBytes;
use tradeguard_crypto::sign::Ed25519VerifyingKey;

use crate::component::bounded;
use crate::params::{MAX_COMPONENTS, check_string};
use crate::{Algorithm, Component, HttpSigError, Param, RequestParts, VerifyingKey, base, sf};

/// One signature taken from a request, with its signature base rebuilt, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSignature {
    label: String,
    components: Vec<Component>,
    created: Option<u64>,
    expires: Option<u64>,
    nonce: Option<String>,
    alg: Option<Algorithm>,
    keyid: Option<String>,
    tag: Option<String>,
    base: Vec<u8>,
    signature: Vec<u8>,
}

/// Parses the signature labelled `label` (or the only one, when `label` is `None`) from the
/// `Signature-Input` and `Signature` header values, and rebuilds its signature base from
/// `parts`.
pub fn parse(
    parts: &RequestParts<'_>,
    signature_input: &str,
    signature: &str,
    label: Option<&str>,
) -> Result<ParsedSignature, HttpSigError> {
    let inputs = sf::parse_dictionary("signature-input", signature_input)?;
    let sigs = sf::parse_dictionary("signature", signature)?;
    let label = pick_label(&inputs, label)?;
    let list = match inputs.get(label.as_str()) {
        Some(ListEntry::InnerList(list)) => list,
        _ => {
            return Err(malformed(
                "signature-input",
                "the member is not an inner list",
            ));
        }
    };
    let signature = signature_bytes(&sigs, &label)?;
    let components = components(list)?;
    let mut parsed = ParsedSignature {
        label,
        components,
        created: None,
        expires: None,
        nonce: None,
        alg: None,
        keyid: None,
        tag: None,
        base: Vec::new(),
        signature,
    };
    parsed.read_params(list)?;
    parsed.base = base::build(parts, &parsed.components, &base::reserialize(list))?;
    Ok(parsed)
}

/// [`parse`] with the header values read from `parts.headers` (several field lines of one
/// header are joined with `, `, as RFC 9110 §5.3 allows).
pub fn parse_request(
    parts: &RequestParts<'_>,
    label: Option<&str>,
) -> Result<ParsedSignature, HttpSigError> {
    let input = header(parts.headers, "signature-input")?;
    let sig = header(parts.headers, "signature")?;
    parse(parts, &input, &sig, label)
}

impl ParsedSignature {
    /// The label the signature had in the dictionaries.
    pub fn label(&self) -> &str {
        &self.label
    }
    /// The covered components, in signed order.
    pub fn components(&self) -> &[Component] {
        &self.components
    }
    /// `created`, Unix seconds.
    pub fn created(&self) -> Option<u64> {
        self.created
    }
    /// `expires`, Unix seconds.
    pub fn expires(&self) -> Option<u64> {
        self.expires
    }
    /// `nonce`.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }
    /// `alg`, when the signer declared it.
    pub fn alg(&self) -> Option<Algorithm> {
        self.alg
    }
    /// `keyid`: look the key up by it.
    pub fn keyid(&self) -> Option<&str> {
        self.keyid.as_deref()
    }
    /// `tag`.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
    /// The signature base rebuilt from the request: the bytes the signature must cover.
    pub fn signature_base(&self) -> &[u8] {
        &self.base
    }
    /// The signature (or MAC) bytes from `Signature`.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Fails with [`HttpSigError::ComponentNotCovered`] naming the first of `required` the
    /// signature does not cover (`"@method"`, `"content-digest"`, ...).
    pub fn require_components(&self, required: &[&str]) -> Result<(), HttpSigError> {
        for name in required {
            let c: Component = name.parse()?;
            if !self.components.contains(&c) {
                return Err(HttpSigError::ComponentNotCovered {
                    component: c.name().to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Fails with [`HttpSigError::MissingParameter`] naming the first of `required` absent.
    pub fn require_params(&self, required: &[Param]) -> Result<(), HttpSigError> {
        for p in required {
            let present = match p {
                Param::Created => self.created.is_some(),
                Param::Expires => self.expires.is_some(),
                Param::Nonce => self.nonce.is_some(),
                Param::Alg => self.alg.is_some(),
                Param::KeyId => self.keyid.is_some(),
                Param::Tag => self.tag.is_some(),
            };
            if !present {
                return Err(HttpSigError::MissingParameter { param: p.as_str() });
            }
        }
        Ok(())
    }

    /// Checks `created` (required) lies within `window` seconds of `now` on either side, and
    /// that `expires`, if present, has not passed. `now` is Unix seconds from the caller's clock.
    pub fn check_freshness(&self, now: u64, window: u64) -> Result<(), HttpSigError> {
        let created = self
            .created
            .ok_or(HttpSigError::MissingParameter { param: "created" })?;
        if created > now && created - now > window {
            return Err(HttpSigError::CreatedInFuture {
                ahead: created - now,
                window,
            });
        }
        if now > created && now - created > window {
            return Err(HttpSigError::Stale {
                age: now - created,
                window,
            });
        }
        match self.expires {
            Some(exp) if now > exp => Err(HttpSigError::Expired { ago: now - exp }),
            _ => Ok(()),
        }
    }

    /// Verifies the signature with `key`. A declared `alg` must be the key's algorithm.
    pub fn verify(&self, key: VerifyingKey<'_>) -> Result<(), HttpSigError> {
        let alg = key.algorithm();
        if let Some(declared) = self.alg
            && declared != alg
        {
            return Err(HttpSigError::AlgorithmMismatch { declared, key: alg });
        }
        if self.signature.len() != alg.signature_len() {
            return Err(HttpSigError::SignatureLength {
                alg,
                expected: alg.signature_len(),
                found: self.signature.len(),
            });
        }
        let ok = match key {
            VerifyingKey::Ed25519(k) => k.verify(&self.base, &self.signature).is_ok(),
            // Why expose: the MAC is recomputed under the shared key; the comparison inside
            // aws-lc's `hmac::verify` is constant-time.
            VerifyingKey::HmacSha256(k) => tradeguard_crypto::mac::verify_hmac_sha256(
                k.expose_secret(),
                &self.base,
                &self.signature,
            ),
        };
        if ok {
            Ok(())
        } else {
            Err(HttpSigError::BadSignature { alg })
        }
    }

    /// [`verify`](Self::verify) with an Ed25519 public key.
    pub fn verify_ed25519(&self, key: &Ed25519VerifyingKey) -> Result<(), HttpSigError> {
        self.verify(VerifyingKey::Ed25519(key))
    }

    /// [`verify`](Self::verify) with a shared HMAC-SHA256 key.
    pub fn verify_hmac(&self, key: &SecretBytes) -> Result<(), HttpSigError> {
        self.verify(VerifyingKey::HmacSha256(key))
    }

    fn read_params(&mut self, list: &InnerList) -> Result<(), HttpSigError> {
        for (name, value) in &list.params {
            match name.as_str() {
                "created" => self.created = Some(time_param("created", value)?),
                "expires" => self.expires = Some(time_param("expires", value)?),
                "nonce" => self.nonce = Some(string_param("nonce", value)?),
                "keyid" => self.keyid = Some(string_param("keyid", value)?),
                "tag" => self.tag = Some(string_param("tag", value)?),
                "alg" => self.alg = Some(string_param("alg", value)?.parse()?),
                other => {
                    return Err(HttpSigError::UnknownParameter {
                        param: bounded(other),
                    });
                }
            }
        }
        Ok(())
    }
}

fn pick_label(inputs: &Dictionary, label: Option<&str>) -> Result<String, HttpSigError> {
    match label {
        Some(l) if inputs.contains_key(l) => Ok(l.to_owned()),
        Some(l) => Err(HttpSigError::SignatureNotFound {
            label: bounded(l),
            header: "signature-input",
        }),
        None => match inputs.len() {
            0 => Err(malformed("signature-input", "it has no members")),
            1 => Ok(inputs
                .keys()
                .next()
                .map(|k| k.as_str().to_owned())
                .unwrap_or_default()),
            count => Err(HttpSigError::AmbiguousSignature { count }),
        },
    }
}

fn signature_bytes(sigs: &Dictionary, label: &str) -> Result<Vec<u8>, HttpSigError> {
    match sigs.get(label) {
        Some(ListEntry::Item(item)) if item.params.is_empty() => match &item.bare_item {
            BareItem::ByteSequence(b) => Ok(b.clone()),
            _ => Err(malformed("signature", "the member is not a byte sequence")),
        },
        Some(_) => Err(malformed(
            "signature",
            "the member is not a plain byte sequence",
        )),
        None => Err(HttpSigError::SignatureNotFound {
            label: bounded(label),
            header: "signature",
        }),
    }
}

fn components(list: &InnerList) -> Result<Vec<Component>, HttpSigError> {
    if list.items.len() > MAX_COMPONENTS {
        return Err(HttpSigError::TooMany {
            what: "covered components",
            limit: MAX_COMPONENTS,
        });
    }
    let mut out = Vec::with_capacity(list.items.len());
    for item in &list.items {
        let BareItem::String(name) = &item.bare_item else {
            return Err(malformed("signature-input", "a component is not a string"));
        };
        if !item.params.is_empty() {
            return Err(HttpSigError::UnsupportedComponent {
                component: format!("{};…", bounded(name.as_str())),
            });
        }
        out.push(name.as_str().parse()?);
    }
    base::check_components(&out)?;
    Ok(out)
}

fn time_param(param: &'static str, value: &BareItem) -> Result<u64, HttpSigError> {
    let BareItem::Integer(i) = value else {
        return Err(HttpSigError::InvalidParameter {
            param,
            reason: "not an integer",
        });
    };
    u64::try_from(i64::from(*i)).map_err(|_| HttpSigError::InvalidParameter {
        param,
        reason: "negative",
    })
}

fn string_param(param: &'static str, value: &BareItem) -> Result<String, HttpSigError> {
    let BareItem::String(s) = value else {
        return Err(HttpSigError::InvalidParameter {
            param,
            reason: "not a string",
        });
    };
    check_string(param, s.as_str())?;
    Ok(s.as_str().to_owned())
}

fn header(headers: &http::HeaderMap, name: &'static str) -> Result<String, HttpSigError> {
    let mut out = String::new();
    for (i, line) in headers.get_all(name).iter().enumerate() {
        let s = line
            .to_str()
            .map_err(|_| malformed(name, "not visible ASCII"))?;
        if out.len() + s.len() > sf::MAX_HEADER_BYTES {
            return Err(HttpSigError::HeaderTooLarge {
                header: name,
                limit: sf::MAX_HEADER_BYTES,
            });
        }
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(s);
    }
    if out.is_empty() {
        return Err(HttpSigError::MissingHeader { header: name });
    }
    Ok(out)
}

fn malformed(header: &'static str, reason: &str) -> HttpSigError {
    HttpSigError::MalformedHeader {
        header,
        reason: reason.to_owned(),
    }
}

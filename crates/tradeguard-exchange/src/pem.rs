//! Minimal PEM reading for private keys handed over as text (Binance Ed25519, Coinbase EC).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// The label and DER body of the first PEM block in `text`. Accepts the literal `\n` escapes
/// that key files pasted through JSON often carry. `None` when `text` is not PEM.
pub(crate) fn decode(text: &str) -> Option<(String, Zeroizing<Vec<u8>>)> {
    let text = Zeroizing::new(text.replace("\\n", "\n"));
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + "-----BEGIN ".len()..];
    let label_end = rest.find("-----")?;
    let label = rest[..label_end].to_owned();
    let body_start = label_end + 5;
    let end_marker = format!("-----END {label}-----");
    let body_end = rest.find(&end_marker)?;
    let body: Zeroizing<String> =
        Zeroizing::new(rest.get(body_start..body_end)?.split_whitespace().collect());
    let der = STANDARD.decode(body.as_bytes()).ok()?;
    Some((label, Zeroizing::new(der)))
}

/// True when `text` looks like a PEM block.
pub(crate) fn is_pem(text: &str) -> bool {
    text.trim_start().starts_with("-----BEGIN ")
}

#[cfg(test)]
mod tests {
    use super::*;

    type Expected = Option<(&'static str, &'static [u8])>;

    #[test]
    fn decode_table() {
        let cases: [(&str, Expected); 5] = [
            (
                "-----BEGIN X-----\nAAEC\n-----END X-----\n",
                Some(("X", &[0, 1, 2])),
            ),
            (
                "-----BEGIN EC PRIVATE KEY-----\\nAAEC\\n-----END EC PRIVATE KEY-----",
                Some(("EC PRIVATE KEY", &[0, 1, 2])),
            ),
            ("-----BEGIN X-----\nAAEC\n-----END Y-----", None),
            ("-----BEGIN X-----\n!!\n-----END X-----", None),
            ("AAEC", None),
        ];
        for (i, (input, want)) in cases.iter().enumerate() {
            let got = decode(input);
            let got = got.as_ref().map(|(l, d)| (l.as_str(), d.as_slice()));
            assert_eq!(got, *want, "TC{i} failed");
        }
    }
}

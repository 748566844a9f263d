//! A JSON parser that refuses duplicate object members at any depth.
//!
//! serde_json keeps the last of two members with the same name; two parsers that disagree on
//! which one counts could read different orders under one signature, so intents refuse them.
//! Depth is bounded by serde_json's own recursion limit (128).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A JSON value parsed without duplicate member names.
pub(crate) struct StrictValue(pub(crate) Value);

/// Parses `text` as one JSON object (nothing after it), refusing duplicate members.
pub(crate) fn parse_object(text: &[u8]) -> Result<Map<String, Value>, &'static str> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let value = StrictValue::deserialize(&mut de).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => "has a duplicate member or a wrong shape",
        serde_json::error::Category::Eof => "is truncated",
        _ => "is not JSON",
    })?;
    de.end().map_err(|_| "has trailing data after the object")?;
    match value.0 {
        Value::Object(map) => Ok(map),
        _ => Err("is not a JSON object"),
    }
}

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let StrictValue(v) = map.next_value()?;
            if out.insert(key, v).is_some() {
                return Err(de::Error::custom("duplicate member"));
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_object;

    #[test]
    fn table() {
        let cases: [(&str, bool); 9] = [
            (r#"{"a":1,"b":{"c":[1,2,{"d":null}]}}"#, true),
            (r#" {"a" : 1.5e3 } "#, true),
            (r#"{"a":1,"a":2}"#, false),
            (r#"{"a":{"b":1,"b":1}}"#, false),
            (r#"{"a":[{"x":1,"x":1}]}"#, false),
            (r#"[1]"#, false),
            (r#"{"a":1} x"#, false),
            (r#"{"a":1"#, false),
            (r#"{"a":NaN}"#, false),
        ];
        for (i, (text, ok)) in cases.iter().enumerate() {
            assert_eq!(parse_object(text.as_bytes()).is_ok(), *ok, "TC{i} failed");
        }
    }

    #[test]
    fn fail_deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{{\"a\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_object(text.as_bytes()).is_err());
    }
}

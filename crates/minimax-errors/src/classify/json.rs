//! Reading the few fields that decide an outcome from a JSON body, without materialising the
//! rest: a 4 MB T2A answer is mostly one hex string, which is skipped in place, never copied.

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// The top-level fields that matter for classification, borrowed from the body.
#[derive(Debug, Default)]
pub(crate) struct Fields<'a> {
    pub base_resp: Option<&'a RawValue>,
    pub error: Option<&'a RawValue>,
    pub kind: Option<&'a RawValue>,
    pub trace_id: Option<&'a RawValue>,
    pub request_id: Option<&'a RawValue>,
    pub id: Option<&'a RawValue>,
    pub choices: Option<&'a RawValue>,
    pub data: Option<&'a RawValue>,
    /// Whether any field other than `base_resp`, `error`, `type` and the ids holds something
    /// other than null: an answer with content.
    pub has_payload: bool,
}

/// Why a body could not be scanned.
#[derive(Debug)]
pub(crate) enum ScanError {
    /// Valid JSON, but not an object (says what it is instead).
    NotAnObject(&'static str),
    /// Ended in the middle of a value.
    Truncated(serde_json::Error),
    /// Not valid JSON.
    Invalid(serde_json::Error),
}

/// Scans a top-level JSON object, keeping only the fields classification needs.
pub(crate) fn scan(body: &[u8]) -> Result<Fields<'_>, ScanError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let result = if first == Some(&b'{') {
        de.deserialize_map(FieldsVisitor)
    } else {
        // Not an object: still tell valid JSON of another kind from a syntax error.
        IgnoredAny::deserialize(&mut de).map(|_| Fields::default())
    };
    match result.and_then(|fields| de.end().map(|()| fields)) {
        Ok(_) if first != Some(&b'{') => Err(ScanError::NotAnObject(kind_of(first))),
        Ok(fields) => Ok(fields),
        Err(error) if error.classify() == serde_json::error::Category::Eof => {
            Err(ScanError::Truncated(error))
        }
        Err(error) => Err(ScanError::Invalid(error)),
    }
}

fn kind_of(first: Option<&u8>) -> &'static str {
    match first {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let (slot, payload) = match key.as_ref() {
                "base_resp" => (&mut fields.base_resp, false),
                "error" => (&mut fields.error, false),
                "type" => (&mut fields.kind, false),
                "trace_id" => (&mut fields.trace_id, false),
                "request_id" => (&mut fields.request_id, false),
                "id" => (&mut fields.id, false),
                "choices" => (&mut fields.choices, true),
                "data" => (&mut fields.data, true),
                _ => {
                    // Skipped in place (a 4 MB string is not copied), but null is told apart.
                    let value = map.next_value::<&'de RawValue>()?;
                    fields.has_payload |= value.get() != "null";
                    continue;
                }
            };
            let value = map.next_value::<&'de RawValue>()?;
            // Anthropic's events are all `type`: any type but "error" is content.
            let typed = key.as_ref() == "type" && value.get().trim() != r#""error""#;
            fields.has_payload |= (payload || typed) && value.get() != "null";
            *slot = Some(value);
        }
        Ok(fields)
    }
}

/// A small JSON value (a `base_resp` or `error` object), parsed fully; `None` for `null`.
pub(crate) fn small_value(raw: Option<&RawValue>) -> Option<Value> {
    raw.and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
        .filter(|value| !value.is_null())
}

/// A string or number field as text (ids are sometimes numbers).
pub(crate) fn text_of(raw: Option<&RawValue>) -> Option<String> {
    match small_value(raw)? {
        Value::String(s) if !s.trim().is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An integer code from a number, an integral float or a numeric string (`1002`, `1002.0`,
/// `"1002"`).
pub(crate) fn code_of(value: Option<&Value>) -> Option<i64> {
    let integral = |f: f64| (f.fract() == 0.0 && f.abs() < 1e15).then_some(f as i64);
    match value? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(integral)),
        Value::String(s) => {
            let s = s.trim();
            s.parse()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(integral))
        }
        _ => None,
    }
}

/// Whether a stream event is the last of its answer: a chat chunk with a `finish_reason`, or a
/// T2A event with `data.status` 2.
pub(crate) fn ends_stream(fields: &Fields<'_>) -> bool {
    #[derive(Deserialize)]
    struct Choice {
        #[serde(default)]
        finish_reason: Option<Value>,
    }
    #[derive(Deserialize)]
    struct Data {
        #[serde(default)]
        status: Option<i64>,
    }
    let finished = fields
        .choices
        .and_then(|raw| serde_json::from_str::<Vec<Choice>>(raw.get()).ok())
        .is_some_and(|choices| {
            choices.iter().any(|c| match &c.finish_reason {
                Some(Value::String(reason)) => !reason.is_empty(),
                Some(Value::Null) | None => false,
                Some(_) => true,
            })
        });
    finished
        || fields
            .data
            .and_then(|raw| serde_json::from_str::<Data>(raw.get()).ok())
            .is_some_and(|data| data.status == Some(2))
}

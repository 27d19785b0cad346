//! JSON text to a `serde_json::Value` that refuses a key given twice in one object. serde_json
//! keeps the last silently, so a scenario with two `batch_size`s would run with one the user may
//! not have meant.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::fmt;

/// Why the text is not a scenario's JSON.
pub enum Invalid {
    /// Not JSON at all: serde_json's message with line and column.
    Syntax(String),
    /// A key given twice: its dotted path.
    Duplicate(String),
}

/// Parses `text` as JSON, rejecting duplicate keys. A leading UTF-8 byte order mark is skipped:
/// some Windows editors write one, and it is not content.
pub fn parse(text: &str) -> Result<Value, Invalid> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = Node { path: String::new(), duplicate: &duplicate }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    match (parsed, duplicate.into_inner()) {
        (_, Some(path)) => Err(Invalid::Duplicate(path)),
        (Ok(value), None) => Ok(value),
        (Err(e), None) => Err(Invalid::Syntax(e.to_string())),
    }
}

/// One JSON value at `path`; a duplicate found below it is put in `duplicate`.
struct Node<'a> {
    path: String,
    duplicate: &'a RefCell<Option<String>>,
}

impl Node<'_> {
    fn child(&self, name: &str) -> Self {
        let path = if self.path.is_empty() { name.to_string() } else { format!("{}.{name}", self.path) };
        Node { path, duplicate: self.duplicate }
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
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
        while let Some(item) = seq.next_element_seed(self.child(&items.len().to_string()))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self.child(&key))?;
            if object.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(self.child(&key).path);
                return Err(de::Error::custom("duplicate key"));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_named_by_path_and_a_bom_is_skipped() {
        assert!(matches!(parse(r#"{"a":{"b":1,"b":2}}"#), Err(Invalid::Duplicate(p)) if p == "a.b"));
        assert!(matches!(parse(r#"{"l":[{"x":1},{"x":1,"x":2}]}"#), Err(Invalid::Duplicate(p)) if p == "l.1.x"));
        assert_eq!(parse("\u{feff}{\"a\":1}").ok(), Some(serde_json::json!({"a":1})));
        assert!(matches!(parse("{\"a\":1} x"), Err(Invalid::Syntax(_))));
    }
}

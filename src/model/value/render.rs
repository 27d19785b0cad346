//! A record's value as bytes, for a real handler to read (`function.handler`): the JSON text of
//! the producer's `value` template drawn for the record's key — every field, drawn exactly as
//! the filter draws the fields it looks at ([`View`]), so the handler reads the value the filter
//! judged — or the plain text, for the share of values that are not JSON.

use super::{Shape, Template, ValueKey, View};
use serde_json::{Map, Number, Value};

/// Above this, a whole number drawn as `f64` is written as a real number (JSON readers keep
/// integers exact only to 2^53).
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

impl Template {
    /// The value of the record `key`, as its producer wrote it.
    pub fn render(&self, key: ValueKey) -> Vec<u8> {
        match View::of(self, key) {
            // Plain text: the bytes themselves, not a JSON string.
            View::Json(Value::String(text)) => text.as_bytes().to_vec(),
            view => to_json(view).to_string().into_bytes(),
        }
    }
}

fn to_json(view: View) -> Value {
    match view {
        View::Shape(template, Shape::Object(children), key) => {
            let fields: Map<String, Value> = children
                .iter()
                .map(|(name, shape)| {
                    let child = match shape {
                        Shape::Field(i) => View::field(template, *i, key),
                        object => View::Shape(template, object, key),
                    };
                    (name.clone(), to_json(child))
                })
                .collect();
            Value::Object(fields)
        }
        // A field is always reached through its object, as `View::field`.
        View::Shape(_, Shape::Field(_), _) => Value::Null,
        View::Json(v) => v.clone(),
        View::Num(x) => number(x),
    }
}

/// A drawn number: whole numbers (every `integer` field) as JSON integers, others as the
/// shortest text that reads back as the same `f64`, so a reader compares what the filter did.
fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < EXACT_INTEGER_LIMIT {
        Value::Number(Number::from(x as i64))
    } else {
        Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::esm::filter::parse_pattern;
    use crate::model::value::{Field, RecordFilter};
    use serde_json::json;

    fn template() -> Template {
        let fields = vec![
            (
                "kind".to_owned(),
                Field::OneOf { values: vec![json!("keep"), json!("drop")], cumulative: vec![0.5, 1.0] },
            ),
            ("session.duration".to_owned(), Field::Integer { min: 1, max: 10 }),
            ("session.score".to_owned(), Field::Normal { mean: 0.0, sd: 1.0 }),
            ("amount".to_owned(), Field::Uniform { min: 0.0, max: 100.0 }),
            ("source".to_owned(), Field::Constant(json!("web"))),
        ];
        Template::new(fields, 0.0, String::new()).unwrap()
    }

    fn key(offset: u64) -> ValueKey {
        ValueKey { seed: 7, producer: 0, partition: 2, offset }
    }

    #[test]
    fn a_rendered_value_has_the_templates_shape() {
        let value: Value = serde_json::from_slice(&template().render(key(0))).unwrap();
        assert_eq!(value["source"], "web");
        assert!(["keep", "drop"].contains(&value["kind"].as_str().unwrap()));
        let duration = value["session"]["duration"].as_i64().expect("an integer field is a JSON integer");
        assert!((1..=10).contains(&duration));
        assert!(value["session"]["score"].is_f64() && value["amount"].is_number());
        assert_eq!(value.as_object().unwrap().len(), 4);
    }

    #[test]
    fn the_filter_and_the_rendered_value_agree_on_every_record() {
        // The same patterns, once walked over the drawn fields (what the simulation decides)
        // and once over the rendered JSON read back (what a handler or AWS would judge).
        let patterns = [
            json!({"kind": ["keep"]}),
            json!({"session": {"duration": [{"numeric": [">", 7]}]}}),
            json!({"session": {"score": [{"numeric": ["<", -0.5]}]}, "amount": [{"numeric": [">=", 50]}]}),
        ];
        for pattern in patterns {
            let node = parse_pattern(&json!({ "value": pattern }).to_string()).unwrap();
            let filter = RecordFilter { patterns: vec![node.clone()], templates: vec![template()], seed: 7 };
            let mut matched = 0;
            for offset in 0..2_000 {
                let value: Value = serde_json::from_slice(&template().render(key(offset))).unwrap();
                let judged = node.matches(Some(&&value));
                assert_eq!(judged, filter.matches(0, 2, offset), "{pattern} at offset {offset}: {value}");
                matched += judged as u32;
            }
            assert!(matched > 0 && matched < 2_000, "{pattern}: the check must see both answers");
        }
    }

    #[test]
    fn plain_text_values_are_the_text_itself() {
        let mut t = template();
        t.non_json_share = 1.0;
        t.non_json_text = json!("heartbeat");
        assert_eq!(t.render(key(3)), b"heartbeat");
        assert_eq!(Template::default().render(key(3)), b"{}");
    }

    #[test]
    fn numbers_are_written_so_they_read_back_the_same() {
        assert_eq!(number(7.0).to_string(), "7");
        assert_eq!(number(-3.0).to_string(), "-3");
        assert_eq!(number(0.1).to_string(), "0.1");
        let x = 12.345_678_901_234_567;
        assert_eq!(number(x).to_string().parse::<f64>().unwrap(), x);
        assert_eq!(number(1e300).to_string().parse::<f64>().unwrap(), 1e300);
    }
}

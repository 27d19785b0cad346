//! Record values, for event filtering: a producer's `value` template (fields with constant,
//! categorical or numeric distributions, and a share of plain-text values) and the filter that
//! decides whether a record reaches the function.
//!
//! No value is stored. A record's value is a pure function of (seed, producer, partition,
//! offset): each field draws from its own hash of that key, and only the fields a pattern looks
//! at are drawn. Runs without `esm.filter_criteria` never call this module, unless a real
//! handler reads the values (`render.rs`: the whole value, drawn the same way).

mod render;

use crate::engine::{mix64, unit_f64};
use crate::model::esm::filter::{Doc, Node, Scalar};
use serde_json::Value;

/// Salt of the value draws, apart from every other per-record hash.
const VALUE_SALT: u64 = 0x7661_6c75_6573_0001;
/// The field index whose draw decides whether a value is plain text.
const NON_JSON_DRAW: u64 = u64::MAX;

/// How one field of a value is drawn.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    Constant(Value),
    /// One of `values`, with cumulative probabilities `cumulative` (the last is 1).
    OneOf {
        values: Vec<Value>,
        cumulative: Vec<f64>,
    },
    /// A real number uniform on `min..max`.
    Uniform {
        min: f64,
        max: f64,
    },
    /// A whole number uniform on `min..=max`.
    Integer {
        min: i64,
        max: i64,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
}

/// The shape of a JSON value: objects down to fields.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Object(Vec<(String, Shape)>),
    Field(usize),
}

/// A producer's value template, compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub root: Shape,
    pub fields: Vec<Field>,
    /// Share of values that are plain text rather than JSON.
    pub non_json_share: f64,
    /// What such a value holds (a string pattern on the whole `value` can match it).
    pub non_json_text: Value,
}

impl Default for Template {
    /// A producer without a template writes `{}`.
    fn default() -> Self {
        Template { root: Shape::Object(vec![]), fields: vec![], non_json_share: 0.0, non_json_text: Value::Null }
    }
}

impl Template {
    /// Builds the shape from dotted field paths (`session.duration` nests), in the given order.
    pub fn new(fields: Vec<(String, Field)>, non_json_share: f64, non_json_text: String) -> Result<Self, String> {
        let mut root = Shape::Object(vec![]);
        let mut drawn = Vec::new();
        for (path, field) in fields {
            insert(&mut root, &path, drawn.len()).map_err(|e| format!("`{path}`: {e}"))?;
            drawn.push(field);
        }
        Ok(Template { root, fields: drawn, non_json_share, non_json_text: Value::String(non_json_text) })
    }
}

fn insert(shape: &mut Shape, path: &str, index: usize) -> Result<(), String> {
    let Shape::Object(children) = shape else { return Err("a field cannot also hold fields".into()) };
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    if head.is_empty() {
        return Err("empty name in the path".into());
    }
    let existing = children.iter().position(|(k, _)| k == head);
    match (rest, existing) {
        (None, None) => children.push((head.to_owned(), Shape::Field(index))),
        (None, Some(_)) => return Err("defined twice, or also holds fields".into()),
        (Some(r), Some(i)) => insert(&mut children[i].1, r, index)?,
        (Some(r), None) => {
            children.push((head.to_owned(), Shape::Object(vec![])));
            let last = children.len() - 1;
            insert(&mut children[last].1, r, index)?;
        }
    }
    Ok(())
}

/// The key a record's value draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueKey {
    pub seed: u64,
    pub producer: u32,
    pub partition: u32,
    pub offset: u64,
}

impl ValueKey {
    fn unit(&self, draw: u64) -> f64 {
        unit_f64(mix64(&[self.seed, VALUE_SALT, self.producer as u64, self.partition as u64, self.offset, draw]))
    }
}

/// A record's value as a pattern walks it: drawn field by field on demand.
#[derive(Clone, Copy, Debug)]
pub enum View<'a> {
    Shape(&'a Template, &'a Shape, ValueKey),
    Json(&'a Value),
    Num(f64),
}

impl<'a> View<'a> {
    /// The value of the record `key` written from `template`.
    pub fn of(template: &'a Template, key: ValueKey) -> Self {
        if template.non_json_share > 0.0 && key.unit(NON_JSON_DRAW) < template.non_json_share {
            View::Json(&template.non_json_text)
        } else {
            View::Shape(template, &template.root, key)
        }
    }

    fn field(template: &'a Template, index: usize, key: ValueKey) -> Self {
        let u = || key.unit(index as u64);
        match &template.fields[index] {
            Field::Constant(v) => View::Json(v),
            Field::OneOf { values, cumulative } => {
                let x = u();
                let i = cumulative.partition_point(|&c| c <= x).min(values.len() - 1);
                View::Json(&values[i])
            }
            Field::Uniform { min, max } => View::Num(min + (max - min) * u()),
            Field::Integer { min, max } => {
                let span = (*max as i128 - *min as i128 + 1) as f64;
                View::Num((*min as f64 + (u() * span).floor()).min(*max as f64))
            }
            Field::Normal { mean, sd } => {
                // Box–Muller from two independent draws of this field.
                let u1 = 1.0 - u();
                let u2 = key.unit(index as u64 | 1 << 63);
                View::Num(mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos())
            }
        }
    }
}

impl Doc for View<'_> {
    fn child(&self, name: &str) -> Option<Self> {
        match *self {
            View::Shape(t, Shape::Object(children), key) => {
                children.iter().find(|(k, _)| k == name).map(|(_, shape)| match shape {
                    Shape::Field(i) => View::field(t, *i, key),
                    object => View::Shape(t, object, key),
                })
            }
            View::Json(v) => (&v).child(name).map(View::Json),
            _ => None,
        }
    }
    fn is_object(&self) -> bool {
        match self {
            View::Shape(_, Shape::Object(_), _) => true,
            View::Json(v) => v.is_object(),
            _ => false,
        }
    }
    fn any_scalar(&self, f: &mut dyn FnMut(Scalar) -> bool) -> bool {
        match self {
            View::Shape(..) => false,
            View::Json(v) => v.any_scalar(f),
            View::Num(x) => f(Scalar::Num(*x)),
        }
    }
}

/// The mapping's filters with each producer's template: which records reach the function.
#[derive(Clone, Debug)]
pub struct RecordFilter {
    pub patterns: Vec<Node>,
    /// By producer index; producers without a template write `{}`.
    pub templates: Vec<Template>,
    pub seed: u64,
}

impl RecordFilter {
    /// Whether record `offset` of `partition`, written by `producer`, matches a filter.
    pub fn matches(&self, producer: u32, partition: u32, offset: u64) -> bool {
        let template = &self.templates[producer as usize];
        let key = ValueKey { seed: self.seed, producer, partition, offset };
        let view = View::of(template, key);
        self.patterns.iter().any(|p| p.matches(Some(&view)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::esm::filter::parse_pattern;
    use serde_json::json;

    fn template() -> Template {
        let fields = vec![
            (
                "kind".to_owned(),
                Field::OneOf { values: vec![json!("keep"), json!("drop")], cumulative: vec![0.3, 1.0] },
            ),
            ("session.duration".to_owned(), Field::Integer { min: 1, max: 10 }),
            ("source".to_owned(), Field::Constant(json!("web"))),
        ];
        Template::new(fields, 0.0, String::new()).unwrap()
    }

    fn filter(pattern: Value, t: Template) -> RecordFilter {
        let node = parse_pattern(&json!({ "value": pattern }).to_string()).unwrap();
        RecordFilter { patterns: vec![node], templates: vec![t], seed: 7 }
    }

    fn share(f: &RecordFilter, n: u64) -> f64 {
        (0..n).filter(|&o| f.matches(0, 0, o)).count() as f64 / n as f64
    }

    #[test]
    fn categorical_and_integer_fields_match_in_proportion() {
        // 100,000 records: a 30 % category gives 0.3 ± 5σ (σ = √(0.3·0.7/1e5) = 0.00145).
        assert!((share(&filter(json!({"kind": ["keep"]}), template()), 100_000) - 0.3).abs() < 0.0073);
        // Durations 1..=10, "> 7" is 3 of 10; with the category: 0.3 × 0.3 = 0.09 (σ = 0.0009).
        let nested = json!({"kind": ["keep"], "session": {"duration": [{"numeric": [">", 7]}]}});
        assert!((share(&filter(nested, template()), 100_000) - 0.09).abs() < 0.0045);
        assert_eq!(share(&filter(json!({"source": ["web"]}), template()), 1_000), 1.0);
        assert_eq!(share(&filter(json!({"missing": [{"exists": false}]}), template()), 1_000), 1.0);
    }

    #[test]
    fn values_depend_only_on_the_record_key() {
        let f = filter(json!({"kind": ["keep"]}), template());
        let first: Vec<bool> = (0..500).map(|o| f.matches(0, 3, o)).collect();
        let again: Vec<bool> = (0..500).rev().map(|o| f.matches(0, 3, o)).collect();
        assert_eq!(first, again.into_iter().rev().collect::<Vec<_>>());
        // Another partition draws other values.
        assert_ne!(first, (0..500).map(|o| f.matches(0, 4, o)).collect::<Vec<_>>());
    }

    #[test]
    fn plain_text_values_match_only_string_patterns() {
        let mut t = template();
        t.non_json_share = 1.0;
        t.non_json_text = json!("heartbeat");
        assert_eq!(share(&filter(json!({"kind": [{"exists": false}]}), t.clone()), 100), 0.0);
        assert_eq!(share(&filter(json!([{"prefix": "heart"}]), t), 100), 1.0);
    }

    #[test]
    fn template_paths_must_not_collide() {
        let f = |p: &str| (p.to_owned(), Field::Constant(json!(1)));
        assert!(Template::new(vec![f("a"), f("a.b")], 0.0, String::new()).is_err());
        assert!(Template::new(vec![f("a.b"), f("a")], 0.0, String::new()).is_err());
        assert!(Template::new(vec![f("a..b")], 0.0, String::new()).is_err());
        assert!(Template::new(vec![f("a.b"), f("a.c")], 0.0, String::new()).is_ok());
    }
}

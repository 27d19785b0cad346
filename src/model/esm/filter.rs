//! Event filtering (`FilterCriteria`): AWS's filter-pattern syntax, as far as it applies to a
//! Kafka record's `value` ("Control which events Lambda sends to your function",
//! invocation-eventfiltering; kafka-filtering). Patterns are parsed once; matching walks a
//! [`Doc`], so a record's value never has to be built as JSON.

use serde_json::{Map, Value};

/// The most filters AWS allows on one mapping (5 by default, 10 with a quota increase).
pub const MAX_FILTERS: usize = 10;
/// The filters AWS allows without a quota increase.
pub const DEFAULT_FILTER_QUOTA: usize = 5;
/// AWS's limit on one `Pattern` string (FilterCriteria API reference).
pub const MAX_PATTERN_CHARS: usize = 4096;

/// One filter's pattern on the record's `value`. A record is sent to the function if any
/// filter of the mapping matches it.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// Every key must match (AND); each `$or` entry needs one of its alternatives to match.
    Object { keys: Vec<(String, Node)>, ors: Vec<Vec<Node>> },
    /// A list of conditions on one field, any of which may match (OR).
    Leaf(Vec<Cond>),
}

/// One condition of a leaf (AWS's comparison operators).
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Prefix(String),
    Suffix(String),
    EqualsIgnoreCase(String),
    /// Neither of these strings or numbers (the field must exist).
    AnythingBut(Vec<Cond>),
    /// One or two comparisons, all of which must hold.
    Numeric(Vec<(Cmp, f64)>),
    Exists(bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

/// A scalar as a condition sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar<'a> {
    Str(&'a str),
    Num(f64),
    Bool(bool),
    Null,
}

/// What a pattern is matched against: a JSON value, or a generated one (see `model::value`).
pub trait Doc: Sized {
    /// The field `key` of an object, `None` when absent (or when this is not an object).
    fn child(&self, key: &str) -> Option<Self>;
    /// Whether this is an object (an object pattern matches nothing else).
    fn is_object(&self) -> bool;
    /// Calls `f` on the scalar, or on each scalar of an array, until it returns true.
    fn any_scalar(&self, f: &mut dyn FnMut(Scalar) -> bool) -> bool;
}

impl Doc for &Value {
    fn child(&self, key: &str) -> Option<Self> {
        self.as_object().and_then(|o| o.get(key))
    }
    fn is_object(&self) -> bool {
        Value::is_object(self)
    }
    fn any_scalar(&self, f: &mut dyn FnMut(Scalar) -> bool) -> bool {
        match self {
            Value::Array(items) => items.iter().any(|v| (&v).any_scalar(f)),
            Value::Object(_) => false,
            v => f(scalar_of(v)),
        }
    }
}

/// The scalar of a non-container JSON value.
pub fn scalar_of(v: &Value) -> Scalar<'_> {
    match v {
        Value::String(s) => Scalar::Str(s),
        Value::Number(n) => Scalar::Num(n.as_f64().unwrap_or(f64::NAN)),
        Value::Bool(b) => Scalar::Bool(*b),
        _ => Scalar::Null,
    }
}

impl Node {
    /// Whether `doc` (absent: `None`) matches this pattern.
    pub fn matches<D: Doc>(&self, doc: Option<&D>) -> bool {
        match self {
            Node::Leaf(conds) => conds.iter().any(|c| c.matches(doc)),
            Node::Object { keys, ors } => {
                let Some(d) = doc.filter(|d| d.is_object()) else { return false };
                keys.iter().all(|(k, child)| child.matches(d.child(k).as_ref()))
                    && ors.iter().all(|alternatives| alternatives.iter().any(|n| n.matches(Some(d))))
            }
        }
    }
}

impl Cond {
    fn matches<D: Doc>(&self, doc: Option<&D>) -> bool {
        match (self, doc) {
            (Cond::Exists(wanted), None) => !*wanted,
            (_, None) => false,
            (Cond::Exists(wanted), Some(d)) => *wanted && !d.is_object(),
            (Cond::AnythingBut(values), Some(d)) => {
                !d.is_object() && !d.any_scalar(&mut |s| values.iter().any(|v| v.scalar_matches(s)))
            }
            (c, Some(d)) => d.any_scalar(&mut |s| c.scalar_matches(s)),
        }
    }

    fn scalar_matches(&self, s: Scalar) -> bool {
        match (self, s) {
            (Cond::Str(a), Scalar::Str(b)) => a == b,
            (Cond::Num(a), Scalar::Num(b)) => *a == b,
            (Cond::Bool(a), Scalar::Bool(b)) => *a == b,
            (Cond::Null, Scalar::Null) => true,
            (Cond::Prefix(p), Scalar::Str(b)) => b.starts_with(p.as_str()),
            (Cond::Suffix(p), Scalar::Str(b)) => b.ends_with(p.as_str()),
            (Cond::EqualsIgnoreCase(a), Scalar::Str(b)) => a.to_lowercase() == b.to_lowercase(),
            (Cond::Numeric(cmps), Scalar::Num(b)) => cmps.iter().all(|&(op, x)| match op {
                Cmp::Lt => b < x,
                Cmp::Le => b <= x,
                Cmp::Eq => b == x,
                Cmp::Ge => b >= x,
                Cmp::Gt => b > x,
            }),
            _ => false,
        }
    }
}

const OPERATORS: &str = "a string, a number, true, false, null, or {\"prefix\"|\"suffix\"|\"equals-ignore-case\": \
                         string}, {\"anything-but\": strings or numbers}, {\"numeric\": [op, number(, op, number)]}, \
                         {\"exists\": bool}";

/// Parses one `Pattern` string of a Kafka mapping: an object whose only key is `value`.
pub fn parse_pattern(text: &str) -> Result<Node, String> {
    if text.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!("the pattern has more than {MAX_PATTERN_CHARS} characters (AWS's limit)"));
    }
    let json: Value = serde_json::from_str(text).map_err(|e| format!("the pattern is not JSON: {e}"))?;
    let Value::Object(top) = json else { return Err("the pattern must be a JSON object".into()) };
    if let Some(other) = top.keys().find(|k| k.as_str() != "value") {
        return Err(format!("`{other}`: Kafka mappings filter only on `value`; allowed: {{\"value\": ...}}"));
    }
    match top.get("value") {
        Some(v) => node(v, "value"),
        None => Err("the pattern must have a `value` key".into()),
    }
}

fn node(v: &Value, at: &str) -> Result<Node, String> {
    match v {
        Value::Object(o) => object(o, at),
        Value::Array(items) if items.is_empty() => Err(format!("{at}: an empty list matches nothing")),
        Value::Array(items) => items.iter().map(|c| cond(c, at)).collect::<Result<_, _>>().map(Node::Leaf),
        _ => Err(format!("{at}: a field's conditions must be a list, e.g. [\"a\", \"b\"]")),
    }
}

fn object(o: &Map<String, Value>, at: &str) -> Result<Node, String> {
    let (mut keys, mut ors) = (Vec::new(), Vec::new());
    for (k, v) in o {
        let path = format!("{at}.{k}");
        if k == "$or" {
            let Value::Array(alternatives) = v else { return Err(format!("{path}: `$or` takes a list of patterns")) };
            if alternatives.len() < 2 {
                return Err(format!("{path}: `$or` needs at least two patterns"));
            }
            ors.push(alternatives.iter().map(|a| node(a, &path)).collect::<Result<_, _>>()?);
        } else {
            keys.push((k.clone(), node(v, &path)?));
        }
    }
    Ok(Node::Object { keys, ors })
}

fn cond(c: &Value, at: &str) -> Result<Cond, String> {
    let unsupported = || format!("{at}: unsupported condition {c}; allowed: {OPERATORS}");
    match c {
        Value::String(s) => return Ok(Cond::Str(s.clone())),
        Value::Number(n) => return Ok(Cond::Num(n.as_f64().ok_or_else(unsupported)?)),
        Value::Bool(b) => return Ok(Cond::Bool(*b)),
        Value::Null => return Ok(Cond::Null),
        Value::Array(_) => return Err(unsupported()),
        Value::Object(_) => {}
    }
    let o = c.as_object().expect("an object");
    let [(op, arg)] = o.iter().collect::<Vec<_>>()[..] else { return Err(unsupported()) };
    let text = || arg.as_str().map(str::to_owned).ok_or_else(unsupported);
    match op.as_str() {
        "prefix" => Ok(Cond::Prefix(text()?)),
        "suffix" => Ok(Cond::Suffix(text()?)),
        "equals-ignore-case" => Ok(Cond::EqualsIgnoreCase(text()?)),
        "exists" => arg.as_bool().map(Cond::Exists).ok_or_else(unsupported),
        "anything-but" => {
            let list = match arg {
                Value::Array(items) => items.clone(),
                single => vec![single.clone()],
            };
            let plain = |v: &Value| match v {
                Value::String(s) => Ok(Cond::Str(s.clone())),
                Value::Number(n) => n.as_f64().map(Cond::Num).ok_or_else(unsupported),
                _ => Err(unsupported()),
            };
            if list.is_empty() {
                return Err(unsupported());
            }
            list.iter().map(plain).collect::<Result<_, _>>().map(Cond::AnythingBut)
        }
        "numeric" => numeric(arg).ok_or_else(unsupported),
        _ => Err(unsupported()),
    }
}

/// `[op, number]` or `[op, number, op, number]`.
fn numeric(arg: &Value) -> Option<Cond> {
    let items = arg.as_array()?;
    if items.is_empty() || items.len() > 4 || items.len() % 2 != 0 {
        return None;
    }
    let mut cmps = Vec::new();
    for pair in items.chunks(2) {
        let op = match pair[0].as_str()? {
            "<" => Cmp::Lt,
            "<=" => Cmp::Le,
            "=" => Cmp::Eq,
            ">=" => Cmp::Ge,
            ">" => Cmp::Gt,
            _ => return None,
        };
        cmps.push((op, pair[1].as_f64()?));
    }
    Some(Cond::Numeric(cmps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn matches(pattern: Value, value: Value) -> bool {
        let node = parse_pattern(&json!({ "value": pattern }).to_string()).unwrap();
        node.matches(Some(&&value))
    }

    /// The "Filter rule syntax" table of AWS's "Control which events Lambda sends to your
    /// function" page, one row each (its example pattern, a value it describes, and one it
    /// does not), plus the Kafka page's `device_ID` example.
    #[test]
    fn aws_filter_rule_syntax_table() {
        let rows: Vec<(&str, Value, Value, Value)> = vec![
            ("Null", json!({"UserID": [null]}), json!({"UserID": null}), json!({"UserID": "u1"})),
            ("Empty", json!({"LastName": [""]}), json!({"LastName": ""}), json!({"LastName": "Li"})),
            ("Equals", json!({"Name": ["Alice"]}), json!({"Name": "Alice"}), json!({"Name": "alice"})),
            (
                "Equals (ignore case)",
                json!({"Name": [{"equals-ignore-case": "alice"}]}),
                json!({"Name": "ALICE"}),
                json!({"Name": "Bob"}),
            ),
            (
                "And",
                json!({"Location": ["New York"], "Day": ["Monday"]}),
                json!({"Location": "New York", "Day": "Monday"}),
                json!({"Location": "New York", "Day": "Tuesday"}),
            ),
            (
                "Or",
                json!({"PaymentType": ["Credit", "Debit"]}),
                json!({"PaymentType": "Debit"}),
                json!({"PaymentType": "Cash"}),
            ),
            (
                "Or (multiple fields)",
                json!({"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}),
                json!({"Location": "Paris", "Day": "Monday"}),
                json!({"Location": "Paris", "Day": "Sunday"}),
            ),
            (
                "Not",
                json!({"Weather": [{"anything-but": ["Raining"]}]}),
                json!({"Weather": "Sunny"}),
                json!({"Weather": "Raining"}),
            ),
            (
                "Numeric (equals)",
                json!({"Price": [{"numeric": ["=", 100]}]}),
                json!({"Price": 100}),
                json!({"Price": 101}),
            ),
            (
                "Numeric (range)",
                json!({"Price": [{"numeric": [">", 10, "<=", 20]}]}),
                json!({"Price": 20}),
                json!({"Price": 10}),
            ),
            ("Exists", json!({"ProductName": [{"exists": true}]}), json!({"ProductName": "x"}), json!({"Other": 1})),
            (
                "Does not exist",
                json!({"ProductName": [{"exists": false}]}),
                json!({"Other": 1}),
                json!({"ProductName": "x"}),
            ),
            (
                "Begins with",
                json!({"Region": [{"prefix": "us-"}]}),
                json!({"Region": "us-east-1"}),
                json!({"Region": "eu-west-1"}),
            ),
            (
                "Ends with",
                json!({"FileName": [{"suffix": ".png"}]}),
                json!({"FileName": "cat.png"}),
                json!({"FileName": "cat.jpg"}),
            ),
            (
                "Kafka device_ID (nested)",
                json!({"device_ID": [{"prefix": "AB"}], "session": {"duration": [{"numeric": [">", 100]}]}}),
                json!({"device_ID": "AB1234", "session": {"start_time": "t", "duration": 162}}),
                json!({"device_ID": "AB1234", "session": {"start_time": "t", "duration": 99}}),
            ),
        ];
        for (name, pattern, yes, no) in rows {
            assert!(matches(pattern.clone(), yes.clone()), "{name}: {pattern} should match {yes}");
            assert!(!matches(pattern.clone(), no.clone()), "{name}: {pattern} should not match {no}");
        }
    }

    #[test]
    fn arrays_match_when_any_element_does() {
        // AWS: "If the value in the event is an array, the pattern matches if the intersection
        // of the pattern array and the event array is non-empty."
        assert!(matches(json!({"tags": ["red"]}), json!({"tags": ["blue", "red"]})));
        assert!(!matches(json!({"tags": ["red"]}), json!({"tags": ["blue", "green"]})));
        assert!(!matches(json!({"tags": [{"anything-but": "red"}]}), json!({"tags": ["blue", "red"]})));
    }

    #[test]
    fn missing_and_mistyped_fields() {
        // anything-but needs the field; numeric needs a number; an object pattern needs an object.
        assert!(!matches(json!({"a": [{"anything-but": "x"}]}), json!({})));
        assert!(!matches(json!({"a": [{"numeric": [">", 1]}]}), json!({"a": "5"})));
        assert!(!matches(json!({"a": {"b": ["x"]}}), json!({"a": "x"})));
        assert!(!matches(json!({"a": ["x"]}), json!("plain text")));
        // A leaf pattern on the whole value matches plain text.
        assert!(matches(json!([{"prefix": "ERROR"}]), json!("ERROR disk full")));
        // exists matches leaves only.
        assert!(!matches(json!({"a": [{"exists": true}]}), json!({"a": {"b": 1}})));
    }

    #[test]
    fn unsupported_syntax_is_refused_with_what_is_allowed() {
        let err = |p: &str| parse_pattern(p).unwrap_err();
        assert!(err(r#"{"key": {"a": ["x"]}}"#).contains("filter only on `value`"));
        assert!(err(r#"{"value": {"a": [{"wildcard": "x*"}]}}"#).contains("allowed: a string"));
        assert!(err(r#"{"value": {"a": [{"cidr": "10.0.0.0/24"}]}}"#).contains("unsupported condition"));
        assert!(err(r#"{"value": {"a": [{"numeric": [">>", 1]}]}}"#).contains("unsupported"));
        assert!(err(r#"{"value": {"a": []}}"#).contains("empty list"));
        assert!(err(r#"{"value": {"a": "x"}}"#).contains("must be a list"));
        assert!(err("not json").contains("not JSON"));
        assert!(err(&format!("{{\"value\":{{\"a\":[\"{}\"]}}}}", "x".repeat(5000))).contains("4096"));
    }
}

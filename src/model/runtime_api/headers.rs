//! Kafka record headers in the event, as AWS encodes them (with-msk, "Example event"): a list
//! of one-key objects, each key the header's name and its value the header's bytes as a list
//! of JSON integers: `"headers":[{"h0":[100,101,102]},{"h1":[...]}]`.
//!
//! A producer sets how many headers a record has and their raw bytes in all
//! (`producers[].header_count`, `header_bytes`); the names and bytes are made up here,
//! deterministically per record, within that size. The bytes are ASCII letters `d`–`z`
//! (100–122): readable as text, and each written with exactly three digits, so the JSON is as
//! long as the payload rule assumes at most (`esm.payload_header_byte_bytes` 4: three digits and
//! a comma) and its length can be worked out by hand.

use crate::engine::mix64;
use serde_json::{Map, Value};

/// Salt of the header bytes, apart from every other per-record hash.
const HEADER_SALT: u64 = 0x6865_6164_6572_0001;
/// The header bytes are the letters `d` (100) to `z` (122).
const FIRST_BYTE: u64 = b'd' as u64;
const BYTE_CHOICES: u64 = (b'z' - b'd' + 1) as u64;

/// How a producer's records carry headers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeaderShape {
    pub count: u32,
    /// Raw bytes of all of a record's headers: names and values.
    pub bytes: u64,
}

impl HeaderShape {
    /// Raw bytes of header `i`: the bytes split evenly, the first `bytes mod count` one more.
    fn share(&self, i: u32) -> u64 {
        let count = u64::from(self.count);
        self.bytes / count + u64::from(u64::from(i) < self.bytes % count)
    }

    /// Header `i`'s name and value: the name `h<i>` (cut to the header's share if that is
    /// shorter), the value the rest of the share.
    fn header(&self, partition: u32, offset: u64, i: u32) -> (String, Vec<u8>) {
        let share = self.share(i);
        let mut name = format!("h{i}");
        name.truncate(share.min(name.len() as u64) as usize);
        let value_bytes = share - name.len() as u64;
        let value = (0..value_bytes)
            .map(|j| {
                let draw = mix64(&[HEADER_SALT, u64::from(partition), offset, u64::from(i), j]);
                (FIRST_BYTE + draw % BYTE_CHOICES) as u8
            })
            .collect();
        (name, value)
    }

    /// The record's `headers` as the event writes them (`[]` without headers).
    pub fn json(&self, partition: u32, offset: u64) -> Value {
        let list = (0..self.count)
            .map(|i| {
                let (name, value) = self.header(partition, offset, i);
                let mut header = Map::new();
                header.insert(name, Value::Array(value.into_iter().map(Value::from).collect()));
                Value::Object(header)
            })
            .collect();
        Value::Array(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_split_evenly_between_names_and_values() {
        // 11 bytes over 3 headers: 4, 4, 3. Names h0, h1, h2 take 2 each; values 2, 2, 1.
        let shape = HeaderShape { count: 3, bytes: 11 };
        let headers: Vec<(String, Vec<u8>)> = (0..3).map(|i| shape.header(0, 9, i)).collect();
        let sizes: Vec<(usize, usize)> = headers.iter().map(|(n, v)| (n.len(), v.len())).collect();
        assert_eq!(sizes, [(2, 2), (2, 2), (2, 1)]);
        assert_eq!(headers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["h0", "h1", "h2"]);
        assert!(headers.iter().flat_map(|(_, v)| v).all(|b| (b'd'..=b'z').contains(b)));
        // Fewer bytes than the names need: names are cut, values empty.
        let tiny = HeaderShape { count: 2, bytes: 1 };
        assert_eq!((tiny.header(0, 0, 0), tiny.header(0, 0, 1)), (("h".into(), vec![]), (String::new(), vec![])));
    }

    #[test]
    fn the_json_is_awss_shape_and_its_length_is_worked_out_by_hand() {
        // 2 headers of 5 bytes: {"h0":[a,b,c]} is { "h0" : [ 3×3 digits, 2 commas ] } =
        // 1 + 4 + 1 + 1 + 11 + 1 + 1 = 20 characters; two and a comma: 41. The payload rule
        // counts 2 × 8 + 10 × 4 = 56 (esm.payload_header_overhead_bytes and _byte_bytes).
        let shape = HeaderShape { count: 2, bytes: 10 };
        let json = shape.json(1, 42);
        let text = json.to_string();
        assert_eq!(text.len() - 2, 41, "{text}"); // less the list's brackets
        let first = json[0]["h0"].as_array().unwrap();
        assert_eq!(first.len(), 3);
        assert!(first.iter().all(|b| (100..=122).contains(&b.as_u64().unwrap())));
        assert_eq!(json, shape.json(1, 42), "the same record gets the same headers");
        assert_ne!(json, shape.json(1, 43), "another record gets other bytes");
        assert_eq!(HeaderShape::default().json(1, 42).to_string(), "[]");
    }
}

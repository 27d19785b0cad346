//! Naming records independently of the source: a record is a position in a lane. For Kafka a
//! lane is a partition and a position an offset; another source (a Kinesis shard, an SQS queue)
//! maps its own identity onto the same pair.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One record: its lane (Kafka: partition) and position in it (Kafka: offset).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordKey {
    pub lane: u32,
    pub position: u64,
}

impl RecordKey {
    pub const fn new(lane: u32, position: u64) -> Self {
        RecordKey { lane, position }
    }
}

/// Written as `[lane, position]`, as traces have always written a record.
impl Serialize for RecordKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.lane, self.position).serialize(s)
    }
}

impl<'de> Deserialize<'de> for RecordKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (lane, position) = <(u32, u64)>::deserialize(d)?;
        Ok(RecordKey { lane, position })
    }
}

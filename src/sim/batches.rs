//! The batches the ESM has out, each from the moment it is formed until every record in it is
//! resolved, under a [`BatchId`] that events carry.

use crate::model::esm::Batch;
use std::ops::{Index, IndexMut};

/// A batch's place in the table; reused once the batch is retired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BatchId(u32);

#[derive(Default)]
pub(super) struct BatchTable {
    slots: Vec<Option<Batch>>,
    free: Vec<u32>,
    /// Numbers batches in formation order (traces and failure records name them so).
    formed: u64,
}

impl BatchTable {
    /// The number the next batch formed will carry.
    pub fn next_number(&mut self) -> u64 {
        self.formed += 1;
        self.formed
    }

    pub fn insert(&mut self, batch: Batch) -> BatchId {
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(batch);
                BatchId(slot)
            }
            None => {
                self.slots.push(Some(batch));
                BatchId((self.slots.len() - 1) as u32)
            }
        }
    }

    pub fn get(&self, id: BatchId) -> Option<&Batch> {
        self.slots.get(id.0 as usize).and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, id: BatchId) -> Option<&mut Batch> {
        self.slots.get_mut(id.0 as usize).and_then(Option::as_mut)
    }

    /// Retires a batch; its id may be reused.
    pub fn remove(&mut self, id: BatchId) -> Option<Batch> {
        let batch = self.slots.get_mut(id.0 as usize)?.take()?;
        self.free.push(id.0);
        Some(batch)
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Batch> {
        self.slots.iter_mut().flatten()
    }
}

/// Indexing by id is for batches known to be live: every event names a live batch, and each
/// handler checks the batch's state before it acts (a retired id in an event would be a bug in
/// the simulator, not something input can cause).
impl Index<BatchId> for BatchTable {
    type Output = Batch;
    fn index(&self, id: BatchId) -> &Batch {
        match self.get(id) {
            Some(batch) => batch,
            None => unreachable!("batch {id:?} is not live"),
        }
    }
}

impl IndexMut<BatchId> for BatchTable {
    fn index_mut(&mut self, id: BatchId) -> &mut Batch {
        match self.get_mut(id) {
            Some(batch) => batch,
            None => unreachable!("batch {id:?} is not live"),
        }
    }
}

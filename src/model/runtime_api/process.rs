//! Simulated environments mapped to handler processes: one process per live environment, up
//! to a cap; beyond it, environments share processes. A process that crashed or hung is gone:
//! the next invocation of its slot starts a new one (and runs its init for real).

use super::server::{Answer, Fatal, Launch, Runtime};
use std::collections::BTreeMap;
use std::time::Duration;

/// One process slot and the environments it serves.
#[derive(Default)]
struct Slot {
    runtime: Option<Runtime>,
    environments: u32,
}

pub struct Pool {
    launch: Launch,
    max_processes: usize,
    slots: Vec<Slot>,
    /// Which slot serves each live environment.
    assigned: BTreeMap<u64, usize>,
}

impl Pool {
    pub fn new(launch: Launch, max_processes: usize) -> Self {
        Pool { launch, max_processes: max_processes.max(1), slots: Vec::new(), assigned: BTreeMap::new() }
    }

    /// The slot of `environment`, assigning one to a new environment: a free slot, a new one
    /// under the cap, or else the slot serving the fewest environments (the lowest first).
    fn slot_of(&mut self, environment: u64) -> usize {
        if let Some(&slot) = self.assigned.get(&environment) {
            return slot;
        }
        let slot = match self.slots.iter().position(|s| s.environments == 0) {
            Some(free) => free,
            None if self.slots.len() < self.max_processes => {
                self.slots.push(Slot::default());
                self.slots.len() - 1
            }
            None => (0..self.slots.len()).min_by_key(|&i| (self.slots[i].environments, i)).expect("at least one slot"),
        };
        self.slots[slot].environments += 1;
        self.assigned.insert(environment, slot);
        slot
    }

    /// Runs one invocation on `environment`'s process, starting the process if needed.
    pub fn invoke(
        &mut self,
        environment: u64,
        request_id: &str,
        headers: &[(&str, String)],
        event: &str,
        wall_limit: Duration,
    ) -> Result<Answer, Fatal> {
        let slot = self.slot_of(environment);
        let runtime = match &mut self.slots[slot].runtime {
            Some(runtime) => runtime,
            none => none.insert(Runtime::start(&self.launch)?),
        };
        runtime.ready()?;
        let answer = runtime.invoke(request_id, headers, event, wall_limit)?;
        if matches!(answer, Answer::Exited(_) | Answer::Hung) {
            // Gone (a hung process was killed): the slot's next invocation starts a new one.
            self.slots[slot].runtime = None;
        }
        Ok(answer)
    }

    /// The environment expired or was destroyed; a process left serving none is stopped.
    pub fn environment_gone(&mut self, environment: u64) {
        let Some(slot) = self.assigned.remove(&environment) else { return };
        let s = &mut self.slots[slot];
        s.environments -= 1;
        if s.environments == 0 {
            s.runtime = None;
        }
    }

    /// Processes running now.
    pub fn running(&self) -> usize {
        self.slots.iter().filter(|s| s.runtime.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(max: usize) -> Pool {
        let launch = Launch { command: "true".into(), env: vec![], ready_limit: Duration::from_secs(1) };
        Pool::new(launch, max)
    }

    #[test]
    fn environments_get_their_own_slot_up_to_the_cap_then_share_the_least_loaded() {
        let mut p = pool(2);
        // 1 and 2 get slots 0 and 1; 3 shares slot 0 (both serve one; the lower wins), 4 slot 1.
        assert_eq!([1, 2, 3, 4].map(|e| p.slot_of(e)), [0, 1, 0, 1]);
        assert_eq!(p.slot_of(3), 0, "an environment keeps its slot");
        p.environment_gone(1);
        // Slot 0 still serves 3; slot 1 serves 2 and 4: the next environment goes to slot 0.
        assert_eq!(p.slot_of(5), 0);
        p.environment_gone(3);
        p.environment_gone(5);
        assert_eq!(p.slots[0].environments, 0);
        // A free slot is reused before sharing.
        assert_eq!(p.slot_of(6), 0);
        p.environment_gone(42); // unknown: ignored
        assert_eq!(p.running(), 0);
    }
}

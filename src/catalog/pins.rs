//! Table versions in use in this process: the version a statement or a
//! job's task read and will commit on top of. Maintenance keeps every
//! pinned version, so that removing old versions never pulls one from
//! under a running query or commit.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// How many readers hold each (table id, version).
type Held = BTreeMap<(u64, u64), usize>;

/// The pinned versions of the tables of one catalog.
#[derive(Debug, Default)]
pub struct Pins(Arc<Mutex<Held>>);

impl Pins {
    /// Pins `version` of table `table_id` until the pin is dropped.
    pub fn pin(&self, table_id: u64, version: u64) -> Pin {
        *self
            .0
            .lock()
            .expect("lock")
            .entry((table_id, version))
            .or_default() += 1;
        Pin {
            held: self.0.clone(),
            key: (table_id, version),
        }
    }

    /// The oldest pinned version of table `table_id`.
    pub fn oldest(&self, table_id: u64) -> Option<u64> {
        let held = self.0.lock().expect("lock");
        held.range((table_id, 0)..=(table_id, u64::MAX))
            .next()
            .map(|((_, version), _)| *version)
    }
}

/// A pinned table version; dropping it unpins it.
#[derive(Debug)]
pub struct Pin {
    held: Arc<Mutex<Held>>,
    key: (u64, u64),
}

impl Clone for Pin {
    fn clone(&self) -> Self {
        *self.held.lock().expect("lock").entry(self.key).or_default() += 1;
        Pin {
            held: self.held.clone(),
            key: self.key,
        }
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        let mut held = self.held.lock().expect("lock");
        if let Some(count) = held.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_pin_of_a_table_holds_until_dropped() {
        let pins = Pins::default();
        let a = pins.pin(1, 5);
        let b = pins.pin(1, 3);
        let c = b.clone();
        let _other = pins.pin(2, 1);
        assert_eq!(pins.oldest(1), Some(3));
        drop(b);
        assert_eq!(pins.oldest(1), Some(3));
        drop(c);
        assert_eq!(pins.oldest(1), Some(5));
        drop(a);
        assert_eq!(pins.oldest(1), None);
        assert_eq!(pins.oldest(2), Some(1));
    }
}

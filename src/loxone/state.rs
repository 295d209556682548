//! The live state cache: state UUID → last value and when it arrived.
//!
//! Why: the Miniserver's documented way to report state is the websocket event tables (CWM
//! "States"; HTTP reply values "are not fully implemented"). Every read tool reports a value
//! *with its age*, and every control result reads back the state that followed the command, so
//! the cache records the monotonic time of each update and lets a caller wait for the next one.
//!
//! One writer (the link thread) applies whole event tables under one lock; readers take
//! snapshots of the few states they need.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, RwLock};
use std::time::Duration;

use super::uuid::Uuid;
use crate::clock::Mono;

/// A state's value: value events carry numbers, text events carry text (often JSON).
#[derive(Clone, Debug, PartialEq)]
pub enum StateValue {
    Number(f64),
    Text(String),
}

impl StateValue {
    pub fn as_number(&self) -> Option<f64> {
        match self {
            StateValue::Number(n) => Some(*n),
            StateValue::Text(_) => None,
        }
    }
    pub fn as_text(&self) -> Option<&str> {
        match self {
            StateValue::Text(t) => Some(t),
            StateValue::Number(_) => None,
        }
    }
}

/// One cached state.
#[derive(Clone, Debug, PartialEq)]
pub struct StateEntry {
    pub value: StateValue,
    /// Monotonic time of the last update.
    pub updated: Mono,
    /// When this gateway saw the value replace a different one; `None` while the value is the
    /// first one seen since the cache was filled (the Miniserver does not say since when it
    /// holds). What "armed since 21:04" in a consent question rests on.
    pub changed: Option<Mono>,
}

/// Read access to live states, as the pure safety core sees it.
pub trait LiveStates {
    fn entry(&self, state: &Uuid) -> Option<StateEntry>;
    fn number(&self, state: &Uuid) -> Option<f64> {
        self.entry(state).and_then(|e| e.value.as_number())
    }
}

/// The shared cache.
#[derive(Debug, Default)]
pub struct StateCache {
    map: RwLock<HashMap<Uuid, StateEntry>>,
    generation: Mutex<u64>,
    changed: Condvar,
    edges: Mutex<Edges>,
}

/// Rising edges (0 → not 0) of number states, seen one event at a time: a push button pressed in
/// the Loxone app goes 1 and back to 0 within moments, so the latest value alone would lose the
/// press (the consent channel's approval input, `consent::house`). Only a rise from a 0 this
/// gateway saw since the last (re)connect counts: a 1 in the tables sent at connect says nothing
/// about when it was pressed.
#[derive(Debug, Default)]
struct Edges {
    /// Bumped at every reconnect and structure change.
    epoch: u64,
    /// The epoch in which each state's last value arrived.
    seen: HashMap<Uuid, u64>,
    /// When each state last rose.
    rose: HashMap<Uuid, Mono>,
}

impl StateCache {
    pub fn new() -> StateCache {
        StateCache::default()
    }

    /// Applies a batch of updates (one event table) and wakes waiters once.
    pub fn apply<I>(&self, updates: I, now: Mono)
    where
        I: IntoIterator<Item = (Uuid, StateValue)>,
    {
        {
            let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
            let mut edges = self.edges.lock().unwrap_or_else(|e| e.into_inner());
            let epoch = edges.epoch;
            for (uuid, value) in updates {
                let fresh = edges.seen.insert(uuid, epoch) == Some(epoch);
                let was_zero = map.get(&uuid).and_then(|o| o.value.as_number()) == Some(0.0);
                if fresh && was_zero && value.as_number().is_some_and(|n| n != 0.0) {
                    edges.rose.insert(uuid, now);
                }
                let changed = match map.get(&uuid) {
                    None => None,
                    Some(old) if old.value == value => old.changed,
                    Some(_) => Some(now),
                };
                map.insert(
                    uuid,
                    StateEntry {
                        value,
                        updated: now,
                        changed,
                    },
                );
            }
        }
        let mut g = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        *g += 1;
        self.changed.notify_all();
    }

    /// Forgets when values changed (at a reconnect, before the initial tables: what happened
    /// while the link was down is not known, even where a value reads the same again).
    pub fn forget_changes(&self) {
        self.edges.lock().unwrap_or_else(|e| e.into_inner()).epoch += 1;
        for e in self
            .map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .values_mut()
        {
            e.changed = None;
        }
    }

    /// Forgets everything (after a structure change or a reconnect before the initial tables).
    pub fn clear(&self) {
        self.map.write().unwrap_or_else(|e| e.into_inner()).clear();
        let mut edges = self.edges.lock().unwrap_or_else(|e| e.into_inner());
        edges.epoch += 1;
        edges.rose.clear();
    }

    /// When number state `uuid` last went from 0 to another value, as seen event by event since
    /// the last reconnect (see [`Edges`]).
    pub fn last_rise(&self, uuid: &Uuid) -> Option<Mono> {
        self.edges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .rose
            .get(uuid)
            .copied()
    }

    pub fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A counter that increases with every applied batch.
    pub fn generation(&self) -> u64 {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Blocks until a batch newer than `seen` arrives or `timeout` passes; returns the
    /// generation now current.
    pub fn wait_newer(&self, seen: u64, timeout: Duration) -> u64 {
        let g = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        let (g, _) = self
            .changed
            .wait_timeout_while(g, timeout, |g| *g <= seen)
            .unwrap_or_else(|e| e.into_inner());
        *g
    }
}

impl LiveStates for StateCache {
    fn entry(&self, state: &Uuid) -> Option<StateEntry> {
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(state)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(n: u8) -> Uuid {
        Uuid::from_bytes([n; 16])
    }

    #[test]
    fn updates_record_value_and_time() {
        let c = StateCache::new();
        c.apply([(u(1), StateValue::Number(0.5))], Mono(42));
        let e = c.entry(&u(1)).unwrap();
        assert_eq!(e.value, StateValue::Number(0.5));
        assert_eq!(e.updated, Mono(42));
        assert_eq!(c.number(&u(1)), Some(0.5));
        assert_eq!(c.number(&u(2)), None);
    }

    #[test]
    fn a_change_is_dated_only_when_a_different_value_replaces_a_known_one() {
        let c = StateCache::new();
        // The first value after (re)connecting: since when it holds is not known.
        c.apply([(u(1), StateValue::Number(0.0))], Mono(10));
        assert_eq!(c.entry(&u(1)).unwrap().changed, None);
        c.apply([(u(1), StateValue::Number(1.0))], Mono(20));
        assert_eq!(c.entry(&u(1)).unwrap().changed, Some(Mono(20)));
        // The same value again keeps the date of the change.
        c.apply([(u(1), StateValue::Number(1.0))], Mono(30));
        let e = c.entry(&u(1)).unwrap();
        assert_eq!((e.updated, e.changed), (Mono(30), Some(Mono(20))));
        // A reconnect: the value may have changed and changed back meanwhile.
        c.forget_changes();
        c.apply([(u(1), StateValue::Number(1.0))], Mono(35));
        assert_eq!(c.entry(&u(1)).unwrap().changed, None);
        c.clear();
        c.apply([(u(1), StateValue::Number(1.0))], Mono(40));
        assert_eq!(c.entry(&u(1)).unwrap().changed, None);
    }

    #[test]
    fn a_press_is_a_rise_seen_event_by_event_and_never_one_sent_at_connect() {
        let c = StateCache::new();
        // The value at connect: 1, but since when is not known.
        c.apply([(u(1), StateValue::Number(1.0))], Mono(10));
        assert_eq!(c.last_rise(&u(1)), None);
        c.apply([(u(1), StateValue::Number(0.0))], Mono(20));
        // A press in the app: 1 and back to 0 within one table still counts.
        c.apply(
            [
                (u(1), StateValue::Number(1.0)),
                (u(1), StateValue::Number(0.0)),
            ],
            Mono(30),
        );
        assert_eq!(c.last_rise(&u(1)), Some(Mono(30)));
        // A reconnect: a 0 before it and a 1 after it is not a press this gateway saw.
        c.forget_changes();
        c.apply([(u(1), StateValue::Number(1.0))], Mono(40));
        assert_eq!(c.last_rise(&u(1)), Some(Mono(30)));
        c.clear();
        assert_eq!(c.last_rise(&u(1)), None);
    }

    #[test]
    fn a_waiter_wakes_on_the_next_batch() {
        let c = std::sync::Arc::new(StateCache::new());
        let g0 = c.generation();
        let c2 = c.clone();
        let t = std::thread::spawn(move || c2.wait_newer(g0, Duration::from_secs(5)));
        c.apply([(u(3), StateValue::Text("x".into()))], Mono(1));
        assert!(t.join().unwrap() > g0);
    }
}

//! What a run learns on the way (a role, a backup, a new container ID), keyed
//! `KIND:INSTANCE`. Outcomes in the journal carry what their step learned, so a
//! resumed run starts knowing it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Mutex;

pub(crate) fn key(kind: &str, instance: &str) -> String {
    format!("{kind}:{instance}")
}

/// A backup that `backup store` made, as `restore store` needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRecord {
    /// `self`, `peer` or `none`.
    pub source: String,
    /// The container it was copied from.
    pub from: Option<String>,
    pub path: Option<String>,
    pub entries: u64,
    pub bytes: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Learned(Mutex<BTreeMap<String, String>>);

impl Learned {
    pub(crate) fn new(initial: BTreeMap<String, String>) -> Self {
        Learned(Mutex::new(initial))
    }

    pub(crate) fn get(&self, k: &str) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(k)
            .cloned()
    }

    pub(crate) fn extend(&self, more: &BTreeMap<String, String>) {
        let mut m = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (k, v) in more {
            m.insert(k.clone(), v.clone());
        }
    }
}

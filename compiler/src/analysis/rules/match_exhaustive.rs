//! E0306: a `match` that misses a value its subject can have on this path.
//! Guide §3.2: a broker is master or slave and the table has a row for each;
//! §4.1.3: a replication error is one of the two known kinds, or "anything else".

use super::{At, Finding};
use crate::analysis::state::{RoleKey, State};
use crate::codes::Code;
use crate::lower::{LoweredPlaybook, SUBJECTS};

pub(super) fn check(
    _pb: &LoweredPlaybook,
    id: &str,
    subject: &str,
    arms: &[Vec<String>],
    state: &State,
    out: &mut Vec<Finding>,
) {
    let Some((_, values)) = SUBJECTS.iter().find(|(s, _)| *s == subject) else {
        return;
    };
    // `_` covers everything; a value the subject never takes is E0112 already.
    if arms
        .iter()
        .flatten()
        .any(|p| p == "_" || !values.contains(&p.as_str()))
    {
        return;
    }
    // Inside `master => …` a nested `match role` need not handle `slave`.
    let possible: Vec<&str> = if subject == "role" && !state.by_role.contains_key(&RoleKey::Unknown)
    {
        state
            .by_role
            .keys()
            .filter_map(|k| match k {
                RoleKey::Known(r) => Some(r.word()),
                RoleKey::Unknown => None,
            })
            .collect()
    } else {
        values.to_vec()
    };
    let missing: Vec<String> = possible
        .iter()
        .filter(|v| !arms.iter().flatten().any(|p| p == *v))
        .map(|v| format!("`{v}`"))
        .collect();
    if !missing.is_empty() {
        let list = missing.join(", ");
        out.push(
            Finding::new(Code::E0306, At::Step(id.to_string()), format!("`match {subject}` does not handle {list}"), format!("{list} not handled"))
                .help(format!("add an arm for {list}, or `_ => escalate \"…\"` for the cases the guide does not cover")),
        );
    }
}

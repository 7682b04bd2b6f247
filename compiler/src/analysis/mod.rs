//! The safety analysis: each lowered playbook becomes a step graph
//! ([`graph::StepGraph`]), abstract states flow over it ([`dataflow`]) under the
//! actions' contracts ([`contracts`]), and the rules ([`rules`]) report what is
//! wrong on some path. See docs/checker.md for the lattice and the join.

pub mod contracts;
pub mod dataflow;
pub mod graph;
pub mod rules;
pub mod state;

use crate::diagnostic::Diagnostic;
use crate::lower::{LoweredPlaybook, SUBJECTS};
use crate::plan::Action;
use graph::StepGraph;
use rules::{At, Finding};

/// The step graph of a playbook.
pub fn step_graph(pb: &LoweredPlaybook) -> StepGraph {
    let values = |subject: &str| -> Vec<String> {
        SUBJECTS
            .iter()
            .find(|(s, _)| *s == subject)
            .map(|(_, v)| v.iter().map(|s| (*s).to_string()).collect())
            .unwrap_or_default()
    };
    StepGraph::build(&pb.plan.body, &values)
}

/// Every finding of the safety rules for one playbook.
pub fn check_playbook(pb: &LoweredPlaybook) -> Vec<Diagnostic> {
    let g = step_graph(pb);
    let mut findings = Vec::new();
    let flow = dataflow::run(pb, &g, &mut findings);
    rules::unreachable::check(&g, &flow, &mut findings);
    findings.into_iter().map(|f| to_diagnostic(pb, f)).collect()
}

fn to_diagnostic(pb: &LoweredPlaybook, f: Finding) -> Diagnostic {
    let place = |at: &At| match at {
        At::Step(id) => pb
            .origins
            .get(id)
            .map_or((pb.file, pb.header), |o| (o.file, o.span)),
        At::Header => (pb.file, pb.header),
    };
    let (mut file, mut span) = place(&f.at);
    let mut label = f.label;
    let mut inside = None;
    if file != pb.file
        && let At::Step(id) = &f.at
    {
        // A procedure from another file: the finding is about this playbook's use of
        // it, so it is shown at the call here, and the step itself is labelled there.
        let call = in_playbook_file(pb, id);
        if let Some(o) = pb.origins.get(&call).filter(|o| o.file == pb.file) {
            inside = Some((
                file,
                span,
                std::mem::replace(&mut label, "in this call".to_string()),
            ));
            (file, span) = (o.file, o.span);
        }
    }
    let mut d = Diagnostic::new(f.code, file, f.message).primary(span, label);
    if let Some((pf, ps, l)) = inside {
        d = d.secondary_in(pf, ps, l);
    }
    for (at, msg) in &f.secondary {
        // A step inside an inlined procedure is shown at its call in this file.
        let at = match at {
            At::Step(id) => At::Step(in_playbook_file(pb, id)),
            At::Header => At::Header,
        };
        let (sf, ss) = place(&at);
        if (sf, ss) != (file, span) {
            d = d.secondary_in(sf, ss, msg.clone());
        }
    }
    if file != pb.file {
        d = d.note(format!(
            "in a procedure inlined into `on {}({})` of {}",
            pb.plan.fault, pb.plan.component, pb.plan.file
        ));
    }
    if !f.help.is_empty() {
        d = d.help(f.help);
    }
    d
}

/// The id of `id` or of the closest enclosing step written in the playbook's file.
fn in_playbook_file(pb: &LoweredPlaybook, id: &str) -> String {
    let mut cur = id;
    loop {
        if pb.origins.get(cur).is_some_and(|o| o.file == pb.file) {
            return cur.to_string();
        }
        match cur.rfind('.') {
            Some(i) => cur = &cur[..i],
            None => return id.to_string(),
        }
    }
}

/// How a step is named in messages: `` `recreate` ``.
pub fn action_word(a: &Action) -> &'static str {
    match a {
        Action::ConfirmAlert => "`confirm alert`",
        Action::Ask { .. } => "`ask`",
        Action::Escalate { .. } => "`escalate`",
        Action::AcceptLoss { .. } => "`accept loss`",
        Action::LookupRole => "`lookup role`",
        Action::LookupName => "`lookup name`",
        Action::Backup { .. } => "`backup`",
        Action::Restore => "`restore store`",
        Action::Decommission => "`decommission`",
        Action::Recreate { .. } => "`recreate`",
        Action::Remove => "`remove`",
        Action::Start => "`start`",
        Action::Stop => "`stop`",
        Action::Restart => "`restart`",
        Action::Probe => "`probe`",
        Action::Verify { .. } => "`verify`",
        Action::WaitReplicaHealthy { .. } => "`wait replica_healthy`",
        Action::StartReplica => "`start replica`",
        Action::StopReplica => "`stop replica`",
        Action::SetExecMode { .. } => "`set exec_mode`",
        Action::SetParallelWorkers { .. } => "`set parallel_workers`",
        Action::SetReadOnly { .. } => "`set read_only`",
        Action::StartupMysql => "`startup mysql`",
        Action::ForcedSwitch => "`forced_switch`",
        Action::RestartDaemon { .. } => "`restart_daemon`",
        Action::Exec { .. } => "`exec`",
        Action::Wait { .. } => "`wait`",
    }
}

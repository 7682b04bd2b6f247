//! The fixpoint: states flow along the step graph in topological order (the graph
//! is acyclic, so one pass is the fixpoint), joined where paths merge, refined on
//! branch edges, and changed by each step's contract. Rules look at the state in
//! front of each step and at each exit.

use super::contracts;
use super::graph::{GEdge, GNode, StepGraph};
use super::rules::{self, Finding};
use super::state::{RoleName, State, flag};
use crate::lower::{LoweredPlaybook, SUBJECTS};
use crate::plan::{Condition, Target};
use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;

pub struct Flow {
    /// State in front of each node; empty = unreachable.
    pub before: Vec<State>,
    /// State after each node (for steps: after the step succeeded).
    pub after: Vec<State>,
}

/// Runs the analysis; findings go to `out`.
pub fn run(pb: &LoweredPlaybook, g: &StepGraph, out: &mut Vec<Finding>) -> Flow {
    let n = g.graph.node_count();
    let mut flow = Flow {
        before: vec![State::default(); n],
        after: vec![State::default(); n],
    };
    let order = petgraph::algo::toposort(&g.graph, None)
        .expect("the step graph is acyclic by construction");
    for node in order {
        let before = if node == g.entry {
            State::entry()
        } else if let GNode::ParJoin { fork } = &g.graph[node] {
            let branches: Vec<State> = g
                .graph
                .edges_directed(node, Direction::Incoming)
                .map(|e| edge_state(g, &flow, e.source(), e.weight()))
                .collect();
            State::parallel(&flow.after[fork.index()], &branches)
        } else {
            // The join of the incoming edges' states; the first is taken as it is
            // (joining it into the empty state would only copy it once more).
            let mut incoming = g.graph.edges_directed(node, Direction::Incoming);
            let mut s = incoming.next().map_or_else(State::default, |e| {
                edge_state(g, &flow, e.source(), e.weight())
            });
            for e in incoming {
                s.join(&edge_state(g, &flow, e.source(), e.weight()));
            }
            s
        };
        let after = transfer(pb, g, node, &before, out);
        flow.before[node.index()] = before;
        flow.after[node.index()] = after;
    }
    flow
}

/// The state carried by an edge out of `from`.
fn edge_state(g: &StepGraph, flow: &Flow, from: NodeIndex, edge: &GEdge) -> State {
    let after = &flow.after[from.index()];
    match edge {
        GEdge::Next | GEdge::Branch => after.clone(),
        // A step that failed may have done part of its work: before or after.
        GEdge::Fail => {
            let mut s = flow.before[from.index()].clone();
            s.join(after);
            s
        }
        GEdge::Arm(i) => match &g.graph[from] {
            GNode::Match {
                subject,
                arms,
                target,
                ..
            } => {
                // Arms are tried in order: an arm gets only what earlier arms left.
                let values = arm_values(subject, arms, *i);
                if values.is_empty() {
                    State::default()
                } else {
                    refine(after, subject, target, &values)
                }
            }
            _ => after.clone(),
        },
        GEdge::NoArm(rest) => match &g.graph[from] {
            GNode::Match {
                subject, target, ..
            } => refine(after, subject, target, rest),
            _ => after.clone(),
        },
        GEdge::WhenTrue | GEdge::WhenFalse => match &g.graph[from] {
            GNode::When {
                condition: Condition::Equals { subject, value },
                ..
            } if *edge == GEdge::WhenTrue => refine(
                after,
                subject,
                &Target::SelfNode,
                std::slice::from_ref(value),
            ),
            GNode::When {
                condition: Condition::Equals { subject, value },
                ..
            } if subject == "role" => {
                let others: Vec<String> = ["master", "slave"]
                    .iter()
                    .filter(|v| **v != value)
                    .map(|v| (*v).to_string())
                    .collect();
                refine(after, subject, &Target::SelfNode, &others)
            }
            _ => after.clone(),
        },
    }
}

/// The values arm `i` can match: its own, less those of the arms before it.
fn arm_values(subject: &str, arms: &[Vec<String>], i: usize) -> Vec<String> {
    let Some(all) = SUBJECTS
        .iter()
        .find(|(s, _)| *s == subject)
        .map(|(_, v)| v.iter().map(|x| (*x).to_string()).collect::<Vec<_>>())
    else {
        // An unknown subject is reported (E0112); every arm stays possible.
        return vec!["_".to_string()];
    };
    let known = |p: &String| p == "_" || all.contains(p);
    // A value the subject never takes is reported (E0112); such an arm is not
    // called unreachable on top of that.
    if arms[i].iter().any(|p| !known(p)) {
        return vec!["_".to_string()];
    }
    let earlier: Vec<&String> = arms[..i].iter().flatten().filter(|p| known(p)).collect();
    if earlier.iter().any(|p| *p == "_") {
        return Vec::new();
    }
    let own: Vec<String> = if arms[i].iter().any(|p| p == "_") {
        all
    } else {
        arms[i].clone()
    };
    own.into_iter().filter(|v| !earlier.contains(&v)).collect()
}

/// The state on the paths where `subject` (of `target`) is one of `values`.
fn refine(s: &State, subject: &str, target: &Target, values: &[String]) -> State {
    if values.iter().any(|v| v == "_") {
        return s.clone();
    }
    match (subject, target) {
        ("role", Target::SelfNode) => {
            let roles: Vec<RoleName> = values
                .iter()
                .filter_map(|v| match v.as_str() {
                    "master" => Some(RoleName::Master),
                    "slave" => Some(RoleName::Slave),
                    _ => None,
                })
                .collect();
            s.filter_roles(&roles)
        }
        ("peer_mode", _) => {
            let mut bits = 0;
            for v in values {
                bits |= match v.as_str() {
                    "ro" => flag::ON,
                    "rw" => flag::OFF,
                    _ => 0,
                };
            }
            let peer = match target {
                Target::Peer | Target::SelfNode => Target::Peer,
                other => other.clone(),
            };
            // `match peer_mode` reads the peer's flag afresh: whatever was known
            // before, each arm knows what it matched.
            let mut out = s.clone();
            out.each(|f| {
                let t = f.target_mut(&peer);
                t.read_only = bits;
            });
            out.by_role.retain(|_, f| f.target(&peer).read_only != 0);
            out
        }
        _ => s.clone(),
    }
}

fn transfer(
    pb: &LoweredPlaybook,
    g: &StepGraph,
    node: NodeIndex,
    before: &State,
    out: &mut Vec<Finding>,
) -> State {
    if before.is_unreachable() {
        return State::default();
    }
    match &g.graph[node] {
        GNode::Step {
            id, action, target, ..
        } => {
            rules::before_step(pb, id, action, target, before, out);
            contracts::apply(pb, id, action, target, before)
        }
        GNode::Match {
            id,
            subject,
            target,
            arms,
        } => {
            rules::before_match(pb, id, subject, target, arms, before, out);
            before.clone()
        }
        GNode::Exit(kind) => {
            rules::at_exit(pb, *kind, before, out);
            before.clone()
        }
        _ => before.clone(),
    }
}

//! E0303 (a step right after `escalate`) and E0305 (a step or `match` arm no path
//! reaches: every path before it escalated, or the arm's value is already ruled
//! out). Only the first node of an unreachable region is reported.

use super::{At, Finding};
use crate::analysis::dataflow::Flow;
use crate::analysis::graph::{GEdge, GNode, StepGraph};
use crate::codes::Code;
use petgraph::Direction;
use petgraph::visit::EdgeRef;

pub fn check(g: &StepGraph, flow: &Flow, out: &mut Vec<Finding>) {
    for node in g.graph.node_indices() {
        if !flow.before[node.index()].is_unreachable() {
            continue;
        }
        let incoming: Vec<_> = g.graph.edges_directed(node, Direction::Incoming).collect();
        // Reported where the cause is: no edge at all, or edges from reachable nodes
        // whose refinement ruled this one out. Nodes only fed by unreachable nodes
        // are part of a region already reported.
        let cause_here = incoming.is_empty()
            || incoming.iter().any(|e| {
                !flow.after[e.source().index()].is_unreachable()
                    || !flow.before[e.source().index()].is_unreachable()
            });
        if !cause_here {
            continue;
        }
        match &g.graph[node] {
            GNode::Step {
                id,
                after_escalate: Some(esc),
                ..
            } => out.push(
                Finding::new(
                    Code::E0303,
                    At::Step(id.clone()),
                    "step after `escalate` never runs",
                    "unreachable",
                )
                .also(At::Step(esc.clone()), "the run ends here")
                .help("`escalate` ends the run: remove the steps after it, or move them before it"),
            ),
            GNode::Step { id, .. }
            | GNode::Match { id, .. }
            | GNode::When { id, .. }
            | GNode::Each { id, .. } => {
                let arm = incoming
                    .iter()
                    .find_map(|e| match (e.weight(), &g.graph[e.source()]) {
                        (
                            GEdge::Arm(i),
                            GNode::Match {
                                id: mid,
                                subject,
                                arms,
                                ..
                            },
                        ) => Some((
                            format!("{mid}.{}", i + 1),
                            subject.clone(),
                            arms[*i].join(" | "),
                        )),
                        _ => None,
                    });
                let finding = match arm {
                    Some((arm_id, subject, values)) => Finding::new(
                        Code::E0305,
                        At::Step(arm_id),
                        format!("this arm is never taken: `{subject}` cannot be `{values}` here"),
                        "unreachable arm",
                    )
                    .help("an enclosing branch already decided it; remove the arm"),
                    None => Finding::new(
                        Code::E0305,
                        At::Step(id.clone()),
                        "no path reaches this step",
                        "unreachable",
                    )
                    .help("every path before it ends (`escalate`) or fails; remove it or move it"),
                };
                out.push(finding);
            }
            _ => {}
        }
    }
}

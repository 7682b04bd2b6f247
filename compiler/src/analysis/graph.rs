//! The step graph: a petgraph DAG of every step, branch, fan-out, parallel block and
//! failure edge of one playbook (procedures already inlined by lowering).
//!
//! Built with "pending edges": lowering a node returns the edges that leave it
//! normally, and the next node takes them as its in-edges. A step after `escalate`
//! receives none, which is how unreachable steps are found.

use crate::plan::{Action, Condition, Node, StepId, Target};
use petgraph::graph::{DiGraph, NodeIndex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    Success,
    Failure,
    Escalated,
}

#[derive(Debug, Clone)]
pub enum GNode {
    Entry,
    Exit(ExitKind),
    Step {
        id: StepId,
        action: Action,
        target: Target,
        /// Inside a `finally` block: its own failure is not followed (see docs/checker.md).
        cleanup: bool,
        /// The step right before it in its sequence was an `escalate`.
        after_escalate: Option<StepId>,
    },
    Match {
        id: StepId,
        subject: String,
        target: Target,
        /// The values each arm matches, `_` included.
        arms: Vec<Vec<String>>,
    },
    When {
        id: StepId,
        condition: Condition,
    },
    Each {
        id: StepId,
        var: String,
    },
    EachEnd {
        id: StepId,
    },
    Fork,
    /// Where parallel branches meet; `fork` is where they started.
    ParJoin {
        fork: NodeIndex,
    },
    /// Where failures inside a `try` body are caught.
    Catch,
    /// Merge point with no meaning of its own.
    Join,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GEdge {
    Next,
    /// Control after a step failed.
    Fail,
    /// A `match` arm: the arm's index.
    Arm(usize),
    /// No arm matched: the values left.
    NoArm(Vec<String>),
    WhenTrue,
    WhenFalse,
    /// A parallel branch or a fan-out body.
    Branch,
}

pub struct StepGraph {
    pub graph: DiGraph<GNode, GEdge>,
    pub entry: NodeIndex,
    pub success: NodeIndex,
    pub failure: NodeIndex,
    pub escalated: NodeIndex,
}

type Pending = Vec<(NodeIndex, GEdge)>;

struct Ctx {
    on_fail: NodeIndex,
    cleanup: bool,
}

impl StepGraph {
    pub fn build(body: &Node, subject_values: &dyn Fn(&str) -> Vec<String>) -> StepGraph {
        let mut graph = DiGraph::new();
        let entry = graph.add_node(GNode::Entry);
        let success = graph.add_node(GNode::Exit(ExitKind::Success));
        let failure = graph.add_node(GNode::Exit(ExitKind::Failure));
        let escalated = graph.add_node(GNode::Exit(ExitKind::Escalated));
        let mut g = StepGraph {
            graph,
            entry,
            success,
            failure,
            escalated,
        };
        let ctx = Ctx {
            on_fail: failure,
            cleanup: false,
        };
        let pending = g.node(body, vec![(entry, GEdge::Next)], &ctx, subject_values);
        g.connect(pending, success);
        g
    }

    fn connect(&mut self, pending: Pending, to: NodeIndex) {
        for (from, e) in pending {
            self.graph.add_edge(from, to, e);
        }
    }

    fn add(&mut self, node: GNode, pending: Pending) -> NodeIndex {
        let n = self.graph.add_node(node);
        self.connect(pending, n);
        n
    }

    fn node(
        &mut self,
        node: &Node,
        pending: Pending,
        ctx: &Ctx,
        sv: &dyn Fn(&str) -> Vec<String>,
    ) -> Pending {
        match node {
            Node::Seq(items) => {
                let mut pending = pending;
                let mut last_escalate: Option<StepId> = None;
                for item in items {
                    let escalate_before = if pending.is_empty() {
                        last_escalate.take()
                    } else {
                        None
                    };
                    pending = if let (Some(esc), Node::Step(s)) = (escalate_before, item) {
                        let n = self.add(
                            GNode::Step {
                                id: s.id.clone(),
                                action: s.action.clone(),
                                target: s.target.clone(),
                                cleanup: ctx.cleanup,
                                after_escalate: Some(esc),
                            },
                            Vec::new(),
                        );
                        self.step_edges(n, &s.action, ctx)
                    } else {
                        self.node(item, pending, ctx, sv)
                    };
                    if let Node::Step(s) = item
                        && matches!(s.action, Action::Escalate { .. })
                    {
                        last_escalate = Some(s.id.clone());
                    }
                }
                pending
            }
            Node::Par(branches) => {
                let fork = self.add(GNode::Fork, pending);
                let mut all = Vec::new();
                let mut any_dead = false;
                for b in branches {
                    let p = self.node(b, vec![(fork, GEdge::Branch)], ctx, sv);
                    any_dead |= p.is_empty();
                    all.extend(p);
                }
                let join = self.add(GNode::ParJoin { fork }, all);
                // If one branch never finishes normally, neither does the block.
                if any_dead {
                    Vec::new()
                } else {
                    vec![(join, GEdge::Next)]
                }
            }
            Node::Step(s) => {
                let n = self.add(
                    GNode::Step {
                        id: s.id.clone(),
                        action: s.action.clone(),
                        target: s.target.clone(),
                        cleanup: ctx.cleanup,
                        after_escalate: None,
                    },
                    pending,
                );
                self.step_edges(n, &s.action, ctx)
            }
            Node::Match {
                id,
                subject,
                target,
                arms,
            } => {
                let pats: Vec<Vec<String>> = arms.iter().map(|(p, _)| p.clone()).collect();
                let head = self.add(
                    GNode::Match {
                        id: id.clone(),
                        subject: subject.clone(),
                        target: target.clone(),
                        arms: pats.clone(),
                    },
                    pending,
                );
                let mut out = Vec::new();
                for (i, (_, body)) in arms.iter().enumerate() {
                    out.extend(self.node(body, vec![(head, GEdge::Arm(i))], ctx, sv));
                }
                if !pats.iter().flatten().any(|p| p == "_") {
                    let rest: Vec<String> = sv(subject)
                        .into_iter()
                        .filter(|v| !pats.iter().flatten().any(|p| p == v))
                        .collect();
                    if !rest.is_empty() {
                        // At run time no arm matching is a failure of the step.
                        self.graph.add_edge(head, ctx.on_fail, GEdge::NoArm(rest));
                    }
                }
                out
            }
            Node::When {
                id,
                condition,
                then,
                otherwise,
            } => {
                let head = self.add(
                    GNode::When {
                        id: id.clone(),
                        condition: condition.clone(),
                    },
                    pending,
                );
                let mut out = self.node(then, vec![(head, GEdge::WhenTrue)], ctx, sv);
                match otherwise {
                    Some(o) => out.extend(self.node(o, vec![(head, GEdge::WhenFalse)], ctx, sv)),
                    None => out.push((head, GEdge::WhenFalse)),
                }
                out
            }
            Node::Each { id, var, body, .. } => {
                let head = self.add(
                    GNode::Each {
                        id: id.clone(),
                        var: var.clone(),
                    },
                    pending,
                );
                let mut p = self.node(body, vec![(head, GEdge::Branch)], ctx, sv);
                // zero instances: the body may not run at all
                p.push((head, GEdge::Next));
                let end = self.add(GNode::EachEnd { id: id.clone() }, p);
                vec![(end, GEdge::Next)]
            }
            Node::Try {
                body,
                catch,
                finally,
            } => self.try_node(body, catch.as_deref(), finally.as_deref(), pending, ctx, sv),
        }
    }

    fn step_edges(&mut self, n: NodeIndex, action: &Action, ctx: &Ctx) -> Pending {
        match action {
            Action::Escalate { .. } => {
                self.graph.add_edge(n, self.escalated, GEdge::Next);
                Vec::new()
            }
            // Recording a decision cannot fail.
            Action::AcceptLoss { .. } => vec![(n, GEdge::Next)],
            _ => {
                if !ctx.cleanup {
                    self.graph.add_edge(n, ctx.on_fail, GEdge::Fail);
                }
                vec![(n, GEdge::Next)]
            }
        }
    }

    fn try_node(
        &mut self,
        body: &Node,
        catch: Option<&Node>,
        finally: Option<&Node>,
        pending: Pending,
        ctx: &Ctx,
        sv: &dyn Fn(&str) -> Vec<String>,
    ) -> Pending {
        let caught = self.graph.add_node(GNode::Catch);
        let inner = Ctx {
            on_fail: caught,
            cleanup: ctx.cleanup,
        };
        let mut normal = self.node(body, pending, &inner, sv);
        // Failures of the body, and of the catch block, that must run `finally`
        // before going on as failures.
        let failing = self.graph.add_node(GNode::Join);
        match catch {
            Some(c) => {
                let handler_ctx = Ctx {
                    on_fail: if finally.is_some() {
                        failing
                    } else {
                        ctx.on_fail
                    },
                    cleanup: ctx.cleanup,
                };
                normal.extend(self.node(c, vec![(caught, GEdge::Next)], &handler_ctx, sv));
            }
            None => {
                let target = if finally.is_some() {
                    failing
                } else {
                    ctx.on_fail
                };
                self.graph.add_edge(caught, target, GEdge::Fail);
            }
        }
        match finally {
            Some(f) => {
                let cleanup = Ctx {
                    on_fail: ctx.on_fail,
                    cleanup: true,
                };
                let out = self.node(f, normal, &cleanup, sv);
                let failed = self.node(f, vec![(failing, GEdge::Next)], &cleanup, sv);
                self.connect(
                    failed.into_iter().map(|(n, _)| (n, GEdge::Fail)).collect(),
                    ctx.on_fail,
                );
                out
            }
            None => normal,
        }
    }
}

//! `mend graph`: the step graph drawn as Graphviz DOT or Mermaid. Branches, parallel
//! blocks, failure edges (dashed), steps a person performs and destructive steps are
//! drawn distinctly. Pure: returns text.

use crate::analysis::graph::{ExitKind, GEdge, GNode, StepGraph};
use crate::analysis::step_graph;
use crate::lower::LoweredPlaybook;
use crate::plan::{Action, Node};
use petgraph::visit::EdgeRef;
use std::collections::HashMap;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

/// How a node looks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Look {
    Plain,
    Person,
    Destructive,
    Escalate,
    Branch,
    Exit,
    Point,
}

struct Drawn {
    label: String,
    look: Look,
}

fn texts(node: &Node, out: &mut HashMap<String, String>) {
    match node {
        Node::Seq(v) | Node::Par(v) => v.iter().for_each(|n| texts(n, out)),
        Node::Match { arms, .. } => arms.iter().for_each(|(_, n)| texts(n, out)),
        Node::When {
            then, otherwise, ..
        } => {
            texts(then, out);
            if let Some(o) = otherwise {
                texts(o, out);
            }
        }
        Node::Each { body, .. } => texts(body, out),
        Node::Try {
            body,
            catch,
            finally,
        } => {
            texts(body, out);
            for b in [catch, finally].into_iter().flatten() {
                texts(b, out);
            }
        }
        Node::Step(s) => {
            out.insert(s.id.clone(), s.text.clone());
        }
    }
}

fn describe(g: &StepGraph, n: petgraph::graph::NodeIndex, text: &HashMap<String, String>) -> Drawn {
    match &g.graph[n] {
        GNode::Entry => Drawn {
            label: "start".into(),
            look: Look::Exit,
        },
        GNode::Exit(ExitKind::Success) => Drawn {
            label: "succeeded".into(),
            look: Look::Exit,
        },
        GNode::Exit(ExitKind::Failure) => Drawn {
            label: "failed".into(),
            look: Look::Exit,
        },
        GNode::Exit(ExitKind::Escalated) => Drawn {
            label: "escalated".into(),
            look: Look::Exit,
        },
        GNode::Step { id, action, .. } => {
            let full = text.get(id).cloned().unwrap_or_default();
            // Long `ask`/`escalate` texts would swamp the picture.
            let label = if full.chars().count() > 64 {
                format!("{}…", full.chars().take(63).collect::<String>())
            } else {
                full
            };
            let look = if matches!(action, Action::Escalate { .. }) {
                Look::Escalate
            } else if action.is_destructive() || matches!(action, Action::AcceptLoss { .. }) {
                Look::Destructive
            } else if action.needs_person() {
                Look::Person
            } else {
                Look::Plain
            };
            Drawn { label, look }
        }
        GNode::Match { subject, .. } => Drawn {
            label: format!("match {subject}"),
            look: Look::Branch,
        },
        GNode::When { condition, .. } => {
            let c = match condition {
                crate::plan::Condition::Equals { subject, value } => {
                    format!("{subject} == {value}")
                }
                crate::plan::Condition::Predicate { name, argument } => {
                    format!("{name}({argument})")
                }
                crate::plan::Condition::Flag(f) => f.clone(),
            };
            Drawn {
                label: format!("when {c}"),
                look: Look::Branch,
            }
        }
        GNode::Each { var, .. } => Drawn {
            label: format!("each {var}"),
            look: Look::Branch,
        },
        GNode::EachEnd { .. } => Drawn {
            label: "all done".into(),
            look: Look::Point,
        },
        GNode::Fork => Drawn {
            label: "parallel".into(),
            look: Look::Point,
        },
        GNode::ParJoin { .. } => Drawn {
            label: "all done".into(),
            look: Look::Point,
        },
        GNode::Catch => Drawn {
            label: "on failure".into(),
            look: Look::Point,
        },
        GNode::Join => Drawn {
            label: String::new(),
            look: Look::Point,
        },
    }
}

fn edge_label(g: &StepGraph, e: &GEdge, from: petgraph::graph::NodeIndex) -> (String, bool) {
    match e {
        GEdge::Next => (String::new(), false),
        GEdge::Fail => ("fail".into(), true),
        GEdge::Arm(i) => match &g.graph[from] {
            GNode::Match { arms, .. } => (arms[*i].join(" | "), false),
            _ => (String::new(), false),
        },
        GEdge::NoArm(rest) => (format!("no arm: {}", rest.join(" | ")), true),
        GEdge::WhenTrue => ("yes".into(), false),
        GEdge::WhenFalse => ("no".into(), false),
        GEdge::Branch => ("∥".into(), false),
    }
}

/// Draws the playbooks, each in its own cluster.
pub fn render(playbooks: &[&LoweredPlaybook], format: GraphFormat) -> String {
    let mut out = String::new();
    match format {
        GraphFormat::Dot => {
            out.push_str("digraph mend {\n  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=10];\n");
        }
        GraphFormat::Mermaid => out.push_str("flowchart TD\n"),
    }
    for (p, pb) in playbooks.iter().enumerate() {
        let g = step_graph(pb);
        let mut text = HashMap::new();
        texts(&pb.plan.body, &mut text);
        let title = format!("on {}({})", pb.plan.fault, pb.plan.component);
        match format {
            GraphFormat::Dot => draw_dot(&mut out, p, &title, &g, &text),
            GraphFormat::Mermaid => draw_mermaid(&mut out, p, &title, &g, &text),
        }
    }
    match format {
        GraphFormat::Dot => out.push_str("}\n"),
        GraphFormat::Mermaid => {
            out.push_str("  classDef destructive fill:#fde2e1,stroke:#c0392b,stroke-width:2px;\n");
            out.push_str("  classDef person fill:#e3f0fd,stroke:#2867b2;\n");
            out.push_str("  classDef escalate fill:#fff3cd,stroke:#b8860b,stroke-width:2px;\n");
            out.push_str("  classDef exit fill:#eeeeee,stroke:#555555;\n");
        }
    }
    out
}

/// An exit no path leads to (a playbook that never escalates) is not drawn.
fn unused_exit(g: &StepGraph, n: petgraph::graph::NodeIndex) -> bool {
    matches!(g.graph[n], GNode::Exit(_)) && g.graph.neighbors_undirected(n).next().is_none()
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn draw_dot(
    out: &mut String,
    p: usize,
    title: &str,
    g: &StepGraph,
    text: &HashMap<String, String>,
) {
    let _ = writeln!(
        out,
        "  subgraph cluster_{p} {{\n    label=\"{}\";\n    fontname=\"Helvetica\";",
        dot_escape(title)
    );
    for n in g.graph.node_indices() {
        if unused_exit(g, n) {
            continue;
        }
        let d = describe(g, n, text);
        let attrs = match d.look {
            Look::Plain => String::new(),
            Look::Person => ", shape=parallelogram, style=filled, fillcolor=\"#e3f0fd\", color=\"#2867b2\"".into(),
            Look::Destructive => ", style=\"rounded,filled,bold\", fillcolor=\"#fde2e1\", color=\"#c0392b\"".into(),
            Look::Escalate => ", shape=octagon, style=filled, fillcolor=\"#fff3cd\", color=\"#b8860b\"".into(),
            Look::Branch => ", shape=diamond, style=\"\"".into(),
            Look::Exit => ", shape=oval, style=filled, fillcolor=\"#eeeeee\"".into(),
            Look::Point => ", shape=circle, width=0.15, style=filled, fillcolor=\"#999999\", fixedsize=true, label=\"\"".into(),
        };
        let _ = writeln!(
            out,
            "    p{p}n{} [label=\"{}\"{attrs}];",
            n.index(),
            dot_escape(&d.label)
        );
    }
    for e in g.graph.edge_references() {
        let (label, fail) = edge_label(g, e.weight(), e.source());
        let mut attrs = Vec::new();
        if !label.is_empty() {
            attrs.push(format!("label=\"{}\"", dot_escape(&label)));
        }
        if fail {
            attrs.push("style=dashed, color=\"#c0392b\"".into());
        }
        let a = if attrs.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attrs.join(", "))
        };
        let _ = writeln!(
            out,
            "    p{p}n{} -> p{p}n{}{a};",
            e.source().index(),
            e.target().index()
        );
    }
    out.push_str("  }\n");
}

fn mermaid_escape(s: &str) -> String {
    s.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

fn draw_mermaid(
    out: &mut String,
    p: usize,
    title: &str,
    g: &StepGraph,
    text: &HashMap<String, String>,
) {
    let _ = writeln!(out, "  subgraph p{p} [\"{}\"]", mermaid_escape(title));
    for n in g.graph.node_indices() {
        if unused_exit(g, n) {
            continue;
        }
        let d = describe(g, n, text);
        let l = mermaid_escape(&d.label);
        let id = format!("p{p}n{}", n.index());
        let (shape, class) = match d.look {
            Look::Plain => (format!("{id}[\"{l}\"]"), None),
            Look::Person => (format!("{id}[/\"{l}\"/]"), Some("person")),
            Look::Destructive => (format!("{id}[\"{l}\"]"), Some("destructive")),
            Look::Escalate => (format!("{id}{{{{\"{l}\"}}}}"), Some("escalate")),
            Look::Branch => (format!("{id}{{\"{l}\"}}"), None),
            Look::Exit => (format!("{id}([\"{l}\"])"), Some("exit")),
            Look::Point => (format!("{id}((\" \"))"), None),
        };
        let _ = writeln!(out, "    {shape}");
        if let Some(c) = class {
            let _ = writeln!(out, "    class {id} {c}");
        }
    }
    for e in g.graph.edge_references() {
        let (label, fail) = edge_label(g, e.weight(), e.source());
        let arrow = if fail { "-.->" } else { "-->" };
        let l = if label.is_empty() {
            String::new()
        } else {
            format!("|\"{}\"|", mermaid_escape(&label))
        };
        let _ = writeln!(
            out,
            "    p{p}n{} {arrow}{l} p{p}n{}",
            e.source().index(),
            e.target().index()
        );
    }
    out.push_str("  end\n");
}

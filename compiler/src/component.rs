//! A component declaration, checked and turned into the runtime's [`ComponentSpec`].

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::plan::{ComponentSpec, DatabaseClass, Engine, Probe, Role, RoleSource};
use crate::source::FileId;
use crate::suggest::did_you_mean;
use mend_grammar::ast::{Component, Ident, PropertyKind};
use mend_grammar::keywords::PROPERTIES;

/// Reads a component's properties; problems go to `diags` as E0109.
pub fn component_spec(c: &Component, file: FileId, diags: &mut Vec<Diagnostic>) -> ComponentSpec {
    let mut spec = ComponentSpec {
        name: c.name.name.clone(),
        stateful: false,
        selectors: Vec::new(),
        store: None,
        fixed_ip: false,
        role: RoleSource::None,
        engine: Engine::Docker,
        database: None,
        probe: Probe::None,
        expect: None,
    };
    let bad = |diags: &mut Vec<Diagnostic>, id: &Ident, what: &str, allowed: &[&str]| {
        let help = did_you_mean(&id.name, allowed.iter().copied()).unwrap_or_else(|| {
            format!(
                "write one of {}",
                allowed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        diags.push(
            Diagnostic::new(
                Code::E0109,
                file,
                format!("`{}` is not a valid {what}", id.name),
            )
            .primary(id.span, format!("expected {}", allowed.join(" or ")))
            .help(help),
        );
    };
    for p in &c.properties {
        match &p.kind {
            PropertyKind::Kind(k) => match k.name.as_str() {
                "stateful" => spec.stateful = true,
                "stateless" => spec.stateful = false,
                _ => bad(diags, k, "component kind", &["stateful", "stateless"]),
            },
            PropertyKind::Select { key, value } => spec
                .selectors
                .push((key.value.clone(), value.value.clone())),
            PropertyKind::Store(s) => spec.store = Some(s.value.clone()),
            PropertyKind::Ip(i) => match i.name.as_str() {
                "fixed" => spec.fixed_ip = true,
                "dynamic" => spec.fixed_ip = false,
                _ => bad(diags, i, "ip mode", &["fixed", "dynamic"]),
            },
            PropertyKind::RoleZk { path, field, map } => {
                let mut entries = Vec::new();
                for (n, r) in map {
                    match r.name.as_str() {
                        "master" => entries.push((n.value as i64, Role::Master)),
                        "slave" => entries.push((n.value as i64, Role::Slave)),
                        _ => bad(diags, r, "role", &["master", "slave"]),
                    }
                }
                spec.role = RoleSource::Zk {
                    path: path.value.clone(),
                    field: field.name.clone(),
                    map: entries,
                };
            }
            PropertyKind::Role(r) => match r.name.as_str() {
                "read_only" => spec.role = RoleSource::ReadOnly,
                "metadb" => spec.role = RoleSource::MetaDb,
                "none" => spec.role = RoleSource::None,
                _ => bad(
                    diags,
                    r,
                    "role source",
                    &["zk", "read_only", "metadb", "none"],
                ),
            },
            PropertyKind::Engine(e) => match e.name.as_str() {
                "docker" => spec.engine = Engine::Docker,
                "mysql" => spec.engine = Engine::Mysql,
                "host" => spec.engine = Engine::Host,
                _ => bad(diags, e, "engine", &["docker", "mysql", "host"]),
            },
            PropertyKind::Database(d) => match d.name.as_str() {
                "business" => spec.database = Some(DatabaseClass::Business),
                "control" => spec.database = Some(DatabaseClass::Control),
                _ => bad(diags, d, "database class", &["business", "control"]),
            },
            PropertyKind::ProbeLabel(l) => spec.probe = Probe::Label(l.value.clone()),
            PropertyKind::ProbeCommand(cmd) => spec.probe = Probe::Command(cmd.value.clone()),
            PropertyKind::Expect(e) => spec.expect = Some(e.value.clone()),
            PropertyKind::Unknown(w) => {
                let help = did_you_mean(
                    &w.name,
                    PROPERTIES.iter().copied().filter(|p| *p != "label"),
                )
                .unwrap_or_else(|| "the properties are listed in docs/language.md".into());
                diags.push(
                    Diagnostic::new(Code::E0109, file, format!("unknown property `{}`", w.name))
                        .primary(w.span, "not a component property")
                        .help(help),
                );
            }
        }
    }
    if spec.stateful && spec.store.is_none() {
        diags.push(
            Diagnostic::new(Code::E0109, file, format!("stateful component `{}` declares no `store`", spec.name))
                .primary(c.name.span, "stateful, but where is its data?")
                .help("add `store \"/path/of/the/data\"` so the checker can demand a backup before `recreate`"),
        );
    }
    spec
}

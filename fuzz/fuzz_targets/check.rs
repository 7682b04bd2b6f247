//! `mend_compiler::check` on one in-memory file never panics. The file is
//! `input.mend` in a `MemoryProvider` that also holds a small `components.mend` and
//! `common.mend` (also under the paths the fixtures use,
//! `../../../stdlib-playbooks/…`), so the imports of the seed corpus resolve and
//! inputs reach lowering and the analysis, not only the parser.
//!
//! Besides not panicking, what `check` returns must be usable by the CLI: every label
//! lies inside its file on character boundaries, and every diagnostic can be drawn
//! (`short` for all of them, the full `render` for the first two, as
//! tests/it/robustness.rs does).

#![no_main]

mod harness;

use libfuzzer_sys::fuzz_target;
use mend_compiler::render::{Style, render, short};
use mend_compiler::{MemoryProvider, SourceFile, check};
use std::sync::OnceLock;

const COMPONENTS: &str = r#"
component dbnode {
  kind stateful
  store "/u01"
  ip fixed
  role metadb
  engine mysql
  database business
  expect "Slave_IO_Running and Slave_SQL_Running both Yes"
}

component mq_broker {
  kind stateful
  select label "ark.component" = "mq-broker"
  store "/home/admin/store"
  ip fixed
  role zk "/MQFailover/StateMachine/{cluster}/{broker}" brokerId { 0 => master, 1 => slave }
  probe label "aliyun.probe.cmd"
  engine docker
  expect "mqadmin clusterList lists the broker with this IP"
}

component csb_broker {
  kind stateless
  select label "ark.component" = "csb-broker"
  ip fixed
  probe label "aliyun.probe.cmd"
  engine docker
  expect "the alert clears"
}

component ark_metadb {
  kind stateful
  select label "ark.component" = "ark-metadb"
  store "/u01/my3306"
  ip fixed
  role read_only
  probe label "aliyun.probe.cmd"
  engine mysql
  database control
  expect "exactly one of the pair is [RW]"
}

component stateless_container {
  kind stateless
  ip fixed
  probe label "aliyun.probe.cmd"
  engine docker
  expect "Butler shows it green"
}
"#;

const COMMON: &str = r#"
procedure health_check(c) <
  probe
>

procedure wait_docker() <
  try <
    ask "does `sudo service docker status` say running?"
  > catch <
    restart_daemon docker
  >
>
"#;

const INPUT: &str = "input.mend";

fn library() -> &'static MemoryProvider {
    static LIB: OnceLock<MemoryProvider> = OnceLock::new();
    LIB.get_or_init(|| {
        MemoryProvider::default()
            .with("components.mend", COMPONENTS)
            .with("common.mend", COMMON)
            .with("../../../stdlib-playbooks/components.mend", COMPONENTS)
            .with("../../../stdlib-playbooks/common.mend", COMMON)
    })
}

const STYLE: Style = Style {
    color: false,
    width: 80,
};

fuzz_target!(init: harness::report_stack_overflows(), |data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The file can import itself: it sees its own text, as on disk.
    let provider = library().clone().with(INPUT, text);
    let c = check(vec![SourceFile::new(INPUT, text)], &provider);
    for d in &c.diagnostics {
        for l in &d.labels {
            let t = &c.sources.get(l.file).text;
            assert!(
                l.span.start <= l.span.end
                    && l.span.end <= t.len()
                    && t.is_char_boundary(l.span.start)
                    && t.is_char_boundary(l.span.end),
                "{}: label `{}` at {}..{} is outside its file or inside a character",
                d.code,
                l.message,
                l.span.start,
                l.span.end
            );
        }
        let _ = short(d, &c.sources);
    }
    for d in c.diagnostics.iter().take(2) {
        let _ = render(d, &c.sources, STYLE);
    }
});

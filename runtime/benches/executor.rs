//! Executor overhead with the in-memory fake driver (no timed asserts: it prints).
//!
//! `cargo bench -p mend-runtime --bench executor`
//!
//! - per step, sequential: a `Seq` of N steps, each journaled (intent + outcome);
//!   reads are not flushed, changes are `fdatasync`ed before and after;
//! - 1,000 independent steps: a `Par` of 1,000 changing steps (group commit shares
//!   the flushes), at `--concurrency 8` and unbounded.
//!
//! Targets (issue 5): under 1 ms per step; 1,000 independent steps in under 100 ms.

use mend_compiler::plan::{
    Action, CheckedPlaybook, ComponentSpec, Engine, Node, Probe, RoleSource, Step, Target,
};
use mend_runtime::driver::fake::FakeWorld;
use mend_runtime::{Inventory, Outcome, RunOptions, Runtime};
use std::time::{Duration, Instant};

fn step(i: usize, action: Action) -> Node {
    Node::Step(Step {
        id: i.to_string(),
        action,
        target: Target::SelfNode,
        timeout: Duration::from_secs(10),
        retry: 0,
        text: "bench".into(),
        line: 1,
    })
}

fn playbook(body: Node) -> CheckedPlaybook {
    CheckedPlaybook {
        fault: "software_fault".into(),
        component: "app".into(),
        components: vec![ComponentSpec {
            name: "app".into(),
            stateful: false,
            selectors: vec![("ark.component".into(), "app".into())],
            store: None,
            fixed_ip: true,
            role: RoleSource::None,
            engine: Engine::Docker,
            database: None,
            probe: Probe::None,
            expect: None,
        }],
        body,
        file: "bench.mend".into(),
    }
}

async fn time_run(dir: &std::path::Path, name: &str, body: Node, steps: usize, concurrency: usize) {
    let w = FakeWorld::new();
    w.add_container("app-1", "10.0.0.1", &[("ark.component", "app")]);
    w.set_recording(false);
    let state = dir.join(format!("mend-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let mut opts = RunOptions::new(&state);
    opts.concurrency = concurrency;
    let rt = Runtime::new(Inventory::default(), w.drivers(), opts);
    let pb = playbook(body);
    // One warm-up run (page cache, allocator), then the measured ones.
    let mut best = Duration::MAX;
    for _ in 0..4 {
        let t = Instant::now();
        let s = rt.run(&pb, "app-1").await.expect("run");
        let e = t.elapsed();
        assert_eq!(s.outcome, Outcome::Succeeded);
        assert_eq!(s.steps.len(), steps);
        best = best.min(e);
    }
    let per = best.as_secs_f64() * 1e6 / steps as f64;
    println!(
        "{name:<58} {steps:>5} steps  {:>9.2} ms total  {per:>8.1} µs/step",
        best.as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_dir_all(&state);
}

#[tokio::main]
async fn main() {
    const N: usize = 1000;
    let wait0 = || Action::Wait {
        duration: Duration::ZERO,
    };
    let shm = std::path::Path::new("/dev/shm");
    let disk = std::env::temp_dir();
    let mut dirs = vec![(disk.as_path(), "disk")];
    if shm.is_dir() {
        dirs.insert(0, (shm, "tmpfs: executor overhead, flushes cost ~nothing"));
    }
    for (dir, what) in dirs {
        println!("\njournal in {} ({what}):", dir.display());
        time_run(
            dir,
            "sequential reads (journaled, not flushed)",
            Node::Seq((0..N).map(|i| step(i, wait0())).collect()),
            N,
            8,
        )
        .await;
        time_run(
            dir,
            "sequential changes (one fdatasync per step)",
            Node::Seq((0..N).map(|i| step(i, Action::Start)).collect()),
            N,
            8,
        )
        .await;
        time_run(
            dir,
            "1,000 independent changes, --concurrency 8",
            Node::Par((0..N).map(|i| step(i, Action::Start)).collect()),
            N,
            8,
        )
        .await;
        time_run(
            dir,
            "1,000 independent changes, --concurrency 1000",
            Node::Par((0..N).map(|i| step(i, Action::Start)).collect()),
            N,
            1000,
        )
        .await;
        time_run(
            dir,
            "1,000 independent reads, --concurrency 1000",
            Node::Par((0..N).map(|i| step(i, wait0())).collect()),
            N,
            1000,
        )
        .await;
    }
}

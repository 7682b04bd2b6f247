//! The mend compiler: pure, no IO, no async. Source text in, diagnostics and a
//! checked plan out. See ARCHITECTURE.md for the pipeline.

pub mod plan;

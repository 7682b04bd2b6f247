//! The mend compiler: pure, no IO, no async. Source text in, diagnostics and a
//! checked plan out. See ARCHITECTURE.md for the pipeline.

pub mod actions;
pub mod analysis;
pub mod check;
pub mod codes;
pub mod component;
pub mod diagnostic;
pub mod fmt;
pub mod graph_render;
pub mod lower;
pub mod parallel;
pub mod plan;
pub mod program;
pub mod render;
pub mod repository;
pub mod source;
pub mod suggest;

pub use check::{CheckOptions, Compilation, check, check_with};
pub use codes::{CODES, Code, Severity};
pub use diagnostic::Diagnostic;
pub use source::{FileId, MemoryProvider, SourceFile, SourceMap, SourceProvider};

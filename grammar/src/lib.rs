//! The pest grammar of mend and its lowering to an AST with byte spans.
//! pest types never leave this crate.

pub mod keywords;

//! The pest grammar of mend and its lowering to an AST with byte spans.
//! pest types never leave this crate: the rest of mend sees [`ast`] and
//! [`SyntaxError`] only.

pub mod ast;
pub mod keywords;
mod parser;
mod syntax_error;

pub use parser::{MAX_NESTING, Parsed, parse};
pub use syntax_error::{SyntaxError, SyntaxErrorKind};

//! The formatter (`mend_compiler::fmt::format`), on arbitrary UTF-8:
//! - never panics;
//! - never reports `FmtError::Unstable` (its own docs: "a bug in the formatter, never
//!   the file's fault");
//! - when it returns text, formatting that text again returns the same text
//!   (idempotent), and the text parses, without errors, to the same tree as the input
//!   once spans are cleared (`fmt::same_tree`, public), and keeps the comments
//!   (`fmt::comment_texts`, public) in the same order.
//!
//! Input the formatter refuses with `FmtError::Syntax` is fine (it does not parse).

#![no_main]

mod harness;

use libfuzzer_sys::fuzz_target;
use mend_compiler::fmt::{FmtError, comment_texts, format, same_tree};
use mend_grammar::parse;

fuzz_target!(init: harness::report_stack_overflows(), |data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let out = match format(text) {
        Ok(out) => out,
        Err(FmtError::Syntax(_)) => return,
        Err(FmtError::Unstable(why)) => panic!("the formatter is unstable: {why}"),
    };

    // Same tree, spans aside.
    let before = parse(text);
    let after = parse(&out);
    assert!(
        after.errors.is_empty(),
        "the formatted text has syntax errors: {:?}\n--- formatted ---\n{out}",
        after.errors
    );
    let (Some(a), Some(b)) = (before.file, after.file) else {
        panic!("format returned Ok but a side has no tree\n--- formatted ---\n{out}");
    };
    assert!(
        same_tree(&a, &b),
        "the formatted text parses to a different tree\n--- formatted ---\n{out}"
    );

    // Same comments, in order.
    assert_eq!(
        comment_texts(text),
        comment_texts(&out),
        "the formatted text lost or reordered a comment\n--- formatted ---\n{out}"
    );

    // Idempotent.
    match format(&out) {
        Ok(again) => assert_eq!(
            again, out,
            "formatting is not idempotent\n--- once ---\n{out}\n--- twice ---\n{again}"
        ),
        Err(e) => panic!("the formatted text cannot be formatted again: {e:?}\n--- formatted ---\n{out}"),
    }
});

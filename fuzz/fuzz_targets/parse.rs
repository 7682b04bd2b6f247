//! `mend_grammar::parse` on arbitrary UTF-8 never panics, and what it reports is
//! well formed: every error span lies inside the text on character boundaries.
//! (Non-UTF-8 input is skipped: the CLI refuses such a file before parsing.)

#![no_main]

mod harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: harness::report_stack_overflows(), |data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = mend_grammar::parse(text);
    for e in &parsed.errors {
        assert!(
            e.span.start <= e.span.end
                && e.span.end <= text.len()
                && text.is_char_boundary(e.span.start)
                && text.is_char_boundary(e.span.end),
            "syntax error `{}` at {}..{} is outside the text or inside a character",
            e.message,
            e.span.start,
            e.span.end
        );
    }
});

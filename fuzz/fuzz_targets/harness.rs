//! What the three targets share: stack overflows reported as crashes.
//!
//! Without a sanitizer (`scripts/fuzz` builds with `-s none`), a stack overflow
//! would kill the fuzzer with no report and no crash file: libFuzzer's `main` runs
//! instead of Rust's, so Rust's guard handler is never installed, and libFuzzer's
//! SIGSEGV handler then runs on the exhausted stack and faults again. Here SIGSEGV
//! gets an alternate stack and a handler that says so and aborts; libFuzzer takes
//! the SIGABRT as a crash ("deadly signal") and writes the input to a crash file.
//! (With `-s address` ASan does the same on its own; this is then a no-op, since
//! libFuzzer calls the handler installed first, ASan's, through its own.)
//!
//! Safe Rust faults only on stack exhaustion, so the message blames the stack.

use std::sync::Once;

const ALT_STACK: usize = 1 << 20;

/// Installs the handler; from the targets' `init`, which libFuzzer runs before it
/// installs its own handlers (it keeps ours as the "upstream" SIGSEGV handler).
pub fn report_stack_overflows() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: plain libc calls on memory we own for the life of the process;
        // the handler only calls async-signal-safe functions (`write`, `abort`).
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGSEGV, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction != libc::SIG_DFL
            {
                return; // a sanitizer's handler is there already
            }
            let stack = libc::mmap(
                std::ptr::null_mut(),
                ALT_STACK,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if stack == libc::MAP_FAILED {
                return;
            }
            let ss = libc::stack_t {
                ss_sp: stack,
                ss_flags: 0,
                ss_size: ALT_STACK,
            };
            if libc::sigaltstack(&ss, std::ptr::null_mut()) != 0 {
                return;
            }
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_segv as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGSEGV, &sa, std::ptr::null_mut());
        }
    });
}

extern "C" fn on_segv(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    const MSG: &[u8] =
        b"\nthread 'main' has overflowed its stack (SIGSEGV, caught by fuzz/fuzz_targets/harness.rs)\n";
    // SAFETY: async-signal-safe calls only.
    unsafe {
        libc::write(2, MSG.as_ptr().cast(), MSG.len());
        libc::abort();
    }
}

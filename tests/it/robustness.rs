//! No input may make `check` panic or hang (ARCHITECTURE.md: parsing never panics).
//!
//! A small deterministic fuzzer: every fixture and stdlib file is mutated (tokens
//! deleted, duplicated, swapped or replaced; bytes cut at character boundaries;
//! punctuation inserted; the text truncated), and random strings are drawn from the
//! language's alphabet. Each input goes through `mend_compiler::check` in memory and
//! its diagnostics are drawn; a panic is caught and reported with the input that
//! caused it. The seed is fixed, so a failure reproduces; `MEND_FUZZ_SEED` and
//! `MEND_FUZZ_ROUNDS` explore further.

use crate::support::{STYLE, mend_files, read};
use mend_compiler::render::{render, short};
use mend_compiler::{Code, Compilation, MemoryProvider, SourceFile, check};
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

/// Mutated inputs per run, and random ones: 7,000 inputs, about 8 s in a debug build on
/// 2 cores (most of it drawing diagnostics), so the test stays well under 20 s.
const MUTATED: usize = 5_000;
const RANDOM: usize = 2_000;

/// xorshift64*: tiny, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn token(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }
}

/// Words of the language, and a few it does not have.
const WORDS: &str = "
    import component procedure on match when else each limit try catch finally call ask
    escalate accept loss secret timeout retry within allow
    kind stateful stateless select label store ip fixed dynamic role zk read_only metadb
    engine docker mysql database business control probe expect
    software_fault host_down hardware_fault mq_broker dbnode ark_metadb self peer host c db
    confirm alert lookup name backup from or none restore decommission recreate same_ip
    paused remove start stop restart verify wait replica_healthy replica set exec_mode
    strict lenient parallel_workers off startup forced_switch restart_daemon exec
    replica_error duplicate_key parallel_mode other peer_mode rw ro nodes_down some all
    master slave _ all_down E0202 no_backup E9999
";

/// Punctuation, literals (well formed or not), layout and odd characters.
#[rustfmt::skip]
const MARKS: &[&str] = &[
    "<", ">", "{", "}", "(", ")", ";", "&", ",", "=>", "=", "==", "@", "|", "\"", "#", "\\",
    "\"/home/admin/store\"", "\"{ip}\"", "\"\"", "\"a \\\" b\"", "\"unterminated",
    "\"-pS3cr3t!\"", "\"password=hunter22\"",
    "0", "16", "18446744073709551616", "10m", "500ms", "30s", "2h", "99999999999999999999h",
    " ", " ", " ", "\n", "\t", "\r\n", "# § comment\n",
    "§", "é", "\u{feff}", "\u{0}", "\u{1F600}", "\u{202E}",
];

/// The tokens random text is made of: the words and the marks.
fn alphabet() -> &'static [&'static str] {
    static ALPHABET: OnceLock<Vec<&'static str>> = OnceLock::new();
    ALPHABET.get_or_init(|| {
        WORDS
            .split_whitespace()
            .chain(MARKS.iter().copied())
            .collect()
    })
}

/// Punctuation inserted at random places.
const PUNCT: &[char] = &[
    '<', '>', '{', '}', '(', ')', ';', '&', ',', '=', '@', '"', '#', '|', '\n',
];

/// Splits text into tokens: runs of word characters, runs of whitespace, and single
/// other characters (strings are not kept whole, so quotes get moved too).
fn tokens(text: &str) -> Vec<&str> {
    #[derive(PartialEq)]
    enum K {
        Word,
        Space,
        Other,
    }
    let kind = |c: char| {
        if c.is_alphanumeric() || c == '_' {
            K::Word
        } else if c.is_whitespace() {
            K::Space
        } else {
            K::Other
        }
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<K> = None;
    for (i, c) in text.char_indices() {
        let k = kind(c);
        if let Some(p) = &prev
            && (*p != k || k == K::Other)
        {
            out.push(&text[start..i]);
            start = i;
        }
        prev = Some(k);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// A character boundary of `text` at or before a random byte.
fn boundary(rng: &mut Rng, text: &str) -> usize {
    let mut at = rng.below(text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// One to four random edits of `text`: one edit half of the time, so that many
/// inputs still parse and reach the checker's rules.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let words: Vec<&'static str> = WORDS.split_whitespace().collect();
    let mut s = text.to_string();
    let edits = 1 + (rng.next().trailing_zeros() as usize).min(3);
    for _ in 0..edits {
        let toks = tokens(&s);
        if toks.is_empty() {
            s.push_str(rng.token(alphabet()));
            continue;
        }
        let i = rng.below(toks.len());
        s = match rng.below(11) {
            // delete a token
            0 => splice(&toks, i, None, ""),
            // duplicate a token
            1 => splice(&toks, i, Some(toks[i]), toks[i]),
            // swap two tokens
            2 => {
                let j = rng.below(toks.len());
                let mut t = toks.clone();
                t.swap(i, j);
                t.concat()
            }
            // replace a token by a word or mark of the language
            3 => splice(&toks, i, None, rng.token(alphabet())),
            // insert punctuation
            4 => {
                let at = boundary(rng, &s);
                let mut t = s.clone();
                t.insert(at, *rng.pick(PUNCT));
                t
            }
            // delete a run of bytes, at character boundaries
            5 => {
                let a = boundary(rng, &s);
                let mut b = (a + rng.below(40)).min(s.len());
                while !s.is_char_boundary(b) {
                    b += 1;
                }
                format!("{}{}", &s[..a], &s[b..])
            }
            // truncate
            6 => s[..boundary(rng, &s)].to_string(),
            // duplicate a whole line range (blocks pasted twice)
            7 => {
                let a = boundary(rng, &s);
                let b = boundary(rng, &s);
                let (a, b) = (a.min(b), a.max(b));
                format!("{}{}", &s[..b], &s[a..])
            }
            // insert a token of the language
            8 => splice(&toks, i, Some(toks[i]), rng.token(alphabet())),
            // replace a word by another word: the text often still parses
            _ => {
                let w: Vec<usize> = (0..toks.len())
                    .filter(|&k| toks[k].starts_with(|c: char| c.is_ascii_alphabetic()))
                    .collect();
                if w.is_empty() {
                    s
                } else {
                    splice(&toks, *rng.pick(&w), None, rng.token(&words))
                }
            }
        };
    }
    s
}

/// `toks` with token `i` replaced by `keep` (or dropped) followed by `insert`.
fn splice(toks: &[&str], i: usize, keep: Option<&str>, insert: &str) -> String {
    let mut out = String::new();
    for (k, t) in toks.iter().enumerate() {
        if k == i {
            out.push_str(keep.unwrap_or(""));
            out.push_str(insert);
        } else {
            out.push_str(t);
        }
    }
    out
}

/// A random string of the language's words and marks.
fn random_text(rng: &mut Rng) -> String {
    let n = rng.below(80);
    let mut s = String::new();
    for _ in 0..n {
        s.push_str(rng.token(alphabet()));
        if rng.below(2) == 0 {
            s.push(' ');
        }
    }
    s
}

/// What a well-behaved compilation satisfies besides not panicking: every label
/// lies inside its file on character boundaries, and every diagnostic can be drawn.
fn sound(c: &Compilation, draw: usize) -> Result<(), String> {
    for d in &c.diagnostics {
        for l in &d.labels {
            let text = &c.sources.get(l.file).text;
            if l.span.start > l.span.end
                || l.span.end > text.len()
                || !text.is_char_boundary(l.span.start)
                || !text.is_char_boundary(l.span.end)
            {
                return Err(format!(
                    "{}: label `{}` at {}..{} is outside the text or inside a character",
                    d.code, l.message, l.span.start, l.span.end
                ));
            }
        }
        let _ = short(d, &c.sources);
    }
    for d in c.diagnostics.iter().take(draw) {
        let _ = render(d, &c.sources, STYLE);
    }
    Ok(())
}

/// The corpus: every fixture and every stdlib file, by path, in one provider so that
/// imports resolve as on disk.
fn corpus() -> (Vec<String>, MemoryProvider) {
    let mut paths = mend_files("tests/fixtures");
    paths.extend(mend_files("stdlib-playbooks"));
    let mut provider = MemoryProvider::default();
    for p in &paths {
        provider.files.insert(p.clone(), read(p));
    }
    (paths, provider)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Checks `text` as the file `path`; a panic becomes an `Err` holding the input.
/// `seen` counts the inputs by the first code reported (`None`: clean).
fn survive(
    path: &str,
    text: &str,
    provider: &MemoryProvider,
    seen: &mut BTreeMap<Option<Code>, usize>,
) -> Result<(), String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let c = check(vec![SourceFile::new(path, text)], provider);
        sound(&c, 2).map(|()| c.diagnostics.first().map(|d| d.code))
    }));
    match outcome {
        Ok(Ok(first)) => {
            *seen.entry(first).or_default() += 1;
            Ok(())
        }
        Ok(Err(why)) => Err(format!("{why}\n  input ({path}): {text:?}")),
        Err(_) => Err(format!("panicked\n  input ({path}): {text:?}")),
    }
}

#[test]
fn mutated_and_random_inputs_never_panic() {
    let seed = env_number("MEND_FUZZ_SEED", 0x6d65_6e64);
    let rounds = env_number("MEND_FUZZ_ROUNDS", 1) as usize;
    let mut rng = Rng::new(seed);
    let (paths, mut provider) = corpus();
    assert!(
        paths.len() > 50,
        "the corpus is the fixtures and the stdlib"
    );
    let mut failures = Vec::new();
    let mut seen = BTreeMap::new();
    for _ in 0..MUTATED * rounds {
        let path = rng.pick(&paths).clone();
        let original = provider.files[&path].clone();
        let text = mutate(&mut rng, &original);
        // an import of the file itself sees the mutated text too
        provider.files.insert(path.clone(), text.clone());
        if let Err(e) = survive(&path, &text, &provider, &mut seen) {
            failures.push(e);
        }
        provider.files.insert(path, original);
    }
    for _ in 0..RANDOM * rounds {
        let text = random_text(&mut rng);
        if let Err(e) = survive("random.mend", &text, &provider, &mut seen) {
            failures.push(e);
        }
    }
    // what the inputs reached, for `--nocapture`: a fuzzer that only ever finds
    // E0001 tests the parser alone
    eprintln!("inputs by first code (None = clean): {seen:?}");
    assert!(
        seen.keys().filter(|k| k.is_some()).count() >= 10,
        "the inputs reach few rules: {seen:?}"
    );
    assert!(
        failures.is_empty(),
        "{} inputs broke `check` (seed {seed:#x}); the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn check_text(text: &str) -> Compilation {
    check(
        vec![SourceFile::new("input.mend", text)],
        &MemoryProvider::default(),
    )
}

fn codes_of(c: &Compilation) -> Vec<Code> {
    c.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn ten_thousand_nested_blocks_are_too_deep() {
    let text = format!(
        "on software_fault(x) {}restart{}\n",
        "<".repeat(10_000),
        ">".repeat(10_000)
    );
    let c = check_text(&text);
    assert_eq!(codes_of(&c), [Code::E0003]);
    sound(&c, 1).unwrap();
    // never closed at all
    let c = check_text(&"<".repeat(10_000));
    assert_eq!(codes_of(&c), [Code::E0003]);
    // braces and parentheses count as well
    let c = check_text(&format!("component c {}", "{(".repeat(5_000)));
    assert_eq!(codes_of(&c), [Code::E0003]);
}

/// A 2 MB file of valid steps (about 25,000 playbooks) checks clean in bounded time:
/// no timed assert, it has to finish (about 4 s in a debug build). Until pest's call
/// limit grew with the input, such a file got E0001 "too complex to parse".
#[test]
fn two_megabytes_of_valid_steps_check_clean() {
    // One component per playbook: two playbooks on one trigger are E0501.
    let mut text = String::new();
    let mut n = 0;
    while text.len() < 2 * 1024 * 1024 {
        text.push_str(&format!(
            "component c{n} {{ kind stateless }}\non software_fault(c{n}) <\n  confirm alert;\n  restart;\n  probe;\n  verify within 10m\n>\n"
        ));
        n += 1;
    }
    let c = check_text(&text);
    assert_eq!(codes_of(&c), []);
    assert_eq!(c.playbooks.len(), n);
}

/// Regression (fixed): the depth guard (`check_nesting` in
/// grammar/src/parser.rs) counts the `>` of `=>` as closing a level, so nested
/// `match` arms never raise the count and pass the 64-level check; pest then
/// recurses until the stack overflows (about 300 levels on a test thread's 2 MiB,
/// 1,000 on the CLI's main thread). The process aborts (SIGABRT), which no test can
/// catch: do not run this until fixed, it kills the test binary.
#[test]
fn nested_match_arms_are_too_deep() {
    let n = 1_000;
    let text = format!(
        "on software_fault(x) < {}restart{} >\n",
        "match role { master => ".repeat(n),
        " }".repeat(n)
    );
    let c = check_text(&text);
    assert_eq!(codes_of(&c), [Code::E0003]);
}

/// Regression (fixed): drawing a diagnostic whose column is past 65,535
/// panics inside miette ("Formatting argument out of range": a `{:width$}` wider
/// than `u16::MAX`). `mend check` on such a file exits 101 with a panic.
#[test]
fn a_diagnostic_on_a_very_long_line_is_drawn() {
    let text = format!("{}x\n", " ".repeat(70_000));
    let c = check_text(&text);
    assert_eq!(codes_of(&c), [Code::E0001]);
    let drawn = render(&c.diagnostics[0], &c.sources, STYLE);
    assert!(drawn.contains("E0001"));
}

#[test]
fn a_file_of_comments_only_is_clean() {
    for text in [
        "# §3.2 hardware fault\n# nothing else\n",
        "# no newline at the end",
        "#",
        "\n\n# \n\t# indented\n",
    ] {
        let c = check_text(text);
        assert_eq!(codes_of(&c), [], "{text:?}");
    }
}

#[test]
fn an_empty_file_is_clean() {
    for text in ["", " ", "\n", "\r\n", "\t \n "] {
        let c = check_text(text);
        assert_eq!(codes_of(&c), [], "{text:?}");
        assert!(c.playbooks.is_empty());
    }
}

#[test]
fn the_fuzzer_is_deterministic() {
    let sample = "on software_fault(c) < confirm alert; restart; verify within 10m >";
    let run = || {
        let mut rng = Rng::new(7);
        (0..50)
            .map(|_| mutate(&mut rng, sample))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
    assert_eq!(tokens(sample).concat(), sample);
}

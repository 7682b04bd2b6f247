//! `mend fmt`: the layout is a fixed point, keeps the tree and every comment, and no
//! input makes it panic.
//!
//! The checks here are written independently of the formatter's own self-check: the
//! tree is compared through a span-free `Debug` rendering, comments are found by a
//! scanner of this file's own.

use mend_compiler::fmt::{FmtError, format};
use mend_grammar::ast::{Item, PropertyKind};
use mend_grammar::parse;
use std::path::{Path, PathBuf};

// ---- helpers ------------------------------------------------------------------------

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Every `*.mend` under `dir`, sorted.
fn mend_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "mend") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The fixtures and the stdlib: whatever exists when the test runs.
fn corpus() -> Vec<(String, String)> {
    let root = root();
    let mut files = mend_files(&root.join("tests/fixtures"));
    files.extend(mend_files(&root.join("stdlib-playbooks")));
    files
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let name = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
            Some((name, text))
        })
        .collect()
}

/// The tree of `src` with every span removed, as text: two trees are the same
/// playbook when these are equal.
fn tree(src: &str) -> Option<String> {
    let parsed = parse(src);
    if !parsed.errors.is_empty() {
        return None;
    }
    let debug = format!("{:?}", parsed.file?);
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(at) = rest.find("Span { start: ") {
        out.push_str(&rest[..at]);
        out.push_str("Span");
        let after = &rest[at..];
        let close = after.find('}').expect("a span closes");
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// The comments of `src` (`#` to the end of the line, outside strings), trailing
/// whitespace dropped. An unknown property (`stor "x" # …`) is raw text to the end of
/// its line or the next `}`, as the grammar reads it: a `#` in it is no comment.
fn comments(src: &str) -> Vec<&str> {
    let mut opaque = Vec::new();
    if let Some(file) = parse(src).file {
        for item in &file.items {
            if let Item::Component(c) = item {
                for p in &c.properties {
                    if let PropertyKind::Unknown(_) = p.kind {
                        let rest = &src[p.span.start..];
                        opaque.push((
                            p.span.start,
                            p.span.start + rest.find(['\n', '}']).unwrap_or(rest.len()),
                        ));
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut start = None;
    for (i, ch) in src.char_indices() {
        if opaque.iter().any(|&(a, b)| a <= i && i < b) {
            continue;
        }
        if let Some(s) = start {
            if ch == '\n' {
                out.push(src[s..i].trim_end());
                start = None;
            }
            continue;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' || ch == '\n' {
                in_string = false;
            }
        } else if ch == '"' {
            in_string = true;
        } else if ch == '#' {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(src[s..].trim_end());
    }
    out
}

/// Formats `src` and checks everything a formatted text must satisfy; `None` if `src`
/// does not parse.
fn check_fmt(name: &str, src: &str) -> Option<String> {
    let out = match format(src) {
        Ok(out) => out,
        Err(FmtError::Syntax(_)) => return None,
        Err(FmtError::Unstable(why)) => panic!("{name}: the formatter refused: {why}\n{src}"),
    };
    let again = format(&out).unwrap_or_else(|e| panic!("{name}: output rejected: {e:?}\n{out}"));
    assert!(
        again == out,
        "{name}: not idempotent\n--- first\n{out}\n--- second\n{again}"
    );
    assert_eq!(tree(src), tree(&out), "{name}: the tree changed\n{out}");
    assert_eq!(
        comments(src),
        comments(&out),
        "{name}: comments changed\n{out}"
    );
    for (n, line) in out.lines().enumerate() {
        assert!(
            line == line.trim_end(),
            "{name}: trailing whitespace on line {}\n{src:?}\n{out}",
            n + 1
        );
        let indent = line.len() - line.trim_start_matches(' ').len();
        assert!(
            indent % 2 == 0 && !line[indent..].starts_with(char::is_whitespace),
            "{name}: line {} is not indented with pairs of spaces",
            n + 1
        );
    }
    assert!(!out.contains("\n\n\n"), "{name}: two blank lines in a row");
    assert!(out.is_empty() || (out.ends_with('\n') && !out.ends_with("\n\n")));
    Some(out)
}

fn fmt(src: &str) -> String {
    check_fmt("input", src).expect("the input parses")
}

// ---- the corpus -----------------------------------------------------------------------

#[test]
fn corpus_is_a_fixed_point_with_the_same_tree_and_comments() {
    let files = corpus();
    assert!(!files.is_empty(), "no fixtures and no stdlib found");
    let formatted = files
        .iter()
        .filter(|(name, text)| check_fmt(name, text).is_some())
        .count();
    assert!(formatted > 0, "no file of the corpus parses");
}

#[test]
fn stdlib_comment_citations_are_kept() {
    for (name, text) in corpus() {
        let Some(out) = check_fmt(&name, &text) else {
            continue;
        };
        let cited = |t: &str| t.matches('§').count();
        assert_eq!(cited(&text), cited(&out), "{name}: a § citation was lost");
    }
}

// ---- layout ---------------------------------------------------------------------------

const MESSY: &str = r#"# header comment
import "a.mend" import "b.mend";   # two imports


import "c.mend"
component   mq_broker{kind stateful   # §3.2
select label "ark.component"="mq-broker"
  stor "/x" # a typo: kept as written
        role zk "/p/{c}" brokerId {0=>master,1=>slave,}

  # before expect
  expect "say \"hi\" {ip}\t"}
component empty {}
procedure p(a,b)<restart on a timeout 5m retry 03;call q(a,   b) ; ask "ok?">
on host_down(mq_broker)<confirm alert;lookup role;match role on peer{master=>< backup store from self; recreate same_ip paused > , slave|_ => restart # cheap
} timeout 10m;
each c on host<restart;probe>limit 8 ;   when role==master <stop> else <start>;
restart on zk_1&restart on zk_2 & restart on zk_3&restart on zk_4 & restart on zk_5 & restart on zk_6;
@allow(E0302, "checked by the DBA") set read_only off;
try < a; b > catch < escalate "x" > finally < c; d; e; f >;
< stop; start > & < probe > ;
backup store from self   # first
  or peer;               # second
  when all_down(dncs_server) <
    # nothing
  >;


  verify within 10m # done
  # end of block
> # after playbook
on f(c) <>
# trailing file comment
"#;

#[test]
fn messy_file() {
    insta::assert_snapshot!("messy", fmt(MESSY));
}

#[test]
fn comments_in_every_position() {
    let src = "# file head\n\n\
        # about p\n\
        on software_fault(mq_broker) < # §1.2 opener\n\
        # leading\n\
        confirm alert; # trailing after ;\n\
        restart # inside a step\n on peer; # after it\n\
        match role { # after {\n\
          # before master\n\
          master => < a; # in a block\n b >, # after the arm\n\
          slave => b # last arm, no comma\n\
          # end of the arms\n\
        } # after }\n\
        ; each c on host < restart > # between > and limit\n limit 4;\n\
        when x < a > # before else\n else < b >;\n\
        a # in a group\n & b;\n\
        verify\n\
        # end of the block\n\
        >\n\
        # end of the file";
    insta::assert_snapshot!("comments", fmt(src));
}

#[test]
fn one_line_blocks_and_the_width() {
    // fits in 90 columns: one line; one more character: one step per line
    let fits = format!(
        "on f(c) < each x on host < exec \"{}\" > limit 4 >",
        "a".repeat(54)
    );
    let line = fmt(&fits).lines().nth(1).expect("a step").to_string();
    assert_eq!(line.chars().count(), 90, "{line}");
    let long = format!(
        "on f(c) < each x on host < exec \"{}\" > limit 4 >",
        "a".repeat(55)
    );
    insta::assert_snapshot!("width", format!("{}\n{}", fmt(&fits), fmt(&long)));
}

#[test]
fn nested_blocks_and_groups() {
    let src = "on f(c) < try < < stop; start > & < probe > ; when role == master < \
        match replica_error { none => < wait replica_healthy within 5m >, parallel_mode | duplicate_key => \
        @allow(E0302, \"known\") set exec_mode lenient, _ => escalate \"x\" } > else < each d on host < restart; probe; verify; wait 1s > > \
        > catch < escalate \"no\" > finally <> ; \
        @allow(E0101, \"one\") @allow(E0102, \"two\") restart & @allow(E0103, \"three\") probe on peer >";
    insta::assert_snapshot!("nested", fmt(src));
}

#[test]
fn blank_lines_between_steps_are_kept_once() {
    let src =
        "on f(c) <\n\n\n  a;\n\n\n\n  b;\n  c\n\n>\n\n\n\non g(c) < each x on host < a;\n\n b > >";
    insta::assert_snapshot!("blank_lines", fmt(src));
}

#[test]
fn strings_numbers_and_durations_as_written() {
    let src = "on f(c) < exec \"a\\\"b\\\\c\\{d}\\n\" retry 007 timeout 0090s; wait 1h; set parallel_workers 00 >";
    let out = fmt(src);
    assert!(
        out.contains(r#"exec "a\"b\\c\{d}\n" retry 007 timeout 0090s;"#),
        "{out}"
    );
    assert!(out.contains("set parallel_workers 00"), "{out}");
}

#[test]
fn crlf_and_tabs_are_normalised() {
    let out = fmt("on f(c) <\r\n\tconfirm alert;\t# why\r\n\tverify\r\n>\r\n");
    assert_eq!(out, "on f(c) <\n  confirm alert;  # why\n  verify\n>\n");
}

#[test]
fn files_that_do_not_parse_are_refused() {
    for src in [
        "on f(c) < a",
        "on f(c) { a }",
        "component c { kind }",
        "on f(c) < ask \"unclosed >",
        &format!("on f(c) {}a{}", "<".repeat(70), ">".repeat(70)),
    ] {
        assert!(
            matches!(format(src), Err(FmtError::Syntax(e)) if !e.is_empty()),
            "{src}"
        );
    }
}

// ---- mutations --------------------------------------------------------------------------

/// SplitMix64: a deterministic generator, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Splits a source into rough tokens (words, strings, comments, runs of whitespace,
/// single punctuation) that concatenate back to it.
fn tokens(src: &str) -> Vec<&str> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let c = b[i];
        if c.is_ascii_alphanumeric() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
        } else if c.is_ascii_whitespace() {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
        } else if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else {
            i += 1;
            while i < b.len() && !src.is_char_boundary(i) {
                i += 1;
            }
        }
        out.push(&src[start..i.min(b.len())]);
    }
    out
}

const INSERTS: &[&str] = &[
    "<",
    ">",
    ";",
    "&",
    ",",
    "{",
    "}",
    "(",
    ")",
    "=>",
    "|",
    "==",
    "=",
    "@",
    "\n",
    " ",
    "#",
    "\"",
    "# c\n",
    " # §3.2\n",
    "\n\n",
    "restart",
    "on",
    "peer",
    "match",
    "role",
    "when",
    "else",
    "each",
    "limit",
    "8",
    "10m",
    "try",
    "catch",
    "finally",
    "call",
    "ask \"x\"",
    "@allow(E0302, \"r\")",
    "< a; b >",
    "match role { master => a, slave => b }",
    "secret \"k\"",
    "component",
    "kind",
    "stor",
    "import \"x.mend\"",
    "\\",
    "§",
];

fn mutate(rng: &mut Rng, toks: &[&str]) -> String {
    let mut toks: Vec<&str> = toks.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(toks.len() + 1);
        match rng.below(5) {
            0 if !toks.is_empty() => {
                toks.remove(at.min(toks.len() - 1));
            }
            1 if !toks.is_empty() => {
                let t = toks[at.min(toks.len() - 1)];
                toks.insert(at, t);
            }
            2 if toks.len() > 1 => {
                let a = at.min(toks.len() - 2);
                toks.swap(a, a + 1);
            }
            _ => toks.insert(at, INSERTS[rng.below(INSERTS.len())]),
        }
    }
    toks.concat()
}

#[test]
fn mutated_inputs_never_panic_and_format_to_fixed_points() {
    let mut corpus = corpus();
    corpus.push(("messy".into(), MESSY.into()));
    let token_lists: Vec<(String, Vec<&str>)> =
        corpus.iter().map(|(n, t)| (n.clone(), tokens(t))).collect();
    let cases: usize = std::env::var("MEND_FMT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let mut rng = Rng(0x6d65_6e64);
    let (mut formatted, mut refused) = (0, 0);
    for case in 0..cases {
        let (name, toks) = &token_lists[rng.below(token_lists.len())];
        let src = mutate(&mut rng, toks);
        let label = format!("case {case} (from {name})");
        match check_fmt(&label, &src) {
            Some(_) => formatted += 1,
            None => refused += 1,
        }
    }
    eprintln!("mutations: {formatted} formatted, {refused} refused (syntax errors)");
    assert!(
        formatted > cases / 10,
        "too few mutations parse: {formatted}"
    );
}

#[test]
fn comments_and_blank_lines_anywhere() {
    const TRIVIA: &[&str] = &[
        " # c\n",
        "# d\n",
        "\n# e\n\n",
        "\n\n",
        "\n",
        " #\n",
        "\t#f\r\n",
    ];
    let corpus = corpus();
    let token_lists: Vec<(String, Vec<&str>)> =
        corpus.iter().map(|(n, t)| (n.clone(), tokens(t))).collect();
    let cases: usize = std::env::var("MEND_FMT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(1500, |n: usize| n / 2);
    let mut rng = Rng(0x2323);
    let mut formatted = 0;
    for case in 0..cases {
        let (name, toks) = &token_lists[rng.below(token_lists.len())];
        let mut toks = toks.clone();
        for _ in 0..=rng.below(6) {
            let at = rng.below(toks.len() + 1);
            toks.insert(at, TRIVIA[rng.below(TRIVIA.len())]);
        }
        let src = toks.concat();
        if check_fmt(&format!("case {case} (from {name})"), &src).is_some() {
            formatted += 1;
        }
    }
    assert!(formatted > cases / 4, "too few cases parse: {formatted}");
}

#[test]
fn random_token_soup_never_panics() {
    let mut rng = Rng(42);
    for _ in 0..1000 {
        let n = rng.below(40);
        let src: String = (0..n)
            .map(|_| INSERTS[rng.below(INSERTS.len())])
            .collect::<Vec<_>>()
            .join(if rng.below(2) == 0 { " " } else { "" });
        let _ = check_fmt("soup", &src);
    }
}

// ---- size -----------------------------------------------------------------------------

#[test]
fn large_files_are_formatted_in_linear_time() {
    let unit = "# §3.2 a playbook\non hardware_fault(mq_broker) < confirm alert; lookup role; \
        match role { master => < backup store from self or peer or none; accept loss \"x\" >, \
        slave => backup store from self # lossless\n }; each c on host < restart; probe > limit 8; \
        restart on zk_1 & restart on zk_2; verify within 15m >\n";
    let small = unit.repeat(100);
    let big = unit.repeat(800);
    let t = std::time::Instant::now();
    let a = format(&small).expect("formats");
    let t_small = t.elapsed();
    let t = std::time::Instant::now();
    let b = format(&big).expect("formats");
    let t_big = t.elapsed();
    assert!(b.len() > a.len() * 7);
    // 8 times the text: linear is about 8 times the time; quadratic would be 64
    assert!(
        t_big < t_small * 32 + std::time::Duration::from_millis(200),
        "{t_small:?} for {} bytes, {t_big:?} for {} bytes",
        small.len(),
        big.len()
    );
}

//! A unified line diff, for `mend fmt --check`: what formatting would change.
//!
//! Myers' algorithm over the lines left once the common head and tail are set
//! aside, with a bound on its work: past it (two files with almost nothing in common,
//! megabytes long) the middle is shown as one replacement, so the diff never takes
//! quadratic time.

/// Lines of context around each change.
const CONTEXT: usize = 3;
/// Myers' search gives up after this many steps of work.
const BUDGET: usize = 5_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same,
    Delete,
    Insert,
}

/// The diff from `old` to `new` with `--- path` / `+++ path (formatted)` headers and
/// `@@` hunks; empty when they are equal.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = edit_script(&a, &b);

    let mut out = format!("--- {path}\n+++ {path} (formatted)\n");
    // (index in ops, line in a, line in b) of each op
    let mut pos = Vec::with_capacity(ops.len());
    let (mut i, mut j) = (0, 0);
    for &op in &ops {
        pos.push((i, j));
        match op {
            Op::Same => {
                i += 1;
                j += 1;
            }
            Op::Delete => i += 1,
            Op::Insert => j += 1,
        }
    }
    let changes: Vec<usize> = (0..ops.len()).filter(|&k| ops[k] != Op::Same).collect();
    let mut c = 0;
    while c < changes.len() {
        let first = changes[c];
        let mut last = first;
        while c + 1 < changes.len() && changes[c + 1] - last <= 2 * CONTEXT + 1 {
            c += 1;
            last = changes[c];
        }
        c += 1;
        let start = first.saturating_sub(CONTEXT);
        let end = (last + CONTEXT + 1).min(ops.len());
        let (a0, b0) = pos[start];
        let a_len = ops[start..end].iter().filter(|&&o| o != Op::Insert).count();
        let b_len = ops[start..end].iter().filter(|&&o| o != Op::Delete).count();
        let from = |line0: usize, len: usize| if len == 0 { line0 } else { line0 + 1 };
        out.push_str(&format!(
            "@@ -{},{a_len} +{},{b_len} @@\n",
            from(a0, a_len),
            from(b0, b_len)
        ));
        for k in start..end {
            let (ai, bj) = pos[k];
            let (mark, line) = match ops[k] {
                Op::Same => (' ', a[ai]),
                Op::Delete => ('-', a[ai]),
                Op::Insert => ('+', b[bj]),
            };
            out.push(mark);
            let body = line.strip_suffix('\n').unwrap_or(line);
            out.push_str(body.strip_suffix('\r').unwrap_or(body));
            out.push('\n');
            if !line.ends_with('\n') {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
    out
}

/// The edit script from `a` to `b`.
fn edit_script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut ops = vec![Op::Same; head];
    match myers(ma, mb) {
        Some(mid) => ops.extend(mid),
        None => {
            ops.extend(std::iter::repeat_n(Op::Delete, ma.len()));
            ops.extend(std::iter::repeat_n(Op::Insert, mb.len()));
        }
    }
    ops.extend(std::iter::repeat_n(Op::Same, tail));
    ops
}

/// Myers' shortest edit script, or `None` past the work budget.
fn myers(a: &[&str], b: &[&str]) -> Option<Vec<Op>> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let max = (n + m) as usize;
    let off = max as isize + 1;
    let mut v = vec![0isize; 2 * max + 3];
    // trace[d] holds v[-d..=d] as it was before round d
    let mut trace: Vec<Vec<isize>> = Vec::new();
    let mut work = 0usize;
    let mut found = None;
    'rounds: for d in 0..=max as isize {
        trace.push(v[(off - d) as usize..=(off + d) as usize].to_vec());
        work += trace.last().map_or(0, Vec::len);
        let mut k = -d;
        while k <= d {
            let idx = (off + k) as usize;
            let mut x = if k == -d || (k != d && v[idx - 1] < v[idx + 1]) {
                v[idx + 1]
            } else {
                v[idx - 1] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
                work += 1;
            }
            v[idx] = x;
            work += 1;
            if work > BUDGET {
                return None;
            }
            if x >= n && y >= m {
                found = Some(d);
                break 'rounds;
            }
            k += 2;
        }
    }
    let d_end = found?;
    // walk back from (n, m)
    let mut ops = Vec::with_capacity((n + m) as usize);
    let (mut x, mut y) = (n, m);
    for d in (0..=d_end).rev() {
        let prev = &trace[d as usize];
        let at = |k: isize| prev[(k + d) as usize];
        let k = x - y;
        if d == 0 {
            while x > 0 && y > 0 {
                ops.push(Op::Same);
                x -= 1;
                y -= 1;
            }
            break;
        }
        let prev_k = if k == -d || (k != d && at(k - 1) < at(k + 1)) {
            k + 1
        } else {
            k - 1
        };
        let prev_x = at(prev_k);
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y {
            ops.push(Op::Same);
            x -= 1;
            y -= 1;
        }
        if x == prev_x {
            ops.push(Op::Insert);
        } else {
            ops.push(Op::Delete);
        }
        x = prev_x;
        y = prev_y;
    }
    ops.reverse();
    Some(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
        let new = "a\nB\nc\nd\ne\nf\ng\nh\ni\nJ\n";
        assert_eq!(
            unified_diff("x.mend", old, new),
            "--- x.mend\n+++ x.mend (formatted)\n\
             @@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n\
             @@ -7,4 +7,4 @@\n g\n h\n i\n-j\n+J\n"
        );
    }

    #[test]
    fn missing_newline_and_empty() {
        assert_eq!(
            unified_diff("x", "a", "a\n"),
            "--- x\n+++ x (formatted)\n@@ -1,1 +1,1 @@\n-a\n\\ No newline at end of file\n+a\n"
        );
        assert_eq!(
            unified_diff("x", "", "a\n"),
            "--- x\n+++ x (formatted)\n@@ -0,0 +1,1 @@\n+a\n"
        );
        assert_eq!(unified_diff("x", "same\n", "same\n"), "");
    }

    #[test]
    fn insertions_and_deletions() {
        let ops = edit_script(&["a", "b", "c"], &["a", "x", "c", "d"]);
        assert_eq!(
            ops,
            [Op::Same, Op::Delete, Op::Insert, Op::Same, Op::Insert]
        );
    }
}

"""Helpers for the editor tests: load the mend TextMate grammar, tokenize with
textmate-grammar-python (on Oniguruma, through onigurumacffi), parse the word
tables of grammar/src/keywords.rs, and a small second tokenizer that follows
vscode-textmate's own loop, so the two can be compared.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import onigurumacffi

REPO = Path(__file__).resolve().parents[2]
GRAMMAR_PATH = REPO / "editors" / "vscode" / "syntaxes" / "mend.tmLanguage.json"
KEYWORDS_RS = REPO / "grammar" / "src" / "keywords.rs"


def _import_textmate_grammar():
    # textmate_grammar creates a `.textmate_cache` directory in the working
    # directory when it is imported: import it from a temporary directory so the
    # repository stays clean.
    cwd = os.getcwd()
    os.chdir(tempfile.gettempdir())
    try:
        from textmate_grammar.parsers.base import LanguageParser
    finally:
        os.chdir(cwd)
    # Its logger warns about every stretch of text inside a string or comment
    # that no sub-pattern matched; that is normal and would drown pytest's output.
    logging.getLogger("textmate_grammar").setLevel(logging.ERROR)
    return LanguageParser


@dataclass(frozen=True)
class Token:
    line: int  # 0-based
    col: int  # 0-based, in characters
    text: str
    scopes: tuple[str, ...]  # outermost first, without the root `source.mend`

    def flat_scopes(self) -> list[str]:
        """Scopes with space-separated names split: `a.mend b.mend` -> two."""
        out: list[str] = []
        for s in self.scopes:
            out.extend(s.split())
        return out


def load_grammar() -> dict:
    return json.loads(GRAMMAR_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _tgp_parser():
    LanguageParser = _import_textmate_grammar()
    return LanguageParser(load_grammar())


def tokenize(text: str) -> list[Token]:
    """Tokenize with textmate-grammar-python."""
    parser = _tgp_parser()
    # textmate-grammar-python fails (IndexError) on a last line that no rule matches
    # when the text does not end in a newline: give it one; it adds no token.
    element = parser.parse_string(text if text.endswith("\n") else text + "\n")
    tokens: list[Token] = []
    if element is None:
        return tokens
    for (line, col), content, scopes in element.flatten():
        scopes = tuple(s for s in scopes if s and s != "source.mend")
        # flatten() may give one token spanning a newline; split it per line.
        for i, part in enumerate(content.split("\n")):
            if part:
                tokens.append(Token(line + i, col if i == 0 else 0, part, scopes))
    return tokens


def char_scopes(tokens: list[Token]) -> dict[tuple[int, int], tuple[str, ...]]:
    out = {}
    for t in tokens:
        for i in range(len(t.text)):
            out[(t.line, t.col + i)] = tuple(t.flat_scopes())
    return out


def find_mend_binary() -> Path | None:
    """A built `mend`: $MEND_BIN, else target/debug or target/release."""
    env = os.environ.get("MEND_BIN")
    if env:
        return Path(env)
    for profile in ("debug", "release"):
        p = REPO / "target" / profile / "mend"
        if p.is_file():
            return p
    return None


def mend_with_short_format() -> tuple[Path | None, str]:
    """A built `mend` whose `check` has `--format`, or None and why not."""
    import subprocess

    binary = find_mend_binary()
    if binary is None:
        return None, "no target/*/mend (build the cli, or set MEND_BIN)"
    run = subprocess.run([binary, "check", "--help"], capture_output=True, text=True, timeout=60)
    if "--format" not in run.stdout + run.stderr:
        return None, f"{binary} has no `check --format` yet"
    return binary, ""


# ---------------------------------------------------------------------------
# keywords.rs
# ---------------------------------------------------------------------------

_ARRAY_RE = re.compile(
    r"pub\s+const\s+([A-Z_]+)\s*:\s*&\[\s*&str\s*\]\s*=\s*&\[(.*?)\]\s*;", re.S
)


def keyword_tables(path: Path = KEYWORDS_RS) -> dict[str, list[str]]:
    """The `pub const NAME: &[&str] = &[...]` arrays of keywords.rs."""
    src = path.read_text(encoding="utf-8")
    src = re.sub(r"//[^\n]*", "", src)
    tables = {}
    for name, body in _ARRAY_RE.findall(src):
        tables[name] = re.findall(r'"((?:[^"\\]|\\.)*)"', body)
    return tables


# ---------------------------------------------------------------------------
# Every regular expression of the grammar
# ---------------------------------------------------------------------------


def grammar_regexes(grammar: dict) -> list[tuple[str, str]]:
    """(json path, regex) for every match/begin/end/while in the grammar."""
    found: list[tuple[str, str]] = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("match", "begin", "end", "while") and isinstance(value, str):
                    found.append((f"{path}/{key}", value))
                else:
                    walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(grammar, "")
    return found


def grammar_scope_names(grammar: dict) -> list[tuple[str, str]]:
    """(json path, scope) for every name/contentName, split on spaces."""
    found: list[tuple[str, str]] = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("name", "contentName") and isinstance(value, str) and path:
                    for scope in value.split():
                        found.append((f"{path}/{key}", scope))
                else:
                    walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(grammar, "")
    return found


# ---------------------------------------------------------------------------
# A second tokenizer, written after vscode-textmate's `_tokenizeString`:
# line by line (each line with "\n" appended), at each position the rule whose
# regex matches earliest wins, ties going to the one listed first, a begin/end
# rule's `end` listed before its patterns. It supports what this grammar uses
# (match, begin/end, name, contentName, captures with names, includes of
# `#name` and `$self`) and rejects the rest, so that the snapshot made with
# textmate-grammar-python can be checked against VS Code's algorithm.
# ---------------------------------------------------------------------------


class _Rule:
    def __init__(self, kind, node, name=None):
        self.kind = kind  # "match" | "beginend" | "include-only"
        self.node = node
        self.name = node.get("name")
        self.content_name = node.get("contentName")
        self.patterns: list[_Rule] | None = None


class ReferenceTokenizer:
    def __init__(self, grammar: dict):
        self.grammar = grammar
        self.repo = grammar.get("repository", {})
        self._rules: dict[int, _Rule] = {}
        self._regex_cache: dict[str, onigurumacffi._Pattern] = {}
        self.root = self._rule(grammar)

    def _re(self, pattern: str):
        if "\\G" in pattern or "\\A" in pattern:
            raise NotImplementedError(f"anchor not supported by the reference tokenizer: {pattern}")
        rx = self._regex_cache.get(pattern)
        if rx is None:
            rx = self._regex_cache[pattern] = onigurumacffi.compile(pattern)
        return rx

    def _rule(self, node: dict) -> _Rule:
        key = id(node)
        if key in self._rules:
            return self._rules[key]
        if "while" in node:
            raise NotImplementedError("begin/while")
        if "match" in node:
            rule = _Rule("match", node)
        elif "begin" in node:
            rule = _Rule("beginend", node)
        else:
            rule = _Rule("include-only", node)
        self._rules[key] = rule
        for cap_key in ("captures", "beginCaptures", "endCaptures"):
            for cap in node.get(cap_key, {}).values():
                if "patterns" in cap:
                    raise NotImplementedError("captures with patterns")
        return rule

    def _resolve(self, node: dict) -> dict:
        inc = node.get("include")
        if inc is None:
            return node
        if inc in ("$self", "$base"):
            return self.grammar
        if inc.startswith("#"):
            return self.repo[inc[1:]]
        raise NotImplementedError(f"include {inc}")

    def _candidates(self, rule: _Rule, seen=None) -> list[_Rule]:
        """The match/begin rules of rule's patterns, include-only rules expanded."""
        if rule.patterns is not None:
            return rule.patterns
        out: list[_Rule] = []
        seen = set() if seen is None else seen
        for pat in rule.node.get("patterns", []):
            node = self._resolve(pat)
            sub = self._rule(node)
            if sub.kind == "include-only":
                if id(node) in seen:
                    continue
                seen.add(id(node))
                out.extend(self._candidates(sub, seen))
            else:
                out.append(sub)
        rule.patterns = out
        return out

    @staticmethod
    def _names(name: str | None) -> list[str]:
        return name.split() if name else []

    def tokenize(self, text: str) -> list[Token]:
        # stack of (rule, name_scopes, content_scopes, enter_pos)
        root_scopes: tuple[str, ...] = ()
        stack = [(self.root, root_scopes, root_scopes, -1)]
        tokens: list[Token] = []
        lines = text.replace("\r\n", "\n").split("\n")
        for lineno, content in enumerate(lines):
            line = content + "\n"
            # enter positions only matter within one line
            stack = [(r, n, c, -1) for (r, n, c, _) in stack]
            pos = 0
            last = 0
            produced: list[tuple[int, int, tuple[str, ...]]] = []

            def produce(scopes, end):
                nonlocal last
                if end > last:
                    produced.append((last, end, scopes))
                    last = end

            def captures(caps: dict, m, base_scopes):
                local: list[tuple[tuple[str, ...], int]] = []
                max_end = m.end(0)
                for idx in sorted(int(k) for k in caps):
                    cap = caps[str(idx)]
                    if idx > m_groups(m) or m._begs[idx] < 0:
                        continue
                    start, end = m.start(idx), m.end(idx)
                    if end == start:
                        continue
                    if start > max_end:
                        break
                    while local and local[-1][1] <= start:
                        produce(local[-1][0], local[-1][1])
                        local.pop()
                    produce(local[-1][0] if local else base_scopes, start)
                    names = self._names(cap.get("name"))
                    if names:
                        base = local[-1][0] if local else base_scopes
                        local.append((base + tuple(names), end))
                while local:
                    produce(local[-1][0], local[-1][1])
                    local.pop()

            while True:
                rule, name_scopes, content_scopes, _ = stack[-1]
                cands: list[tuple[str, _Rule]] = []
                if rule.kind == "beginend":
                    end_first = not rule.node.get("applyEndPatternLast")
                    if end_first:
                        cands.append(("end", rule))
                    cands.extend(("pat", r) for r in self._candidates(rule))
                    if not end_first:
                        cands.append(("end", rule))
                else:
                    cands.extend(("pat", r) for r in self._candidates(rule))
                best = None
                for kind, r in cands:
                    regex = r.node["end"] if kind == "end" else r.node.get("match", r.node.get("begin"))
                    m = self._re(regex).search(line, pos)
                    if m is None:
                        continue
                    if best is None or m.start() < best[2].start():
                        best = (kind, r, m)
                if best is None:
                    produce(content_scopes, len(line))
                    break
                kind, r, m = best
                has_advanced = m.end() > pos
                if kind == "end":
                    produce(content_scopes, m.start())
                    captures(r.node.get("endCaptures", r.node.get("captures", {})), m, name_scopes)
                    produce(name_scopes, m.end())
                    popped = stack.pop()
                    if not has_advanced and popped[3] == pos:
                        stack.append(popped)  # endless loop: stay, skip the line
                        produce(content_scopes, len(line))
                        break
                else:
                    produce(content_scopes, m.start())
                    pushed_names = content_scopes + tuple(self._names(r.name))
                    if r.kind == "beginend":
                        captures(r.node.get("beginCaptures", r.node.get("captures", {})), m, pushed_names)
                        produce(pushed_names, m.end())
                        inner = pushed_names + tuple(self._names(r.content_name))
                        if not has_advanced and stack[-1][0] is r:
                            produce(content_scopes, len(line))
                            break
                        stack.append((r, pushed_names, inner, pos))
                    else:
                        captures(r.node.get("captures", {}), m, pushed_names)
                        produce(pushed_names, m.end())
                        if not has_advanced:
                            produce(content_scopes, len(line))
                            break
                if m.end() > pos:
                    pos = m.end()
            for start, end, scopes in produced:
                start, end = min(start, len(content)), min(end, len(content))
                if end > start:
                    tokens.append(Token(lineno, start, content[start:end], scopes))
        return tokens


def m_groups(m) -> int:
    return len(m._begs) - 1


@lru_cache(maxsize=1)
def reference_tokenizer() -> ReferenceTokenizer:
    return ReferenceTokenizer(load_grammar())


def tokenize_reference(text: str) -> list[Token]:
    return reference_tokenizer().tokenize(text)


def engine_differences(text: str, name: str = "text") -> list[str]:
    """Characters that textmate-grammar-python and the vscode-textmate loop
    scope differently (whitespace that neither scopes is not compared)."""
    a = char_scopes(tokenize(text))
    b = char_scopes(tokenize_reference(text))
    lines = text.split("\n")
    diffs = []
    for key in sorted(set(a) | set(b)):
        if a.get(key, ()) != b.get(key, ()):
            line, col = key
            ch = lines[line][col] if col < len(lines[line]) else "\\n"
            diffs.append(
                f"{name}:{line + 1}:{col + 1} {ch!r}: textmate-grammar-python {a.get(key)}"
                f" / vscode-textmate loop {b.get(key)}"
            )
    return diffs


# ---------------------------------------------------------------------------
# Snapshots
# ---------------------------------------------------------------------------


def render_snapshot(text: str, tokens: list[Token]) -> str:
    """One block per source line: the line, then each token with its scopes.
    Tokens of plain whitespace outside any scope are left out."""
    by_line: dict[int, list[Token]] = {}
    for t in tokens:
        by_line.setdefault(t.line, []).append(t)
    out = []
    for lineno, src in enumerate(text.split("\n")):
        toks = [t for t in by_line.get(lineno, []) if t.scopes or t.text.strip()]
        if not src.strip() and not toks:
            continue
        out.append(f"{lineno + 1:>3}| {src}".rstrip())
        for t in toks:
            scopes = " ".join(t.scopes) if t.scopes else "(none)"
            out.append(f"   | {t.col + 1:>3} {json.dumps(t.text, ensure_ascii=False)}  {scopes}")
    return "\n".join(out) + "\n"

"""The TextMate grammar, tokenized with textmate-grammar-python on Oniguruma."""

from __future__ import annotations

import os
import re
from pathlib import Path

import onigurumacffi
import pytest

import mendtm
from mendtm import REPO, Token

GRAMMAR = mendtm.load_grammar()
TABLES = mendtm.keyword_tables()
FIXTURE = REPO / "tests" / "editor" / "fixtures" / "all_constructs.mend"
SNAPSHOT = REPO / "tests" / "editor" / "snapshots" / "all_constructs.scopes.txt"
STDLIB = sorted((REPO / "stdlib-playbooks").glob("**/*.mend"))
DANGER_SCOPE = "invalid.deprecated.danger.mend"


def scopes_of(tokens: list[Token], word: str) -> list[list[str]]:
    """The scopes of every token whose text is exactly `word`."""
    return [t.flat_scopes() for t in tokens if t.text == word]


def is_keyword(scopes: list[str]) -> bool:
    return any(s.startswith("keyword.") and not s.startswith("keyword.operator.") for s in scopes)


# What each table of keywords.rs must look like, and where a word of it is tried.
KINDS = {
    "KEYWORDS": (is_keyword, "a keyword scope (keyword.control.* or keyword.other.*)"),
    "FAULTS": (lambda s: "support.constant.fault.mend" in s, "support.constant.fault.mend"),
    "PROPERTIES": (
        lambda s: any(x.startswith("support.type.property-name.") for x in s),
        "support.type.property-name.mend",
    ),
    "TARGETS": (lambda s: "variable.language.mend" in s, "variable.language.mend"),
    "ACTIONS": (lambda s: any(x.startswith("support.function.action.") for x in s), "support.function.action.*"),
    "DANGER": (
        lambda s: DANGER_SCOPE in s and any(".danger." in x and x != DANGER_SCOPE for x in s),
        f"a *.danger.mend scope and {DANGER_SCOPE}",
    ),
}

TOP = "{w}\n"
IN_BLOCK = "on software_fault(c) <\n  {w}\n>\n"
CONTEXTS = {
    # a keyword may be one only where the grammar expects it: one context is enough
    "KEYWORDS": ("any", [TOP, IN_BLOCK]),
    "FAULTS": ("all", ["on {w}(c) < restart >\n"]),
    "PROPERTIES": ("all", ["component c {{\n  {w}\n}}\n", "component c {{ {w} }}\n"]),
    "TARGETS": ("all", ["on software_fault(c) < restart on {w} >\n", "on software_fault(c) < call p({w}) >\n",
                        "on software_fault(c) < backup store from {w} >\n"]),
    "ACTIONS": ("all", [IN_BLOCK, "on software_fault(c) < {w} on peer; verify >\n"]),
    "DANGER": ("all", [IN_BLOCK]),
}


def test_keyword_tables_are_read():
    for name in KINDS:
        assert TABLES.get(name), f"{name} not found in {mendtm.KEYWORDS_RS}"
    unknown = set(TABLES) - set(KINDS)
    assert not unknown, f"keywords.rs has tables the editor test does not know: {sorted(unknown)}; add them to KINDS"


WORDS = [(table, word) for table in KINDS for word in TABLES.get(table, [])]


def word_is_scoped(table: str, word: str) -> tuple[bool, str]:
    check, _ = KINDS[table]
    mode, contexts = CONTEXTS[table]
    results = []
    for ctx in contexts:
        text = ctx.format(w=word)
        found = scopes_of(mendtm.tokenize(text), word)
        results.append((text, found, bool(found) and all(check(s) for s in found)))
    ok = any(r[2] for r in results) if mode == "any" else all(r[2] for r in results)
    return ok, "\n".join(f"  {t!r}: {f}" for t, f, _ in results)


@pytest.mark.parametrize("table,word", WORDS, ids=[f"{t}:{w}" for t, w in WORDS])
def test_word_of_compiler_table_is_scoped(table, word):
    ok, detail = word_is_scoped(table, word)
    assert ok, f"{table} word `{word}` is not scoped as {KINDS[table][1]}:\n{detail}"


@pytest.mark.parametrize("table", list(KINDS))
def test_a_new_word_in_keywords_rs_would_fail(table, tmp_path):
    """The drift check itself: a word added to a table of keywords.rs and not to the
    grammar is caught, both by the parser of keywords.rs and by the scope check."""
    src = mendtm.KEYWORDS_RS.read_text(encoding="utf-8")
    start = src.index(f"pub const {table}:")
    at = src.index("&[", src.index("=", start)) + 2
    changed = tmp_path / "keywords.rs"
    changed.write_text(src[:at] + '"frobnicate", ' + src[at:], encoding="utf-8")
    assert mendtm.keyword_tables(changed)[table] == ["frobnicate", *TABLES[table]]
    ok, _ = word_is_scoped(table, "frobnicate")
    assert not ok


@pytest.mark.parametrize("table,word", WORDS, ids=[f"{t}:{w}" for t, w in WORDS])
def test_fixture_uses_word_with_its_scope(table, word):
    check, wanted = KINDS[table]
    found = scopes_of(fixture_tokens(), word)
    assert any(check(s) for s in found), (
        f"{FIXTURE.name} has no `{word}` scoped as {wanted} (found: {found}); "
        "the fixture must use every word of keywords.rs"
    )


_fixture_tokens: list[Token] | None = None


def fixture_tokens() -> list[Token]:
    global _fixture_tokens
    if _fixture_tokens is None:
        _fixture_tokens = mendtm.tokenize(FIXTURE.read_text(encoding="utf-8"))
    return _fixture_tokens


# ---------------------------------------------------------------------------
# The grammar file itself
# ---------------------------------------------------------------------------


def test_every_pattern_compiles_under_oniguruma():
    regexes = mendtm.grammar_regexes(GRAMMAR)
    assert len(regexes) > 40
    errors = []
    for path, rx in regexes:
        try:
            onigurumacffi.compile(rx)
        except onigurumacffi.OnigError as e:
            errors.append(f"{path}: {rx!r}: {e}")
    assert not errors, "\n".join(errors)


def test_scope_names():
    assert GRAMMAR["scopeName"] == "source.mend"
    assert "mend" in GRAMMAR["fileTypes"]
    scopes = mendtm.grammar_scope_names(GRAMMAR)
    assert scopes
    bad = [f"{p}: {s}" for p, s in scopes if not s.endswith(".mend")]
    assert not bad, "scopes must end in .mend:\n" + "\n".join(bad)


def test_includes_resolve_and_every_rule_is_used():
    repo = GRAMMAR["repository"]
    used = set()

    def walk(node):
        if isinstance(node, dict):
            inc = node.get("include")
            if inc is not None:
                assert inc == "$self" or inc.startswith("#"), f"unexpected include {inc}"
                if inc.startswith("#"):
                    assert inc[1:] in repo, f"include {inc} has no rule in the repository"
                    used.add(inc[1:])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(GRAMMAR)
    assert set(repo) - used == set(), f"unused rules: {sorted(set(repo) - used)}"


# ---------------------------------------------------------------------------
# Snapshot of the fixture that uses every construct
# ---------------------------------------------------------------------------

SNAPSHOT_HEADER = (
    "# Scopes of tests/editor/fixtures/all_constructs.mend, tokenized by textmate-grammar-python.\n"
    "# Each source line is followed by its tokens: column, text, scopes (source.mend left out).\n"
    "# Rewrite with: UPDATE_SNAPSHOTS=1 tests/editor/run.sh\n"
)


def test_fixture_snapshot():
    text = FIXTURE.read_text(encoding="utf-8")
    got = SNAPSHOT_HEADER + mendtm.render_snapshot(text, fixture_tokens())
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(got, encoding="utf-8")
        if os.environ.get("UPDATE_SNAPSHOTS") != "1":
            pytest.fail(f"{SNAPSHOT} did not exist: written, check it and run again")
    want = SNAPSHOT.read_text(encoding="utf-8")
    if got != want:
        import difflib

        diff = "".join(
            difflib.unified_diff(want.splitlines(True), got.splitlines(True), "snapshot", "now", n=2)
        )
        pytest.fail(f"scopes differ from {SNAPSHOT.name} (UPDATE_SNAPSHOTS=1 to accept):\n{diff[:6000]}")


def test_fixture_is_accepted_by_the_mend_parser(tmp_path):
    """The fixture is real mend: `mend check` finds no syntax error in it (it may
    find others: it imports files that do not exist, cites code E0302…)."""
    import subprocess

    binary, why = mendtm.mend_with_short_format()
    if binary is None:
        pytest.skip(why)
    run = subprocess.run([binary, "check", "--format", "short", str(FIXTURE)], capture_output=True, text=True, timeout=60)
    out = run.stdout + run.stderr
    syntax = [ln for ln in out.splitlines() if re.search(r"error\[E000\d\]", ln)]
    assert not syntax, "\n".join(syntax)


def test_fixture_has_no_unexpected_invalid_scope():
    assert_clean(FIXTURE.read_text(encoding="utf-8"), fixture_tokens(), FIXTURE.name)


# ---------------------------------------------------------------------------
# The stdlib playbooks
# ---------------------------------------------------------------------------


def assert_clean(text: str, tokens: list[Token], name: str):
    """No invalid.* scope but the danger one; no code character left unscoped."""
    problems = []
    for t in tokens:
        bad = [s for s in t.flat_scopes() if s.startswith("invalid.") and s != DANGER_SCOPE]
        if bad:
            problems.append(f"{name}:{t.line + 1}:{t.col + 1}: {t.text!r} is {bad}")
        if not t.scopes and t.text.strip():
            problems.append(f"{name}:{t.line + 1}:{t.col + 1}: {t.text!r} has no scope")
    assert not problems, "\n".join(problems)


def test_there_are_stdlib_playbooks():
    assert STDLIB, "no stdlib-playbooks/**/*.mend to tokenize"


@pytest.mark.parametrize("path", STDLIB, ids=[str(p.relative_to(REPO)) for p in STDLIB])
def test_stdlib_playbook_tokenizes_cleanly(path: Path):
    text = path.read_text(encoding="utf-8")
    tokens = mendtm.tokenize(text)
    assert tokens
    assert_clean(text, tokens, str(path.relative_to(REPO)))


# ---------------------------------------------------------------------------
# textmate-grammar-python against vscode-textmate's algorithm
# ---------------------------------------------------------------------------


def assert_engines_agree(text: str, name: str):
    diffs = mendtm.engine_differences(text, name)
    assert not diffs, "\n".join(diffs[:30])


@pytest.mark.parametrize(
    "path", [FIXTURE, *STDLIB], ids=[str(p.relative_to(REPO)) for p in [FIXTURE, *STDLIB]]
)
def test_both_tokenizers_agree(path: Path):
    assert_engines_agree(path.read_text(encoding="utf-8"), path.name)


# ---------------------------------------------------------------------------
# Small cases worth pinning down
# ---------------------------------------------------------------------------


def scoped(text: str) -> list[tuple[str, str]]:
    return [(t.text, " ".join(t.flat_scopes())) for t in mendtm.tokenize(text) if t.text.strip()]


def test_names_at_declaration_and_use():
    toks = scoped("component mq_broker { kind stateful }\nprocedure fix(db) < restart on db >\n"
                  "on host_down(mq_broker) < call fix(self) >\n")
    assert ("mq_broker", "entity.name.type.component.mend") in toks
    assert toks.count(("mq_broker", "entity.name.type.component.mend")) == 2
    assert toks.count(("fix", "entity.name.function.procedure.mend")) == 2
    assert ("db", "variable.parameter.mend") in toks
    assert ("self", "variable.language.mend") in toks


def test_unknown_fault_is_flagged():
    assert ("disk_full", "invalid.illegal.unknown-fault.mend") in scoped("on disk_full(x) < restart >")


def test_on_as_a_value_is_not_the_modifier():
    toks = scoped("on software_fault(x) < set read_only on; restart on peer >")
    assert ("on", "constant.language.value.mend") in toks
    assert ("on", "keyword.other.on.mend") in toks


def test_string_interpolation_and_escapes():
    toks = scoped('on software_fault(x) < ask "node {ip} says \\"hi\\" \\{not} \\q" >')
    assert ("ip", "string.quoted.double.mend meta.interpolation.mend variable.other.interpolation.mend") in toks
    assert ('\\"', "string.quoted.double.mend constant.character.escape.mend") in toks
    assert ("\\{", "string.quoted.double.mend constant.character.escape.mend") in toks
    assert ("\\q", "string.quoted.double.mend invalid.illegal.escape.mend") in toks


def test_durations_numbers_and_bad_units():
    toks = scoped("on software_fault(x) < wait 500ms; retry 3; wait 10d >")
    assert ("500", "constant.numeric.duration.mend") in toks
    assert ("ms", "constant.numeric.duration.mend keyword.other.unit.mend") in toks
    assert ("3", "constant.numeric.integer.mend") in toks
    assert ("10d", "invalid.illegal.numeric.mend") in toks


def test_citations_in_comments():
    toks = scoped("# §3.2 and §4.1.3, §1.7–1.11\n")
    cites = [t for t, s in toks if "markup.underline.link.citation.mend" in s]
    assert cites == ["§3.2", "§4.1.3", "§1.7–1.11"]


def test_attribute_codes_and_names():
    toks = scoped('on software_fault(x) < @allow(E0302, "why") @allow(no-backup, "why") recreate >')
    assert ("allow", "meta.attribute.mend storage.type.annotation.mend") in toks
    assert ("E0302", "meta.attribute.mend constant.other.finding-code.mend") in toks
    assert ("no-backup", "meta.attribute.mend constant.other.finding-name.mend") in toks


def test_arrow_inside_block_does_not_close_it():
    toks = scoped("on software_fault(x) < match role { master => < stop >, _ => start }; verify >")
    assert ("=>", "keyword.operator.arrow.mend") in toks
    assert ("_", "constant.language.wildcard.mend") in toks
    assert ("verify", "support.function.action.mend") in toks
    assert toks[-1] == (">", "punctuation.section.block.end.mend")


def test_stray_character_is_invalid():
    assert ("$", "invalid.illegal.character.mend") in scoped("on software_fault(x) < restart $ >")


# Random token soup: the two tokenizers must agree on broken text too, which is
# what an editor shows most of the time (while typing).
FUZZ_WORDS = [
    "on", "software_fault", "host_down", "(", ")", "x", "<", ">", "{", "}", ";", "&", "=>", "|", "==", "=", ",",
    "match", "role", "master", "_", "restart", "set", "read_only", "off", "each", "c", "host", "limit", "8", "10m",
    "call", "p", "self", "peer", '"a {b} \\" c"', '"open', "# §3.2 x", "\n", "\n", "component", "kind", "stateful",
    "@allow", "E0302", "when", "else", "try", "catch", "finally", "accept", "loss", "escalate", "recreate", "secret",
    "timeout", "5s", "procedure", "import", "$", "zk", "brokerId", "10d", "\\", "§",
]


@pytest.mark.parametrize("seed", range(6))
def test_both_tokenizers_agree_on_random_text(seed):
    import random

    rng = random.Random(seed)
    for _ in range(60):
        text = " ".join(rng.choice(FUZZ_WORDS) for _ in range(rng.randint(2, 40)))
        assert_engines_agree(text, f"seed {seed}: {text!r}")

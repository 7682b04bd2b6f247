"""package.json, language-configuration.json, the snippets, the problem matcher and
the task provider of editors/vscode/."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

import mendtm
from mendtm import REPO

EXT = REPO / "editors" / "vscode"
PKG = json.loads((EXT / "package.json").read_text(encoding="utf-8"))
CONTRIB = PKG["contributes"]
LANGCONF = json.loads((EXT / "language-configuration.json").read_text(encoding="utf-8"))
SNIPPETS = json.loads((EXT / "snippets" / "mend.json").read_text(encoding="utf-8"))


def ext_file(rel: str) -> Path:
    return EXT / rel.removeprefix("./")


# ---------------------------------------------------------------------------
# package.json
# ---------------------------------------------------------------------------


def test_language_and_grammar_contributions():
    (lang,) = CONTRIB["languages"]
    assert lang["id"] == "mend"
    assert lang["extensions"] == [".mend"]
    assert ext_file(lang["configuration"]).is_file()
    (gram,) = CONTRIB["grammars"]
    assert gram["language"] == "mend"
    assert gram["scopeName"] == mendtm.load_grammar()["scopeName"] == "source.mend"
    assert ext_file(gram["path"]) == mendtm.GRAMMAR_PATH
    (snip,) = CONTRIB["snippets"]
    assert snip["language"] == "mend" and ext_file(snip["path"]).is_file()
    for key in ("name", "version", "publisher", "displayName", "description", "categories"):
        assert PKG.get(key), key
    assert re.fullmatch(r"\d+\.\d+\.\d+", PKG["version"])
    assert ext_file(PKG["main"]).is_file()


def matcher():
    (m,) = CONTRIB["problemMatchers"]
    return m


def js_regex(source: str) -> re.Pattern:
    # The problem matcher's regexp is a JavaScript regex; this one uses only what
    # Python's re spells the same way.
    assert not re.search(r"\(\?<|\\[pPk]|\(\?[imsx]", source), "regex uses syntax that differs between JS and Python"
    return re.compile(source)


def parse_line(line: str):
    m = matcher()
    pat = m["pattern"]
    found = js_regex(pat["regexp"]).match(line)
    if not found:
        return None
    return {k: found.group(pat[k]) for k in ("file", "line", "column", "severity", "code", "message")}


def test_problem_matcher_reads_short_format():
    m = matcher()
    assert m["name"] == "mend" and m["owner"] == "mend"
    assert m["fileLocation"][0] in ("autoDetect", "relative", "absolute")
    got = parse_line("stdlib-playbooks/mq_broker.mend:12:5: error[E0201]: unknown action `restrat`: did you mean `restart`?")
    assert got == {
        "file": "stdlib-playbooks/mq_broker.mend",
        "line": "12",
        "column": "5",
        "severity": "error",
        "code": "E0201",
        "message": "unknown action `restrat`: did you mean `restart`?",
    }
    got = parse_line("/home/op/playbooks/db: x.mend:3:17: warning[E0302]: the peer may be read-only")
    assert got["file"] == "/home/op/playbooks/db: x.mend" and got["line"] == "3" and got["severity"] == "warning"
    got = parse_line(r"C:\playbooks\zk.mend:1:1: note: imported here")
    assert got["file"] == r"C:\playbooks\zk.mend" and got["severity"] == "note" and got["code"] is None
    for other in ("  = help: add `backup store` before", "error: could not read `x.mend`", "mend: 3 errors", ""):
        assert parse_line(other) is None, other


def test_problem_matcher_severities_are_known_to_vscode():
    # VS Code maps error, warning, info(rmation) and, in the problem matcher, `note`
    # (to info); the regex must not let any other word through.
    rx = js_regex(matcher()["pattern"]["regexp"])
    for sev in ("error", "warning", "note"):
        assert rx.match(f"a.mend:1:1: {sev}[E0001]: m")
    for sev in ("help", "fatal", "Error"):
        assert not rx.match(f"a.mend:1:1: {sev}[E0001]: m")


def test_task_definition_and_activation():
    (td,) = CONTRIB["taskDefinitions"]
    assert td["type"] == "mend"
    assert td["required"] == ["task"]
    assert "check" in td["properties"]["task"]["enum"]
    assert "onTaskType:mend" in PKG["activationEvents"]


def test_matcher_reads_what_mend_check_prints(tmp_path):
    """With a built `mend` that has `check --format short`, every finding it prints
    on a broken playbook is a line the problem matcher reads."""
    binary, why = mendtm.mend_with_short_format()
    if binary is None:
        pytest.skip(why)
    broken = tmp_path / "broken.mend"
    broken.write_text("on software_fault(nowhere) <\n  restrat\n>\n", encoding="utf-8")
    run = subprocess.run([binary, "check", "--format", "short", str(tmp_path)], capture_output=True, text=True, timeout=60)
    lines = [ln for ln in (run.stdout + run.stderr).splitlines() if ln.strip()]
    findings = [ln for ln in lines if parse_line(ln)]
    assert findings, f"no line of `mend check --format short` matched the problem matcher:\n{run.stdout}{run.stderr}"
    for ln in findings:
        got = parse_line(ln)
        assert Path(got["file"]).name == "broken.mend", ln


# ---------------------------------------------------------------------------
# The task provider (extension.js), run under node with a stub of the vscode API
# ---------------------------------------------------------------------------

VSCODE_STUB = textwrap.dedent(
    """
    class Task { constructor(definition, scope, name, source, execution, problemMatchers) {
      Object.assign(this, { definition, scope, name, source, execution, problemMatchers }); } }
    class ShellExecution { constructor(command, args, options) { Object.assign(this, { command, args, options }); } }
    const registered = {};
    module.exports = {
      Task, ShellExecution,
      TaskGroup: { Build: 'build' },
      TaskRevealKind: { Silent: 2 },
      TaskScope: { Workspace: 2 },
      workspace: {
        workspaceFolders: [{ name: 'ops', uri: { fsPath: '/srv/ops' } }],
        getConfiguration: () => ({ get: (key) => (key === 'executable' ? '/opt/mend/bin/mend' : undefined) }),
      },
      tasks: { registerTaskProvider: (type, provider) => { registered[type] = provider; return { dispose() {} }; } },
      _registered: registered,
    };
    """
)

DRIVER = textwrap.dedent(
    """
    const vscode = require('vscode');
    const ext = require(process.argv[2]);
    const context = { subscriptions: [] };
    ext.activate(context);
    const provider = vscode._registered['mend'];
    const provided = provider.provideTasks();
    const folder = vscode.workspace.workspaceFolders[0];
    const resolved = provider.resolveTask(new vscode.Task(
      { type: 'mend', task: 'check', path: 'stdlib-playbooks', args: ['--deny', 'warnings'] }, folder, 'check', 'mend'));
    const other = provider.resolveTask(new vscode.Task({ type: 'shell' }, folder, 'x', 'y'));
    const simple = (t) => t && ({ definition: t.definition, name: t.name, source: t.source,
      command: t.execution.command, args: t.execution.args, cwd: t.execution.options && t.execution.options.cwd,
      problemMatchers: t.problemMatchers });
    console.log(JSON.stringify({ subscriptions: context.subscriptions.length,
      provided: provided.map(simple), resolved: simple(resolved), other: other === undefined }));
    """
)


def test_task_provider_runs_mend_check(tmp_path):
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed")
    stub = tmp_path / "node_modules" / "vscode"
    stub.mkdir(parents=True)
    (stub / "index.js").write_text(VSCODE_STUB, encoding="utf-8")
    driver = tmp_path / "driver.js"
    driver.write_text(DRIVER, encoding="utf-8")
    env = dict(os.environ, NODE_PATH=str(tmp_path / "node_modules"))
    run = subprocess.run([node, str(driver), str(EXT / "extension.js")], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["subscriptions"] == 1
    (task,) = out["provided"]
    assert task == {
        "definition": {"type": "mend", "task": "check"},
        "name": "check",
        "source": "mend",
        "command": "/opt/mend/bin/mend",
        "args": ["check", "--format", "short", "/srv/ops"],
        "cwd": "/srv/ops",
        "problemMatchers": ["$mend"],
    }
    assert out["resolved"]["args"] == ["check", "--format", "short", "--deny", "warnings", "stdlib-playbooks"]
    assert out["resolved"]["problemMatchers"] == ["$" + matcher()["name"]]
    assert out["other"] is True


# ---------------------------------------------------------------------------
# language-configuration.json
# ---------------------------------------------------------------------------


def test_language_configuration():
    assert LANGCONF["comments"]["lineComment"] == "#"
    pairs = {tuple(p) for p in LANGCONF["brackets"]}
    assert {("<", ">"), ("{", "}"), ("(", ")")} <= pairs
    closing = {(p["open"], p["close"]) for p in LANGCONF["autoClosingPairs"]}
    assert {("<", ">"), ("{", "}"), ("(", ")"), ('"', '"')} <= closing
    assert {("<", ">"), ("{", "}"), ("(", ")"), ('"', '"')} <= {tuple(p) for p in LANGCONF["surroundingPairs"]}
    markers = LANGCONF["folding"]["markers"]
    assert js_regex(markers["start"]).match("  # region backups")
    assert js_regex(markers["end"]).match("# endregion")
    assert not js_regex(markers["start"]).match("# endregion")


@pytest.mark.parametrize(
    "line,increase,decrease",
    [
        ("on host_down(mq_broker) <", True, False),
        ("component mq_broker {                      # §3.2", True, False),
        ("procedure recover_mysql(", True, False),
        ("  match role {", True, False),
        ("    master => < backup store from peer >,", False, False),
        ('  ask "is a < b"', False, False),
        ('  ask "is a <"  # <', False, False),
        ("  restart;", False, False),
        (">", False, True),
        ("  }", False, True),
        ("  > finally <", True, True),
    ],
)
def test_indentation_rules(line, increase, decrease):
    rules = LANGCONF["indentationRules"]
    assert bool(js_regex(rules["increaseIndentPattern"]).search(line)) == increase
    assert bool(js_regex(rules["decreaseIndentPattern"]).search(line)) == decrease


# ---------------------------------------------------------------------------
# Snippets
# ---------------------------------------------------------------------------


def expand_snippet(body: str) -> str:
    """VS Code snippet syntax -> the text inserted with every default accepted."""
    values: dict[str, str] = {}
    pos = 0

    def parse(stop: str | None) -> str:
        nonlocal pos
        out = []
        while pos < len(body):
            c = body[pos]
            if c == "\\" and pos + 1 < len(body) and body[pos + 1] in "$}\\,|":
                out.append(body[pos + 1])
                pos += 2
            elif stop and c == stop:
                return "".join(out)
            elif c == "$":
                m = re.compile(r"\$(\d+)|\$\{(\d+)\}|\$\{(\d+):|\$\{(\d+)\|([^|]*)\|\}").match(body, pos)
                assert m, f"bad snippet syntax at {body[pos:pos + 20]!r}"
                pos = m.end()
                if m.group(1) or m.group(2):
                    out.append(values.get(m.group(1) or m.group(2), ""))
                elif m.group(3):
                    inner = parse("}")
                    pos += 1  # the }
                    values[m.group(3)] = inner
                    out.append(inner)
                else:
                    choice = m.group(5).split(",")[0]
                    values[m.group(4)] = choice
                    out.append(choice)
            else:
                out.append(c)
                pos += 1
        assert stop is None, "unclosed placeholder"
        return "".join(out)

    return parse(None).replace("\t", "  ")


def test_snippet_expansion_helper():
    assert expand_snippet("a ${1:b ${2:c}} $1 ${3|x,y|} \\$ $0") == "a b c b c x $ "


REQUIRED_SNIPPETS = {
    "software_fault": "on software_fault(",
    "host_down": "on host_down(",
    "hardware_fault": "on hardware_fault(",
    "component": "component ",
    "procedure": "procedure ",
    "match role": "match role {",
    "ask": "ask ",
    "each": "each ",
    "try finally": "try <",
}


def test_required_snippets_exist():
    by_prefix = {}
    for snip in SNIPPETS.values():
        prefixes = snip["prefix"] if isinstance(snip["prefix"], list) else [snip["prefix"]]
        for p in prefixes:
            by_prefix[p] = expand_snippet("\n".join(snip["body"]))
    for prefix, start in REQUIRED_SNIPPETS.items():
        assert prefix in by_prefix, f"no snippet with prefix {prefix!r}"
        assert by_prefix[prefix].startswith(start), (prefix, by_prefix[prefix])
    assert "finally" in by_prefix["try finally"]
    assert re.search(r"\beach \w+ on host <.*> limit 8$", by_prefix["each"])


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippet_tokenizes_cleanly(name):
    snip = SNIPPETS[name]
    assert snip.get("description")
    text = expand_snippet("\n".join(snip["body"]))
    top_level = re.match(r"(on|component|procedure|import)\b", text)
    source = text + "\n" if top_level else f"on software_fault(c) <\n  {text}\n>\n"
    tokens = mendtm.tokenize(source)
    problems = [
        (t.text, t.flat_scopes())
        for t in tokens
        if (t.text.strip() and not t.scopes)
        or any(s.startswith("invalid.") and s != "invalid.deprecated.danger.mend" for s in t.flat_scopes())
    ]
    assert not problems, f"{name}:\n{source}\n{problems}"
    diffs = mendtm.engine_differences(source, name)
    assert not diffs, "\n".join(diffs)

#!/usr/bin/env python3
"""Render a .mend file as highlighted HTML through the extension's TextMate grammar,
tokenized by textmate-grammar-python (the tokenizer of tests/editor), and optionally
take a PNG of it with headless Chromium.

    python3 editors/vscode/tools/render_html.py stdlib-playbooks/mq_broker.mend \
        --lines 1-60 --html target/highlighted.html --png editors/vscode/images/highlighted.png

Needs the packages of tests/editor/requirements.txt (tests/editor/run.sh makes a
venv with them: target/editor-venv/bin/python) and, for --png, Debian's `chromium`.

The theme is VS Code's Dark+ palette with rules added for the scopes Dark+ leaves
plain (fault names, finding codes) and for the words of danger, which Dark+ shows
red through `invalid` and this picture also shows bold on a red tint.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

EXT = Path(__file__).resolve().parents[1]
GRAMMAR = EXT / "syntaxes" / "mend.tmLanguage.json"

BACKGROUND = "#1e1e1e"
FOREGROUND = "#d4d4d4"

# scope selector (a prefix, by dot-separated parts) -> CSS
THEME: dict[str, str] = {
    "comment": "color:#6a9955",
    "markup.underline.link": "color:#4fc1ff;text-decoration:underline",
    "string": "color:#ce9178",
    "constant.character.escape": "color:#d7ba7d",
    "punctuation.section.embedded": "color:#569cd6",
    "constant.numeric": "color:#b5cea8",
    "keyword.other.unit": "color:#b5cea8",
    "constant.language": "color:#569cd6",
    "constant.other": "color:#4fc1ff",
    "keyword": "color:#569cd6",
    "keyword.control": "color:#c586c0",
    "keyword.operator": "color:#d4d4d4",
    "storage": "color:#569cd6",
    "entity.name.type": "color:#4ec9b0",
    "entity.name.function": "color:#dcdcaa",
    "support.function": "color:#dcdcaa",
    "support.type": "color:#4ec9b0",
    "support.type.property-name": "color:#9cdcfe",
    "support.constant": "color:#4fc1ff;font-weight:bold",
    "support.variable": "color:#9cdcfe",
    "variable": "color:#9cdcfe",
    "variable.language": "color:#569cd6",
    "invalid": "color:#f44747",
    "invalid.deprecated.danger": "color:#ff6b6b;font-weight:bold;background:rgba(244,71,71,.16);border-radius:3px",
}


def style_for(scopes: list[str]) -> str:
    """TextMate-style resolution: the innermost scope that some rule matches wins,
    and among the rules matching it the longest selector."""
    for scope in reversed(scopes):
        parts = scope.split(".")
        for n in range(len(parts), 0, -1):
            css = THEME.get(".".join(parts[:n]))
            if css:
                return css
    return ""


def tokenize(text: str):
    cwd = os.getcwd()
    os.chdir(tempfile.gettempdir())  # textmate_grammar makes a cache dir where it is imported
    try:
        from textmate_grammar.parsers.base import LanguageParser
    finally:
        os.chdir(cwd)
    logging.getLogger("textmate_grammar").setLevel(logging.ERROR)
    parser = LanguageParser(json.loads(GRAMMAR.read_text(encoding="utf-8")))
    element = parser.parse_string(text if text.endswith("\n") else text + "\n")
    lines: list[list[tuple[int, str, list[str]]]] = [[] for _ in text.split("\n")]
    if element is None:
        return lines
    for (line, col), content, scopes in element.flatten():
        flat = [s for name in scopes for s in name.split() if s != "source.mend"]
        for i, part in enumerate(content.split("\n")):
            if part:
                lines[line + i].append((col if i == 0 else 0, part, flat))
    return lines


def wrap(chars: list[tuple[str, str, str]], cols: int) -> list[list[tuple[str, str, str]]]:
    """Break one line of styled characters into rows of at most `cols`, at spaces
    where it can; continuation rows are indented 4 past the line's indentation."""
    if len(chars) <= cols:
        return [chars]
    indent = len(chars) - len("".join(c for c, _, _ in chars).lstrip())
    pad = [(" ", "", "")] * (indent + 4)
    rows, rest, first = [], chars, True
    while rest:
        room = cols if first else cols - len(pad)
        if len(rest) <= room:
            rows.append(rest if first else pad + rest)
            break
        cut = max((i for i in range(1, room) if rest[i][0] == " "), default=room)
        row, rest = rest[:cut], rest[cut:]
        while rest and rest[0][0] == " ":
            rest = rest[1:]
        rows.append(row if first else pad + row)
        first = False
    return rows


def spans(chars: list[tuple[str, str, str]]) -> str:
    out, i = [], 0
    while i < len(chars):
        j = i
        while j < len(chars) and chars[j][1:] == chars[i][1:]:
            j += 1
        text = html.escape("".join(c for c, _, _ in chars[i:j]))
        css, title = chars[i][1], chars[i][2]
        out.append(f'<span style="{css}" title="{html.escape(title, quote=True)}">{text}</span>' if css else text)
        i = j
    return "".join(out)


def render(path: Path, first: int, last: int | None, title: str, cols: int = 100) -> tuple[str, int, int]:
    text = path.read_text(encoding="utf-8")
    src_lines = text.split("\n")
    if src_lines and src_lines[-1] == "":
        src_lines.pop()
    last = min(last or len(src_lines), len(src_lines))
    tokens = tokenize(text)
    rows = []
    width = 0
    for lineno in range(first - 1, last):
        src = src_lines[lineno]
        chars = [(c, "", "") for c in src]
        for col, part, scopes in tokens[lineno]:
            css, names = style_for(scopes), " ".join(scopes)
            for k in range(col, min(col + len(part), len(chars))):
                chars[k] = (src[k], css, names)
        for n, row in enumerate(wrap(chars, cols)):
            width = max(width, len(row))
            number = str(lineno + 1) if n == 0 else ""
            rows.append(f'<div class="l"><span class="n">{number}</span>{spans(row) or " "}</div>')
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
  html, body {{ margin: 0; background: {BACKGROUND}; }}
  .bar {{ font: 13px/19px "DejaVu Sans", sans-serif; color: #cccccc; background: #2d2d2d;
         padding: 7px 14px; border-bottom: 1px solid #252526; }}
  .bar b {{ color: #ffffff; font-weight: normal; }}
  pre {{ margin: 0; padding: 10px 0 12px 0; color: {FOREGROUND};
        font: 14px/20px "DejaVu Sans Mono", monospace; }}
  .l {{ white-space: pre; height: 20px; }}
  .n {{ display: inline-block; width: 3.2em; padding-right: 1.4em; text-align: right; color: #858585; }}
</style></head>
<body><div class="bar"><b>{html.escape(title)}</b> — mend</div>
<pre>{"".join(rows)}</pre></body></html>
"""
    px_width = int((width + 6.5) * 8.43) + 30
    px_height = 20 * len(rows) + 22 + 34
    return page, px_width, px_height


def screenshot(html_path: Path, png: Path, width: int, height: int) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        raise SystemExit("render_html: no chromium (apt-get install -y chromium)")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--force-device-scale-factor=1", f"--user-data-dir={profile}",
            f"--window-size={width},{height}", f"--screenshot={png}", html_path.resolve().as_uri(),
        ]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Render a .mend file as highlighted HTML (and PNG).")
    ap.add_argument("file", type=Path)
    ap.add_argument("--lines", help="FIRST-LAST, 1-based, inclusive (default: the whole file)")
    ap.add_argument("--html", type=Path, help="write the HTML here (default: stdout)")
    ap.add_argument("--png", type=Path, help="also take a PNG of it with headless Chromium")
    ap.add_argument("--title", help="the name shown in the title bar (default: the file's path)")
    ap.add_argument("--wrap", type=int, default=100, help="wrap lines longer than this many columns (default 100)")
    args = ap.parse_args(argv)

    first, last = 1, None
    if args.lines:
        a, _, b = args.lines.partition("-")
        first, last = int(a), int(b) if b else None
    page, width, height = render(args.file, first, last, args.title or args.file.as_posix(), args.wrap)
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(page, encoding="utf-8")
    elif not args.png:
        sys.stdout.write(page)
    if args.png:
        with tempfile.TemporaryDirectory() as tmp:
            html_path = args.html or Path(tmp) / "page.html"
            if not args.html:
                html_path.write_text(page, encoding="utf-8")
            screenshot(html_path, args.png, width, height)
        print(f"render_html: wrote {args.png} ({width}x{height})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

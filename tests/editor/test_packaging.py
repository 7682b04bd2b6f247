"""scripts/package-vscode builds a .vsix that VS Code can install."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from mendtm import REPO

EXT = REPO / "editors" / "vscode"
SCRIPT = REPO / "scripts" / "package-vscode"
PKG_BYTES = (EXT / "package.json").read_bytes()
PKG = json.loads(PKG_BYTES)
VSX = "{http://schemas.microsoft.com/developer/vsx-schema/2011}"
OPC = "{http://schemas.openxmlformats.org/package/2006/content-types}"


def build(out_dir: Path | None = None) -> Path:
    cmd = [sys.executable, str(SCRIPT)] + (["--out-dir", str(out_dir)] if out_dir else [])
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    out = (out_dir or REPO / "target") / f"{PKG['name']}-{PKG['version']}.vsix"
    assert out.is_file(), run.stdout
    assert out.name in run.stdout
    return out


@pytest.fixture(scope="module")
def vsix():
    # The default place, target/mend-<version>.vsix, as the README says.
    path = build()
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        yield zf


def test_structure(vsix):
    names = vsix.namelist()
    assert names[:2] == ["extension.vsixmanifest", "[Content_Types].xml"]
    assert len(names) == len(set(names))
    for name in names[2:]:
        assert name.startswith("extension/"), name
        assert "\\" not in name and not name.endswith("/")
    for required in (
        "extension/package.json",
        "extension/language-configuration.json",
        "extension/syntaxes/mend.tmLanguage.json",
        "extension/snippets/mend.json",
        "extension/extension.js",
        "extension/README.md",
        "extension/images/highlighted.png",
    ):
        assert required in names, required
    # development files stay out
    assert not [n for n in names if n.startswith("extension/tools/") or "/." in n or "__pycache__" in n]


def test_package_json_is_the_repositorys(vsix):
    assert vsix.read("extension/package.json") == PKG_BYTES


def test_every_file_is_the_repositorys(vsix):
    for name in vsix.namelist()[2:]:
        assert vsix.read(name) == (EXT / name.removeprefix("extension/")).read_bytes(), name


def test_files_package_json_refers_to_are_inside(vsix):
    names = set(vsix.namelist())
    contributes = PKG["contributes"]
    refs = [PKG["main"]]
    refs += [lang["configuration"] for lang in contributes["languages"]]
    refs += [g["path"] for g in contributes["grammars"]] + [s["path"] for s in contributes["snippets"]]
    for ref in refs:
        assert "extension/" + ref.removeprefix("./") in names, ref
    readme = vsix.read("extension/README.md").decode("utf-8")
    assert "images/highlighted.png" in readme


def test_manifest(vsix):
    root = ET.fromstring(vsix.read("extension.vsixmanifest"))
    assert root.tag == f"{VSX}PackageManifest" and root.get("Version") == "2.0.0"
    meta = root.find(f"{VSX}Metadata")
    ident = meta.find(f"{VSX}Identity")
    assert ident.get("Id") == PKG["name"]
    assert ident.get("Version") == PKG["version"]
    assert ident.get("Publisher") == PKG["publisher"]
    assert ident.get("Language") == "en-US"
    assert meta.find(f"{VSX}DisplayName").text == PKG["displayName"]
    assert meta.find(f"{VSX}Description").text == PKG["description"]
    assert meta.find(f"{VSX}Categories").text.split(",") == PKG["categories"]
    props = {p.get("Id"): p.get("Value") for p in meta.find(f"{VSX}Properties")}
    assert props["Microsoft.VisualStudio.Code.Engine"] == PKG["engines"]["vscode"]
    target = root.find(f"{VSX}Installation/{VSX}InstallationTarget")
    assert target.get("Id") == "Microsoft.VisualStudio.Code"
    assets = {a.get("Type"): a.get("Path") for a in root.find(f"{VSX}Assets")}
    assert assets["Microsoft.VisualStudio.Code.Manifest"] == "extension/package.json"
    assert assets["Microsoft.VisualStudio.Services.Content.Details"] == "extension/README.md"
    for path in assets.values():
        assert path in vsix.namelist(), path


def test_content_types_cover_every_file(vsix):
    root = ET.fromstring(vsix.read("[Content_Types].xml"))
    assert root.tag == f"{OPC}Types"
    defaults = {d.get("Extension").lower(): d.get("ContentType") for d in root.findall(f"{OPC}Default")}
    assert defaults[".vsixmanifest"] == "text/xml"
    assert defaults[".json"] == "application/json"
    for name in vsix.namelist():
        if name == "[Content_Types].xml":
            continue
        suffix = Path(name).suffix.lower()
        assert suffix in defaults, f"{name}: no content type for {suffix}"


def test_build_is_reproducible(tmp_path):
    a = build(tmp_path / "a").read_bytes()
    b = build(tmp_path / "b").read_bytes()
    assert a == b

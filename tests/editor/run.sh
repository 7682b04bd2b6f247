#!/usr/bin/env bash
# The editor tests: the TextMate grammar (tokenized by textmate-grammar-python on
# Oniguruma), package.json, snippets, the task provider and the .vsix packaging.
# No npm. Makes (once) a venv in target/editor-venv with tests/editor/requirements.txt.
#
#   tests/editor/run.sh                      all the tests
#   tests/editor/run.sh -k snapshot          pytest arguments are passed on
#   UPDATE_SNAPSHOTS=1 tests/editor/run.sh   rewrite tests/editor/snapshots/
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
req="tests/editor/requirements.txt"
venv="${EDITOR_VENV:-$repo/target/editor-venv}"
python="${PYTHON:-python3}"

stamp="$venv/.requirements.sha256"
want="$( (cat "$req"; "$python" --version) | sha256sum | cut -d' ' -f1)"

if [[ ! -x "$venv/bin/python" ]] || [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "editor tests: installing $req into ${venv#"$repo"/}" >&2
  if "$python" -m venv --clear "$venv" >/dev/null 2>&1 && [[ -x "$venv/bin/python" ]]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
    py="$venv/bin/python"
  else
    # No venv module (Debian without python3-venv): install for the user instead.
    echo "editor tests: no venv, using pip install --user" >&2
    "$python" -m pip install --quiet --disable-pip-version-check --user -r "$req"
    py="$python"
  fi
else
  py="$venv/bin/python"
fi

exec "$py" -m pytest tests/editor -q -p no:cacheprovider "$@"

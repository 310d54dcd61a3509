# Sourced by scripts/test, scripts/demo and the others: make .venv and install lotchain.
# LOTCHAIN_EXTRAS picks the extras (default: test, what the suite needs); scripts/demo
# sets it to none (or postgres), so a demo installs only lotchain and its dependencies.
# Idempotent: reinstalls only when pyproject.toml changed since the last install, or when
# the extras asked for are not among those installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $($PYTHON --version)" >&2
    "$PYTHON" -m venv .venv
fi
extras="${LOTCHAIN_EXTRAS-test}"
digest="$(sha256sum pyproject.toml | cut -d' ' -f1)"
stamp=".venv/.lotchain-installed"
installed=""
if [ -f "$stamp" ]; then installed="$(cat "$stamp")"; fi
# the test extra holds everything the others need (postgres driver included)
case "$installed" in
    "$digest-$extras" | "$digest-test") ;;
    *)
        spec="."
        if [ -n "$extras" ]; then spec=".[$extras]"; fi
        echo "setup: installing lotchain${extras:+ [$extras]} into .venv" >&2
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec" >&2
        echo "$digest-$extras" > "$stamp"
        ;;
esac
export PATH="$ROOT/.venv/bin:$PATH"

# Sourced by scripts/test and scripts/demo: make .venv and install lotchain into it.
# Idempotent: reinstalls only when pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $($PYTHON --version)" >&2
    "$PYTHON" -m venv .venv
fi
stamp=".venv/.lotchain-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)-${LOTCHAIN_EXTRAS:-test}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "setup: installing lotchain and its dependencies into .venv" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check \
        -e ".[${LOTCHAIN_EXTRAS:-test}]" >&2
    echo "$want" > "$stamp"
fi
export PATH="$ROOT/.venv/bin:$PATH"
# The console's browser tests drive Debian's chromium through its chromium-driver: install
# them when missing, only as root with apt-get (elsewhere those tests skip, saying why).
if [ "${LOTCHAIN_EXTRAS:-test}" = test ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing chromium and chromium-driver with apt-get" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >&2
    else
        echo "setup: no chromium/chromedriver and not root with apt-get: the browser tests will skip" >&2
    fi
fi

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
# The console's browser tests drive Debian's chromium through its chromium-driver: install
# them when missing, only as root with apt-get (elsewhere those tests skip, saying why).
if [ "$extras" = test ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing chromium and chromium-driver with apt-get" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >&2
    else
        echo "setup: no chromium/chromedriver and not root with apt-get: the browser tests will skip" >&2
    fi
fi

#!/usr/bin/env bash
# Installs the third-party Python clients the simulator is tested against
# (pyvcloud 23.0.4, vcd-cli 24.1.0) and pytest 8.4.2 (examples/python) into a
# virtualenv under target/pyclients/venv.
# Called by scripts/test.sh; the vcd-sim test tests/python_clients.rs runs it too
# when the virtualenv is missing. Any failure (no python3-venv, pip error) exits
# non-zero: under CI the tests must fail, not skip.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${PYCLIENTS_VENV:-target/pyclients/venv}"
MARKER="$VENV/.installed-pyvcloud-23.0.4-vcd-cli-24.1.0"
PYTEST_MARKER="$VENV/.installed-pytest-8.4.2"

# pytest runs the example suite in examples/python.
install_pytest() {
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check pytest==8.4.2
    "$VENV/bin/python" -m pytest --version >/dev/null
    touch "$PYTEST_MARKER"
    echo "python clients: installed pytest 8.4.2"
}

if [ -f "$MARKER" ] && [ -x "$VENV/bin/vcd" ]; then
    [ -f "$PYTEST_MARKER" ] || install_pytest
    echo "python clients: ready in $VENV"
    exit 0
fi

if ! python3 -m venv --help >/dev/null 2>&1; then
    echo "python clients: python3 venv module missing; installing python3-venv" >&2
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
    else
        sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
    fi
fi

echo "python clients: creating $VENV"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check pyvcloud==23.0.4 vcd-cli==24.1.0
"$VENV/bin/python" -c "import pyvcloud.vcd.client, vcd_cli.vcd" 
touch "$MARKER"
echo "python clients: installed pyvcloud 23.0.4 and vcd-cli 24.1.0"
install_pytest

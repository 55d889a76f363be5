#!/usr/bin/env bash
# Creates the Python environments the pyVmomi conformance tests of vcd-sim's vCenter
# endpoint run in (vcd-sim/tests/vsphere_pyvmomi.rs):
#
#   target/python-vsphere/pyvmomi9/    the newest pyVmomi (9.x: Fetch, vimServiceVersions.xml)
#   target/python-vsphere/pyvmomi671/  pyvmomi==6.7.1, what a 2018 CSE install resolved
#                                      (RetrievePropertiesEx, vimService.wsdl fallback)
#
# Both also get vsphere-guest-run 0.0.7, the library CSE 1.2.x runs guest scripts with.
# Each venv is created once; a marker file records the requirements of a finished install,
# so re-running is cheap and a changed requirement list rebuilds the venv.
# Needs python3 (3.11 is what the project's machines have) with the venv module.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
ROOT="target/python-vsphere"
mkdir -p "$ROOT"

make_venv() {
    local name="$1"
    shift
    local dir="$ROOT/$name"
    if [ -f "$dir/.installed" ] && [ "$(cat "$dir/.requirements" 2>/dev/null)" = "$*" ]; then
        echo "python-vsphere: $dir ready ($(cat "$dir/.installed"))"
        return 0
    fi
    echo "python-vsphere: creating $dir with $*"
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
    "$dir/bin/python" -c 'import pyVmomi, importlib.metadata as m; print("pyvmomi", m.version("pyvmomi"))' \
        >"$dir/.installed"
    echo "$*" >"$dir/.requirements"
    echo "python-vsphere: $dir ready ($(cat "$dir/.installed"))"
}

# Newest 9.x release available from the package index.
make_venv pyvmomi9 "pyvmomi>=9,<10" vsphere-guest-run==0.0.7 requests
# 6.7.1 imports six and requests at runtime.
make_venv pyvmomi671 "pyvmomi==6.7.1" six requests vsphere-guest-run==0.0.7

#!/usr/bin/env bash
# Downloads the original CSE 1.2.5 template scripts (test fixtures only; they
# are not part of this repository) from the container-service-extension 1.2.5
# sdist on PyPI, checks the sdist's digest, and copies scripts/*.sh into the
# destination directory (default: target/cse-1.2.5-scripts).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
dest="${1:-${CARGO_TARGET_DIR:-$here/target}/cse-1.2.5-scripts}"
expected_sha256="026860f16e566c8f23231f64f2523eb620d7931ea063160a8e660b323915c75f"
sdist="container-service-extension-1.2.5.tar.gz"

if [ -f "$dest/mstr-photon-v2.sh" ] && [ -f "$dest/cust-ubuntu-16.04.sh" ]; then
    echo "original CSE 1.2.5 scripts already in $dest" >&2
    exit 0
fi

pip_cmd=()
if command -v pip >/dev/null 2>&1; then
    pip_cmd=(pip)
elif command -v python3 >/dev/null 2>&1; then
    pip_cmd=(python3 -m pip)
else
    echo "error: neither pip nor python3 is available to download $sdist" >&2
    exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"${pip_cmd[@]}" download --quiet --no-deps --no-binary :all: \
    container-service-extension==1.2.5 -d "$work" >&2

actual_sha256="$(sha256sum "$work/$sdist" | cut -d' ' -f1)"
if [ "$actual_sha256" != "$expected_sha256" ]; then
    echo "error: $sdist has sha256 $actual_sha256, expected $expected_sha256" >&2
    exit 1
fi

tar -xzf "$work/$sdist" -C "$work"
# Publish the directory in one rename so concurrent readers never see a
# half-copied set.
mkdir -p "$(dirname "$dest")"
staging="$(mktemp -d "$dest.XXXXXX")"
cp "$work/container-service-extension-1.2.5/scripts/"*.sh "$staging/"
if [ -d "$dest" ] && [ -z "$(ls -A "$dest")" ]; then
    rmdir "$dest"
fi
if mv -T "$staging" "$dest" 2>/dev/null; then
    echo "original CSE 1.2.5 scripts copied to $dest" >&2
else
    rm -rf "$staging"
    echo "original CSE 1.2.5 scripts already in $dest" >&2
fi

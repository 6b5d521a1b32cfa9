#!/usr/bin/env bash
# Installs what the gateway needs from Debian's packages, only if missing.
# Usage: scripts/install-deps.sh [--test]   (--test adds what the test suite needs)
set -euo pipefail

packages=(pkg-config libwebsockets-dev libmongoc-dev libbson-dev libhiredis-dev libsqlite3-dev openssl libssl-dev)   # libssl-dev: libcrypto for social-blast
python_modules=()
if [[ "${1:-}" == "--test" ]]; then
    packages+=(redis-server nginx-light)   # integration tests start their own Redis and nginx
    packages+=(iproute2)                   # the partition tests make network namespaces (ip netns; they skip without)
    python_modules=(pytest jsonschema websockets prometheus_client openapi_spec_validator)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing Debian packages: ${missing[*]}"
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

for m in "${python_modules[@]}"; do
    python3 -c "import $m" 2>/dev/null || { echo "installing Python module: $m"; python3 -m pip install -q "$m"; }
done

# The MongoDB-wire test server for the SocialMongo tests (they fail in CI without it).
if [[ "${1:-}" == "--test" ]] && ! command -v secantusd-py >/dev/null; then
    echo "installing the MongoDB-wire test server: secantusdb"
    python3 -m pip install -q "secantusdb==0.7.0b3"
    command -v pyenv >/dev/null && pyenv rehash || true
fi

# Schemathesis checks the backend API against protocol/openapi.yaml (protocol/test_schemathesis.py), from a
# virtual environment of its own: it pins versions of pytest and others that the system's may not match.
SCHEMATHESIS_VENV="${SCHEMATHESIS_VENV:-$HOME/.cache/social-gateway/schemathesis}"
if [[ "${1:-}" == "--test" ]] && [[ ! -x "$SCHEMATHESIS_VENV/bin/st" ]]; then
    echo "installing Schemathesis in $SCHEMATHESIS_VENV"
    python3 -m venv "$SCHEMATHESIS_VENV"
    "$SCHEMATHESIS_VENV/bin/pip" install -q "schemathesis==4.32.5"
fi

# Deno runs the TypeScript SDK's checks and tests (clients/typescript); PyPI ships it, offline-capable.
if [[ "${1:-}" == "--test" ]] && ! command -v deno >/dev/null; then
    echo "installing Deno (for the TypeScript SDK's tests)"
    python3 -m pip install -q "deno>=2.9,<2.10"
    command -v pyenv >/dev/null && pyenv rehash || true
fi

if ! command -v swift >/dev/null; then
    if [[ -x /opt/swift/usr/bin/swift ]]; then
        echo "note: add /opt/swift/usr/bin to PATH" >&2
    else
        echo "error: Swift 6.2 or newer is required (swift.org toolchain); it is not a Debian package" >&2
        exit 1
    fi
fi

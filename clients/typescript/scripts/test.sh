#!/usr/bin/env bash
# The TypeScript SDK's checks: type-check, lint, unit tests, and integration
# tests against real social-gateway processes. Deno comes from PyPI (installed
# here when missing); nothing else is downloaded.
# Needs SOCIAL_GATEWAY_BIN (the repo's scripts/test.sh exports it); without it,
# the gateway is built with `swift build --product social-gateway`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v deno >/dev/null; then
    echo "installing Deno from PyPI"
    python3 -m pip install -q "deno>=2.9,<2.10"
    command -v pyenv >/dev/null && pyenv rehash || true
fi

if [[ -z "${SOCIAL_GATEWAY_BIN:-}" ]]; then
    export PATH="/opt/swift/usr/bin:$PATH"
    (cd ../.. && swift build --product social-gateway)
    SOCIAL_GATEWAY_BIN="$(cd ../.. && swift build --show-bin-path)/social-gateway"
    export SOCIAL_GATEWAY_BIN
fi

export NO_COLOR=1
deno --version | head -1
deno check mod.ts test/
deno lint
# Unit tests read protocol/ (the example frames); integration tests also run
# the gateway, open sockets and temp dirs, and read /proc/net/tcp (the proxy),
# which Deno grants only with --allow-all.
deno test --allow-read=../.. test/unit/
deno test --allow-all test/integration/

#!/usr/bin/env bash
# One command from a fresh machine to a full test run: installs what is
# missing, builds everything, runs the Swift tests (unit, store contract,
# integration over real sockets against gateway processes), the protocol
# document checks, the tests that use standard Python clients (the
# websockets library, a Prometheus text-format parser), and the TypeScript
# client SDK's tests (clients/typescript, run by Deno against the gateway).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

scripts/install-deps.sh --test
swift build --build-tests
export SOCIAL_GATEWAY_BIN="$(swift build --show-bin-path)/social-gateway"
# One suite at a time: the integration suites start gateway, Redis, MongoDB-wire
# and nginx processes, and on 2 cores running them all at once starves the
# threads whose timing the outage tests check.
swift test --skip-build --no-parallel
python3 -m pytest protocol Tests/python -q -p no:cacheprovider
clients/typescript/scripts/test.sh

#!/usr/bin/env bash
# One command from a fresh machine to a running gateway on its embedded
# defaults (SQLite in ./data, in-process fan-out): installs what is missing,
# builds a release binary, and starts it. Extra arguments go to social-gateway.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

scripts/install-deps.sh
for product in social-gateway social-cli; do
    swift build -c release --product "$product"
done

mkdir -p data
if [[ -z "${SOCIAL_GATEWAY_JWT_SECRET:-}" && -z "${SOCIAL_GATEWAY_JWT_PUBLIC_KEYS:-}" && " $* " != *" --jwt-"* ]]; then
    # No SSO key given: make a local development secret, kept in data/.
    [[ -s data/dev-jwt-secret ]] || openssl rand -hex 32 > data/dev-jwt-secret
    export SOCIAL_GATEWAY_JWT_SECRET="$(cat data/dev-jwt-secret)"
    echo "development HS256 secret in data/dev-jwt-secret; connect with:"
    echo "  $(swift build -c release --show-bin-path)/social-cli --url ws://127.0.0.1:${SOCIAL_GATEWAY_PORT:-8080}/ws --user alice --secret \$(cat data/dev-jwt-secret)"
fi
exec "$(swift build -c release --show-bin-path)/social-gateway" --data-dir "${SOCIAL_GATEWAY_DATA_DIR:-data}" "$@"

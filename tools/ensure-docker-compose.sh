#!/usr/bin/env bash
# Make `docker-compose` (v1, Debian package) available so tests/unit/test_compose.py can
# validate compose.yaml offline. Idempotent: returns at once when it is already installed.
set -euo pipefail

if command -v docker-compose >/dev/null 2>&1; then
    exit 0
fi

if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq </dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        docker-compose </dev/null >/dev/null
    command -v docker-compose >/dev/null 2>&1 && exit 0
fi

echo "docker-compose unavailable (need root and apt-get): the compose config test will be skipped" >&2
exit 0

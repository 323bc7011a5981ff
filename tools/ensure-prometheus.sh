#!/usr/bin/env bash
# Make Debian's `prometheus` (with `promtool`) available: `courseflow stack up --monitoring`
# runs it, and tests/unit/test_monitoring_rules.py checks the alert rules and the generated
# prometheus.yml with promtool. Idempotent: returns at once when both are installed.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    exit 0
fi

if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq </dev/null
    # Without recommends: no node exporter. The package's own system service (port 9090) is
    # not ours: `courseflow stack up --monitoring` runs its own under .local/prometheus/.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        prometheus </dev/null >/dev/null
    command -v promtool >/dev/null 2>&1 && exit 0
fi

echo "prometheus unavailable (need root and apt-get): the promtool tests will be skipped" \
    "and \`courseflow stack up --monitoring\` cannot start Prometheus" >&2
exit 0

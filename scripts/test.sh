#!/usr/bin/env bash
# Runs every test: unit tests, real-kernel tests (eBPF loaded into this machine's kernel, traffic
# over loopback and between network namespaces) and the in-Karaf Pax Exam tests.
# Installs what it needs on a fresh Debian machine. Must run as root.
# With CI=true a missing kernel capability fails the run instead of skipping tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-host.sh
exec mvn -B -ntp install "$@"

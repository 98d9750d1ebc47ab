#!/usr/bin/env bash
# Runs the MicroBPF agent: Apache Karaf with the microbpf features, in the foreground, so the
# console sink's lines appear in this terminal.
#
# On a fresh Debian machine, as root, it:
#   1. installs the Debian packages that are missing (clang, llvm, libbpf-dev, bpftool, Maven, a Java
#      17 JDK, ...; checked with dpkg -s, "apt-get update" only when something is missing) and
#   2. mounts tracefs on /sys/kernel/tracing and bpffs on /sys/fs/bpf if they are not mounted,
#      both done by scripts/setup-host.sh, which scripts/test.sh uses too;
#   3. builds the project (mvn -B -q install -DskipTests) unless the distribution is already built;
#   4. unpacks the distribution under distribution/target/run and starts bin/karaf with JAVA_HOME
#      pinned to a Java 17 JDK (Karaf 4.4 does not start on Java 25).
#
# Usage: scripts/run-agent.sh [--rebuild] [--no-console]
#   --rebuild     build again and unpack a fresh copy even if a distribution is already built
#   --no-console  run "bin/karaf server" (no interactive shell; chosen anyway when stdin is not a
#                 terminal); use "bin/client" from another terminal, e.g.
#                 echo microbpf:probe-list | distribution/target/run/microbpf-distribution-*/bin/client -b
# Stop with Ctrl-D or "shutdown -f" in the console, or Ctrl-C.
set -euo pipefail

die() {
    echo "run-agent: error: $*" >&2
    exit 1
}

info() {
    echo "run-agent: $*" >&2
}

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
}

REBUILD=false
CONSOLE=true
while [ $# -gt 0 ]; do
    case "$1" in
        --rebuild) REBUILD=true ;;
        --no-console) CONSOLE=false ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO
readonly DIST_TARGET="${REPO}/distribution/target"
readonly RUN_DIR="${DIST_TARGET}/run"

[ "$(uname -s)" = Linux ] || die "Linux only (found $(uname -s))"

# --- 1, 2. packages, kernel file systems, JAVA_HOME: shared with scripts/test.sh ----------------

[ -f "${REPO}/scripts/setup-host.sh" ] || die "missing ${REPO}/scripts/setup-host.sh"
trap 'die "host setup failed in scripts/setup-host.sh (see the messages above)"' ERR
# shellcheck source=setup-host.sh
source "${REPO}/scripts/setup-host.sh"
trap - ERR

[ -n "${JAVA_HOME:-}" ] && "${JAVA_HOME}/bin/java" -version 2>&1 | grep -q '"17[."]' \
    || die "JAVA_HOME=${JAVA_HOME:-} is not a Java 17 JDK (Karaf 4.4 needs Java 17, it does not start on Java 25)"
info "JAVA_HOME=${JAVA_HOME}"
mountpoint -q /sys/kernel/tracing || info "warning: tracefs is not mounted on /sys/kernel/tracing"
mountpoint -q /sys/fs/bpf || info "warning: bpffs is not mounted on /sys/fs/bpf"
[ -r /sys/kernel/btf/vmlinux ] \
    || info "warning: no /sys/kernel/btf/vmlinux: this kernel has no BTF, CO-RE probes will fail to load"

# --- 3. build -------------------------------------------------------------------------------

find_tarball() {
    local f
    for f in "${DIST_TARGET}"/microbpf-distribution-*.tar.gz; do
        [ -f "${f}" ] && { echo "${f}"; return 0; }
    done
    return 0
}

if ${REBUILD} || [ -z "$(find_tarball)" ]; then
    info "building (mvn -B -q install -DskipTests) in ${REPO}; the first build downloads dependencies"
    (cd "${REPO}" && mvn -B -q install -DskipTests) || die "build failed (see the Maven output above)"
fi
TARBALL="$(find_tarball)"
[ -n "${TARBALL}" ] || die "build finished but there is no ${DIST_TARGET}/microbpf-distribution-*.tar.gz"

# --- 4. unpack and run ------------------------------------------------------------------------

KARAF_DIR="${RUN_DIR}/$(basename "${TARBALL}" .tar.gz)"
if [ -x "${KARAF_DIR}/bin/karaf" ] && [ -x "${KARAF_DIR}/bin/status" ] \
    && "${KARAF_DIR}/bin/status" >/dev/null 2>&1; then
    die "the agent is already running from ${KARAF_DIR}; stop it with ${KARAF_DIR}/bin/stop"
fi
if ${REBUILD} || [ ! -f "${KARAF_DIR}/.unpacked" ] || [ "${TARBALL}" -nt "${KARAF_DIR}/.unpacked" ]; then
    info "unpacking ${TARBALL}"
    rm -rf "${KARAF_DIR}"
    mkdir -p "${RUN_DIR}"
    tar -xzf "${TARBALL}" -C "${RUN_DIR}" || die "cannot unpack ${TARBALL}"
    [ -x "${KARAF_DIR}/bin/karaf" ] || die "${TARBALL} did not unpack to ${KARAF_DIR}"
    touch "${KARAF_DIR}/.unpacked"
fi

if ${CONSOLE} && [ ! -t 0 ]; then
    info "stdin is not a terminal: running without the interactive console"
    CONSOLE=false
fi
info "starting ${KARAF_DIR}/bin/karaf (SSH console on 127.0.0.1:8101, user karaf / karaf)"
cd "${KARAF_DIR}"
if ${CONSOLE}; then
    exec bin/karaf
else
    exec bin/karaf server
fi

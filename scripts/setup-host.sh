#!/usr/bin/env bash
# Prepares this machine for MicroBPF (sourced by run-agent.sh and test.sh; safe to run again):
# installs the Debian packages it needs when missing, mounts tracefs and bpffs, and exports
# JAVA_HOME pointing at a Java 17 JDK (Karaf 4.4 does not start on Java 25).
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "ERROR: MicroBPF loads eBPF programs and must run as root (try: sudo $0)" >&2
  exit 1
fi

need=()
# prometheus: for promtool (the sinks/http tests check /metrics with "promtool check metrics");
# chromium: the web page test opens /microbpf/ in headless Chromium
# nginx + apache2-utils (ab): the app probe's seed testbed test (probes-app NginxAbKernelTest)
for pkg in clang llvm libbpf-dev libbpf1 bpftool iproute2 nftables maven openjdk-17-jdk-headless prometheus chromium iperf3 nginx apache2-utils; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  if [[ " ${need[*]} " == *" nginx "* ]]; then
    # the tests start their own nginx inside a network namespace; do not leave Debian's default site running
    (systemctl disable --now nginx || service nginx stop) >/dev/null 2>&1 || true
  fi
fi

mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null \
  || echo "setup: warning: could not mount tracefs at /sys/kernel/tracing (classic tracepoint hooks unavailable)" >&2
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null \
  || echo "setup: warning: could not mount bpffs at /sys/fs/bpf" >&2

if [ -z "${JAVA_HOME:-}" ] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q '"17\.'; then
  for d in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk* /usr/lib/jvm/*17*; do
    if [ -x "$d/bin/javac" ]; then JAVA_HOME=$d; break; fi
  done
fi
if [ -z "${JAVA_HOME:-}" ] || [ ! -x "$JAVA_HOME/bin/javac" ]; then
  echo "ERROR: no Java 17 JDK found under /usr/lib/jvm (apt-get install -y openjdk-17-jdk-headless)" >&2
  exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"

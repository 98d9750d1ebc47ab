#!/usr/bin/env bash
# The agent's own CPU per ring record in events mode: the built distribution is unpacked and started,
# rx and tx are hot-installed and switched to mode=events (no sampling), iperf3 runs over a veth pair
# (client in rec-a on CPU 0, server in rec-b on CPU 1), and per repetition the script prints the CPU
# time (user + system ticks of /proc/<pid>/task/*/stat) and the context switches of each agent thread
# that used CPU, the records read (probe-list EVENTS delta of rx + tx) and the agent's CPU per record.
# A tool for work on the Java side of events mode; the throughput benchmark is run-layer-overhead-bench.sh.
#
# usage: bench/run-agent-record-cost.sh [--reps N] [--seconds S] [--sample N] [--dist TAR]
#   --sample N  events.sample.every of both probes (default 1: every packet)
#   --dist TAR  the distribution tarball to run (default: distribution/target's; e.g. a saved earlier build)
# Needs root, the built distribution (mvn -B -q install -DskipTests), a Java 17 JDK, iperf3, jq.
# Run it under `flock /tmp/microbpf-bench.lock` on shared machines. Agent SSH port 18121 (REC_SSH_PORT).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/.." && pwd)
reps=3 secs=10 sample=1 port=21991 tar= ssh_port=${REC_SSH_PORT:-18121}
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=${2:?}; shift ;;
    --seconds) secs=${2:?}; shift ;;
    --sample) sample=${2:?}; shift ;;
    --dist) tar=${2:?}; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[[ $reps =~ ^[1-9][0-9]*$ && $secs =~ ^[1-9][0-9]*$ && $sample =~ ^[1-9][0-9]*$ ]] || { echo "--reps, --seconds and --sample take positive integers" >&2; exit 2; }
[ -n "$tar" ] || tar=$(ls "$root"/distribution/target/microbpf-distribution-*.tar.gz 2>/dev/null | head -n1)
[ -n "$tar" ] && [ -f "$tar" ] || { echo "no distribution ('$tar'): run mvn -B -q install -DskipTests first" >&2; exit 1; }
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
work=$here/build/record-cost; rm -rf "$work"; mkdir -p "$work"; tar xzf "$tar" -C "$work"
A=$(ls -d "$work"/*/)
sed -i "s/^sshPort = .*/sshPort = $ssh_port/" "$A/etc/org.apache.karaf.shell.cfg"
sed -i 's/^rmiRegistryPort *=.*/rmiRegistryPort = 11129/; s/^rmiServerPort *=.*/rmiServerPort = 44475/' "$A/etc/org.apache.karaf.management.cfg"
pid= jpid=
cleanup() {
  for p in $jpid $pid; do kill "$p" 2>/dev/null || true; done
  sleep 2
  for p in $jpid $pid; do kill -9 "$p" 2>/dev/null || true; done
  ip netns del rec-a 2>/dev/null || true; ip netns del rec-b 2>/dev/null || true
}
trap cleanup EXIT
ip netns del rec-a 2>/dev/null || true; ip netns del rec-b 2>/dev/null || true
ip netns add rec-a; ip netns add rec-b
ip link add rec-va netns rec-a type veth peer name rec-vb netns rec-b
ip -n rec-a addr add 10.213.0.1/24 dev rec-va; ip -n rec-b addr add 10.213.0.2/24 dev rec-vb
for n in rec-a rec-b; do ip -n $n link set lo up; done
ip -n rec-a link set rec-va up; ip -n rec-b link set rec-vb up
(cd "$A" && exec bin/karaf server >"$work/karaf.out" 2>&1) & pid=$!
c() { printf '%s\n' "$@" | timeout 60 "$A/bin/client" -a "$ssh_port" -h 127.0.0.1 -u karaf -p karaf -b 2>&1 || true; }
for _ in $(seq 90); do c 'microbpf:probe-list' | grep -q '^ack' && break; sleep 1; done
c 'feature:install -r microbpf-probe-rx microbpf-probe-tx' >/dev/null; sleep 5
c 'microbpf:probe-stop ack' 'config:property-set -p io.microbpf.probe.rx mode events' \
  'config:property-set -p io.microbpf.probe.tx mode events' \
  "config:property-set -p io.microbpf.probe.rx events.sample.every $sample" \
  "config:property-set -p io.microbpf.probe.tx events.sample.every $sample" >/dev/null; sleep 3
jpid=$(pgrep -f "karaf.home=${A%/}" | head -n1 || true)
[ -n "$jpid" ] || { echo "agent JVM not found" >&2; exit 1; }
snap() {
  for t in /proc/$jpid/task/*; do
    printf '%s %s %s %s\n' "$(basename "$t")" "$(awk '{ sub(/^.*\) /, ""); print $12, $13 }' "$t/stat" 2>/dev/null)" \
      "$(tr ' ' '_' <"$t/comm" 2>/dev/null)" "$(awk '/^(voluntary|nonvoluntary)_ctxt/ { printf "%s ", $2 }' "$t/status" 2>/dev/null)"
  done 2>/dev/null | awk 'NF == 6' | sort
}
events() { c 'microbpf:probe-list' | awk -F'|' '$1 ~ /^(rx|tx) / { s += $5 } END { print s + 0 }'; }
hz=$(getconf CLK_TCK)
for ((r = 1; r <= reps; r++)); do
  e0=$(events); snap >"$work/s0"
  timeout $((secs + 20)) ip netns exec rec-b taskset -c 1 iperf3 -s -1 -p $port >/dev/null 2>&1 & sp=$!
  sleep 0.5
  g=$(timeout $((secs + 15)) ip netns exec rec-a taskset -c 0 iperf3 -c 10.213.0.2 -p $port -t "$secs" -J | jq '.end.sum_received.bits_per_second / 1e9 * 100 | round / 100')
  wait $sp || true
  snap >"$work/s1"; e1=$(events); n=$((e1 - e0))
  total=$(join "$work/s0" "$work/s1" | awk '{ s += ($7 - $2) + ($8 - $3) } END { print s + 0 }')
  echo "rep $r: $g Gbit/s, $n records ($((n / secs))/s), agent CPU $((total * 1000 / hz)) ms = $(awk -v t="$total" -v h="$hz" -v n="$n" 'BEGIN { printf "%.2f", n ? t / h * 1e6 / n : 0 }') us per record"
  join "$work/s0" "$work/s1" | awk -v h="$hz" '{ u = $7 - $2; s = $8 - $3; if (u + s > 1) printf "  %-16s user %5d ms  sys %5d ms  voluntary cs %7d  involuntary cs %7d\n", $4, u * 1000 / h, s * 1000 / h, $10 - $5, $11 - $6 }' | sort -k3 -rn
done

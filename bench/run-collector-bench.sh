#!/usr/bin/env bash
# Collector benchmark: matched TX/RX pairs per second (the matcher alone, and the whole HTTP push
# ingest path: HTTP + JSON decode + clock correction + matching) and the collector's memory at a
# 10 s window. Runs io.microbpf.bench.CollectorBench (collector test classes) in one JVM; the two
# throughput modes alternate over --reps repetitions after an unrecorded warm-up.
# Prints the results and replaces the section between
#   <!-- collector-bench:start --> and <!-- collector-bench:end -->
# in docs/PERFORMANCE.md (unless --no-doc).
#
# usage: flock /tmp/microbpf-bench.lock bench/run-collector-bench.sh [--reps R] [--no-doc]
# Needs: `mvn -pl collector -am install -DskipTests` (or test-compile) done before, JDK 17.
# Env: JAVA_HOME (default /usr/lib/jvm/java-17-openjdk-amd64), MAVEN_OPTS (e.g. a local repo).
# Bounded: the JVM is killed after 600 s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
reps=5 write_doc=1
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=$2; shift ;;
    --no-doc) write_doc=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
mkdir -p "$here/build"
cpfile=$here/build/collector-test.cp
(cd "$root" && mvn -B -q -ntp dependency:build-classpath -pl collector -Dmdep.includeScope=test -Dmdep.outputFile="$cpfile" >/dev/null)
cp="$root/collector/target/test-classes:$root/collector/target/classes:$(cat "$cpfile")"
[ -f "$root/collector/target/test-classes/io/microbpf/bench/CollectorBench.class" ] \
  || { echo "ERROR: build the collector test classes first (mvn -pl collector -am install -DskipTests)" >&2; exit 1; }

out=$here/build/collector-bench.md
started=$(date -u '+%Y-%m-%d %H:%M UTC')
timeout 600 "$JAVA_HOME/bin/java" -Xms2g -Xmx2g -XX:+UseSerialGC -cp "$cp" io.microbpf.bench.CollectorBench --reps "$reps" | tee "$out.body"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  echo "<!-- collector-bench:start -->"
  echo "## Collector: matched pairs per second and memory at a 10 s window"
  echo
  echo "Measured $started by \`bench/run-collector-bench.sh --reps $reps\` on Linux $(uname -r),"
  echo "$(nproc) CPU(s) ($cpu), $("$JAVA_HOME/bin/java" -version 2>&1 | head -1), one JVM with -Xmx2g -XX:+UseSerialGC."
  echo
  echo "- Records: 1000 flows, 1448-byte segments; a pair = one agent's TX and the other agent's RX of the same"
  echo "  segment. matcher: the records are built before timing and offered to SegmentMatcher, each RX 2000 records"
  echo "  after its TX. http: pushes of 1000 events in the push sink's wire format (built before timing), agent a's"
  echo "  TX and agent b's RX from two sender threads over loopback HTTP/1.1 to the collector component; the time"
  echo "  ends when the last push was answered (every pair matched: checked). Sender and collector share the 2 CPUs."
  echo "- Repetitions alternate the order of the two modes; other engineers' builds run on the same machine, so"
  echo "  compare medians, not single runs."
  echo
  cat "$out.body"
  echo "<!-- collector-bench:end -->"
} > "$out"
if [ "$write_doc" = 1 ]; then
  doc=$root/docs/PERFORMANCE.md
  if grep -q '<!-- collector-bench:start -->' "$doc"; then
    python3 - "$doc" "$out" <<'PY'
import sys
doc, new = sys.argv[1], open(sys.argv[2]).read()
s = open(doc).read()
a = s.index('<!-- collector-bench:start -->'); b = s.index('<!-- collector-bench:end -->') + len('<!-- collector-bench:end -->\n')
open(doc, 'w').write(s[:a] + new + s[b:])
PY
  else
    printf '\n%s' "$(cat "$out")" >> "$doc"; echo >> "$doc"
  fi
  echo "wrote the section into $doc"
fi

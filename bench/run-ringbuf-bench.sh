#!/usr/bin/env bash
# Ring-buffer consumer benchmark: our Java reader (io.microbpf.bench.RingBufferBench)
# against libbpf's C ring_buffer__poll (bench/consumer_c.c), same producer, same run.
#
# Producer: an XDP program driven by BPF_PROG_TEST_RUN (bench/producer.c); every invocation
# reserves and submits one 64-byte sample (8-byte ring header + 64 bytes = 72 bytes of ring
# space per record) or, when the ring is full, counts one lost event.
#
# For each repetition, for each consumer (C, then Java): a fresh producer loads and pins
# the maps and waits; the consumer starts and opens them; once the consumer prints
# "consumer: ready" (ring mmapped, read path warmed up) plus --settle-ms, the producer is told "go" and runs
# N events. Prints a table and replaces the section between
#   <!-- ringbuf-bench:start --> and <!-- ringbuf-bench:end -->
# in docs/PERFORMANCE.md (unless --no-doc).
#
# usage: bench/run-ringbuf-bench.sh [--c-only] [--reps R] [--events N] [--ring-bytes B]
#                                   [--settle-ms MS] [--budget-s S] [--no-doc]
# Needs root (BPF), clang, gcc, libbpf-dev; for the Java consumer: `mvn -pl core install`
# done before (core/target/classes + core/target/test-classes), JDK 17.
# Env: JAVA_HOME (default /usr/lib/jvm/java-17-openjdk-amd64), JAVA_OPTS (extra JVM flags),
#      BENCH_JAVA_CP (use this classpath as is instead of building one).
#
# Everything is bounded: the producer gives up without "go" after 30 s and stops producing
# after 60 s, each consumer is killed after 90 s, and no new run starts once --budget-s
# (default 170 s) has passed since the script started.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$here/build
pin_dir=/sys/fs/bpf/microbpf-bench
events_pin=$pin_dir/events
lost_pin=$pin_dir/events_lost
java_main=io.microbpf.bench.RingBufferBench
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}

c_only=0 reps=5 n_events=20000000 ring_bytes=$((16 * 1024 * 1024)) settle_ms=500 budget_s=170 write_doc=1
while [ $# -gt 0 ]; do
  case $1 in
    --c-only) c_only=1 ;;
    --reps) reps=$2; shift ;;
    --events) n_events=$2; shift ;;
    --ring-bytes) ring_bytes=$2; shift ;;
    --settle-ms) settle_ms=$2; shift ;;
    --budget-s) budget_s=$2; shift ;;
    --no-doc) write_doc=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done

die() { echo "ERROR: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }
script_start=$(now_ms)

[ "$(id -u)" = 0 ] || die "needs root (loads BPF programs, pins maps)"
command -v clang >/dev/null || die "clang not found (apt-get install -y clang)"
command -v gcc >/dev/null || die "gcc not found"
[ -f /usr/include/bpf/bpf_helpers.h ] || die "libbpf-dev not found (apt-get install -y libbpf-dev)"

# ---------------------------------------------------------------- build
mkdir -p "$build"
rm -f "$build"/run-* "$build"/ready-* "$build"/go-*   # logs of the previous invocation
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I/usr/include/x86_64-linux-gnu \
  -c "$here/ringbuf_producer.bpf.c" -o "$build/ringbuf_producer.bpf.o"
gcc -O2 -Wall -Wextra -Werror -o "$build/producer" "$here/producer.c" -lbpf
gcc -O2 -Wall -Wextra -Werror -o "$build/consumer_c" "$here/consumer_c.c" -lbpf
echo "built $build/{ringbuf_producer.bpf.o,producer,consumer_c}"

if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
  mount -t bpf bpffs /sys/fs/bpf || die "cannot mount bpffs at /sys/fs/bpf"
fi

# ---------------------------------------------------------------- Java classpath
java_cp=
build_java_cp() {
  local core=$root/core deps= cpfile=$build/core-deps.cp
  if [ -n "${BENCH_JAVA_CP:-}" ]; then java_cp=$BENCH_JAVA_CP; return; fi
  [ -x "$JAVA_HOME/bin/java" ] || die "no JDK at $JAVA_HOME (set JAVA_HOME)"
  [ -d "$core/target/classes" ] && [ -d "$core/target/test-classes" ] \
    || die "core/target/classes or core/target/test-classes missing: run 'mvn -pl core install' first (or use --c-only)"
  [ -f "$core/target/test-classes/${java_main//.//}.class" ] \
    || die "$java_main not compiled in core/target/test-classes (or use --c-only)"
  # 1) ask Maven for core's dependency classpath (all scopes), offline first
  rm -f "$cpfile"
  if [ -f "$core/pom.xml" ] && command -v mvn >/dev/null; then
    for offline in -o ""; do
      if JAVA_HOME=$JAVA_HOME mvn -q $offline -f "$core/pom.xml" dependency:build-classpath \
           -Dmdep.outputFile="$cpfile" -Dmdep.includeScope=test >"$build/mvn-classpath.log" 2>&1 \
         && [ -s "$cpfile" ]; then
        deps=$(cat "$cpfile"); break
      fi
    done
  fi
  # 2) fallback: JNA + SLF4J jars straight from ~/.m2, versions from the root pom
  if [ -z "$deps" ]; then
    local m2=${M2_REPO:-$HOME/.m2/repository} jna slf4j j
    jna=$(sed -n 's:.*<jna.version>\(.*\)</jna.version>.*:\1:p' "$root/pom.xml" | head -n1)
    slf4j=$(sed -n 's:.*<slf4j.version>\(.*\)</slf4j.version>.*:\1:p' "$root/pom.xml" | head -n1)
    for j in "$m2/net/java/dev/jna/jna/$jna/jna-$jna.jar" \
             "$m2/org/slf4j/slf4j-api/$slf4j/slf4j-api-$slf4j.jar" \
             "$m2/org/slf4j/slf4j-simple/$slf4j/slf4j-simple-$slf4j.jar"; do
      [ -f "$j" ] || die "missing $j (mvn dependency:build-classpath failed, see $build/mvn-classpath.log)"
      deps=${deps:+$deps:}$j
    done
    echo "classpath: Maven did not answer (see $build/mvn-classpath.log); using JNA $jna + SLF4J $slf4j from ~/.m2"
  fi
  java_cp=$core/target/classes:$core/target/test-classes:$deps
}
[ "$c_only" = 1 ] || build_java_cp

# ---------------------------------------------------------------- one run
bg_pids=()
cleanup() {
  local p
  for p in "${bg_pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  rm -f "$events_pin" "$lost_pin"; rmdir "$pin_dir" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# field NAME LINE -> value of NAME=value in LINE
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# run_one KIND(C|Java) -> sets run_cons (consumer line), run_prod (producer line), run_status
run_one() {
  local kind=$1 tag log ready go ppid cpid i
  tag=$(date +%s%N)
  log=$build/run-$kind-$tag
  ready=$build/ready-$tag go=$build/go-$tag
  rm -f "$events_pin" "$lost_pin" "$ready" "$go"
  run_cons= run_prod= run_status=ok

  "$build/producer" -n "$n_events" -s "$ring_bytes" -o "$build/ringbuf_producer.bpf.o" -p "$pin_dir" \
    --ready-file "$ready" --go-file "$go" --go-timeout 30 --max-seconds 60 \
    >"$log.producer.out" 2>"$log.producer.err" </dev/null &
  ppid=$!; bg_pids+=("$ppid")
  for i in $(seq 200); do [ -f "$ready" ] && break; kill -0 "$ppid" 2>/dev/null || break; sleep 0.05; done
  if [ ! -f "$ready" ]; then
    run_status="producer did not start ($(tail -n1 "$log.producer.err"))"; wait "$ppid" || true; return
  fi

  if [ "$kind" = C ]; then
    "$build/consumer_c" "$events_pin" "$lost_pin" "$n_events" >"$log.consumer.out" 2>"$log.consumer.err" </dev/null &
  else
    # shellcheck disable=SC2086
    "$JAVA_HOME/bin/java" ${JAVA_OPTS:-} -cp "$java_cp" "$java_main" "$events_pin" "$lost_pin" "$n_events" \
      >"$log.consumer.out" 2>"$log.consumer.err" </dev/null &
  fi
  cpid=$!; bg_pids+=("$cpid")
  ( sleep 90; kill "$cpid" 2>/dev/null ) & bg_pids+=("$!")
  local wd=$!

  # the consumer is ready once it says so on stderr: both print "consumer: ready" right after
  # mmapping the benchmark ring (the Java one first warms up its read path on a ring of its own,
  # so an mmapped bpf-map alone does not mean the benchmark ring is being read yet)
  for i in $(seq 600); do
    grep -q '^consumer: ready' "$log.consumer.err" 2>/dev/null && break
    kill -0 "$cpid" 2>/dev/null || break
    sleep 0.05
  done
  if ! grep -q '^consumer: ready' "$log.consumer.err" 2>/dev/null; then
    run_status="consumer never became ready"
  fi
  sleep "$(awk -v m="$settle_ms" 'BEGIN{print m/1000}')"
  touch "$go"

  wait "$ppid" || true
  wait "$cpid" || true
  kill "$wd" 2>/dev/null || true; wait "$wd" 2>/dev/null || true
  run_prod=$(grep -m1 '^produced=' "$log.producer.out" || true)
  run_cons=$(grep -m1 '^events=' "$log.consumer.out" || true)
  [ -n "$run_prod" ] || run_status="no producer result ($(tail -n1 "$log.producer.err"))"
  [ -n "$run_cons" ] || run_status="no consumer result ($(tail -n1 "$log.consumer.err" 2>/dev/null))"
  rm -f "$ready" "$go"
}

# ---------------------------------------------------------------- runs
kinds=(C); [ "$c_only" = 1 ] || kinds=(C Java)
rows=()          # "rep kind events lost_prod lost_cons gaps elapsed_ms cons_rate prod_rate status"
rates_C=() rates_Java=()
total_lost=0 total_gaps=0 incomplete=0 skipped=0
j_lost=0 j_gaps=0 j_bad=0   # the verdict judges the Java reader; C losses are reported, not judged

printf '%-4s %-5s %12s %9s %6s %11s %14s %14s  %s\n' run consumer events lost gaps elapsed_ms consumer_ev/s producer_ev/s status
for ((rep = 1; rep <= reps; rep++)); do
  for kind in "${kinds[@]}"; do
    if (( $(now_ms) - script_start > budget_s * 1000 )); then skipped=$((skipped + 1)); continue; fi
    run_one "$kind"
    ev=$(field events "$run_cons"); lc=$(field lost "$run_cons"); gaps=$(field gaps "$run_cons")
    el=$(field elapsed_ns "$run_cons"); cr=$(field rate_per_s "$run_cons")
    lp=$(field lost "$run_prod"); pr=$(field rate_per_s "$run_prod")
    ev=${ev:-0} lc=${lc:-0} gaps=${gaps:-0} el=${el:-0} cr=${cr:-0} lp=${lp:-${lc}} pr=${pr:-0}
    if [ "$run_status" = ok ]; then
      [ "$lp" = "$lc" ] || run_status="lost differs: producer $lp, consumer $lc"
      (( ev + lp == n_events )) || run_status="incomplete: $((ev + lp)) of $n_events"
    fi
    [ "$run_status" = ok ] || incomplete=$((incomplete + 1))
    total_lost=$((total_lost + lp)); total_gaps=$((total_gaps + gaps))
    if [ "$kind" = Java ]; then
      j_lost=$((j_lost + lp)); j_gaps=$((j_gaps + gaps)); [ "$run_status" = ok ] || j_bad=$((j_bad + 1))
    fi
    el_ms=$(awk -v n="$el" 'BEGIN{printf "%.1f", n/1e6}')
    cr_i=$(awk -v r="$cr" 'BEGIN{printf "%.0f", r}'); pr_i=$(awk -v r="$pr" 'BEGIN{printf "%.0f", r}')
    printf '%-4s %-5s %12s %9s %6s %11s %14s %14s  %s\n' "$rep" "$kind" "$ev" "$lp" "$gaps" "$el_ms" "$cr_i" "$pr_i" "$run_status"
    rows+=("$rep $kind $ev $lp $gaps $el_ms $cr_i $pr_i $run_status")
    if [ "$run_status" = ok ]; then
      if [ "$kind" = C ]; then rates_C+=("$cr_i"); else rates_Java+=("$cr_i"); fi
    fi
  done
done
(( skipped == 0 )) || echo "budget of ${budget_s}s reached: $skipped run(s) skipped"

# stats NAME values... -> "median min max count"
stats() {
  shift
  if [ $# -eq 0 ]; then echo "0 0 0 0"; return; fi
  printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.0f %d %d %d\n", m, a[1], a[NR], NR}'
}
read -r c_med c_min c_max c_n <<<"$(stats C "${rates_C[@]:-}")"
[ ${#rates_C[@]} -gt 0 ] || { c_med=0 c_min=0 c_max=0 c_n=0; }
read -r j_med j_min j_max j_n <<<"$(stats Java "${rates_Java[@]:-}")"
[ ${#rates_Java[@]} -gt 0 ] || { j_med=0 j_min=0 j_max=0 j_n=0; }
fmt_m() { awk -v r="$1" 'BEGIN{printf "%.2f", r/1e6}'; }

echo
echo "C    (libbpf ring_buffer__poll): median $(fmt_m "$c_med") M ev/s (min $(fmt_m "$c_min"), max $(fmt_m "$c_max"), $c_n good runs)"
verdict=
if [ "$c_only" = 0 ]; then
  echo "Java (RingBufferBench)         : median $(fmt_m "$j_med") M ev/s (min $(fmt_m "$j_min"), max $(fmt_m "$j_max"), $j_n good runs)"
  ratio=$(awk -v j="$j_med" -v c="$c_med" 'BEGIN{ if (c > 0) printf "%.2f", j/c; else print "n/a"}')
  if [ "$ratio" != n/a ] && awk -v r="$ratio" 'BEGIN{exit !(r >= 0.9)}' && (( j_n > 0 && j_lost == 0 && j_gaps == 0 && j_bad == 0 )); then
    verdict="PASS: Java/C = ${ratio}x (target >= 0.9x), Java: 0 lost, 0 gaps"
  else
    verdict="FAIL: Java/C = ${ratio}x (target >= 0.9x), Java: lost ${j_lost}, gaps ${j_gaps}, bad runs ${j_bad}"
  fi
  verdict="$verdict; C: lost $((total_lost - j_lost)), gaps $((total_gaps - j_gaps))"
else
  verdict="C only (Java consumer not run): lost ${total_lost}, gaps ${total_gaps}, bad runs ${incomplete}"
fi
echo "$verdict"

# ---------------------------------------------------------------- docs/PERFORMANCE.md
if [ "$write_doc" = 1 ]; then
  doc=$root/docs/PERFORMANCE.md section=$build/ringbuf-section.md
  {
    echo '<!-- ringbuf-bench:start -->'
    echo '## BPF ring buffer: Java reader vs libbpf `ring_buffer__poll`'
    echo
    echo "Measured $(date -u +'%Y-%m-%d %H:%M UTC') by \`bench/run-ringbuf-bench.sh$([ "$c_only" = 1 ] && echo ' --c-only')\` on Linux $(uname -r),"
    echo "$(nproc) CPU(s) ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), $(${JAVA_HOME}/bin/java -version 2>&1 | head -n1 | tr -d '"' || echo 'no JDK')."
    echo
    echo "- Producer: XDP program run by \`BPF_PROG_TEST_RUN\` (1,000,000 invocations per call), one event per"
    echo "  invocation: a 64-byte sample (u64 seq, u64 ktime, 48 bytes padding) = 72 bytes of ring space with"
    echo "  the 8-byte record header; ring data size $ring_bytes bytes; $n_events events per run."
    echo "- One producer process and one consumer process per run, a fresh producer each run, consumers"
    echo "  alternating (C, Java) over $reps repetitions. Consumer rate = events / (first event seen → last"
    echo "  event consumed). Lost = failed reservations (ring full); gaps = records whose seq is not previous + 1."
    echo
    echo '| run | consumer | events | lost | gaps | elapsed ms | consumer ev/s | producer ev/s | status |'
    echo '|---:|---|---:|---:|---:|---:|---:|---:|---|'
    for r in "${rows[@]:-}"; do
      [ -n "$r" ] || continue
      read -r a b c d e f g h st <<<"$r"
      echo "| $a | $b | $c | $d | $e | $f | $g | $h | $st |"
    done
    echo
    echo "- C (libbpf \`ring_buffer__poll\`): median **$(fmt_m "$c_med") M ev/s** (min $(fmt_m "$c_min"), max $(fmt_m "$c_max"), $c_n good runs)"
    if [ "$c_only" = 0 ]; then
      echo "- Java (\`$java_main\`): median **$(fmt_m "$j_med") M ev/s** (min $(fmt_m "$j_min"), max $(fmt_m "$j_max"), $j_n good runs)"
    fi
    echo "- $verdict"
    (( skipped == 0 )) || echo "- time budget reached: $skipped run(s) skipped"
    echo '<!-- ringbuf-bench:end -->'
  } >"$section"
  mkdir -p "$(dirname "$doc")"
  if [ ! -f "$doc" ]; then
    { echo '# Performance'; echo; cat "$section"; } >"$doc"
  elif grep -q '<!-- ringbuf-bench:start -->' "$doc" && grep -q '<!-- ringbuf-bench:end -->' "$doc"; then
    awk -v sec="$section" '
      /<!-- ringbuf-bench:start -->/ { while ((getline l < sec) > 0) print l; skip = 1; next }
      /<!-- ringbuf-bench:end -->/   { skip = 0; next }
      !skip' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
  else
    { echo; cat "$section"; } >>"$doc"
  fi
  echo "wrote the ringbuf-bench section of $doc"
fi

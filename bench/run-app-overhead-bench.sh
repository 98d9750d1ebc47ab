#!/usr/bin/env bash
# Cost of the MicroBPF "app" probe on a request/response workload: nginx in one network namespace,
# ApacheBench (keep-alive, concurrency 10) in another, over a veth pair; the probe attached vs. not,
# in the same run, interleaved, several repetitions; then one extra run with kernel.bpf_stats_enabled
# for the time the kernel spends in each of the probe's programs.
#
# The probe runs in a small JVM (io.microbpf.probe.app.bench.AppProbeHost, from the probes-app test
# classes) with its default configuration plus filter.ports=<the nginx port>: every benchmark
# connection passes the filter, so the measured traffic costs what it costs unfiltered, and other
# TCP traffic on the shared machine stays out of the exchange count. That JVM runs in every
# configuration, only the probe's attachment differs:
#   baseline  probe stopped      probe  probe attached (its hooks are listed in the report)
# Each repetition runs both, the order alternating; one unrecorded warm-up of each comes first.
# Per run: ab's requests/s and mean time per request; for probe runs the exchanges the probe
# counted (both ends are observed: 2 per request) and the host JVM's CPU time.
# Prints a table and replaces the section between <!-- app-overhead:start --> and
# <!-- app-overhead:end --> of docs/PERFORMANCE.md (appended if absent), unless --no-doc.
#
# usage: bench/run-app-overhead-bench.sh [--reps N] [--requests N] [--no-doc]
#   --reps N       repetitions of the two configurations (default 5)
#   --requests N   ab requests per run (default 40000)
#   --no-doc       do not touch docs/PERFORMANCE.md
# Needs root, nginx, ab (apache2-utils), python3, a Java 17 JDK and the probes-app module built with its
# test classes (mvn -B -q install -pl probes-app -am -DskipTests). Run it under the shared lock:
#   flock /tmp/microbpf-bench.lock bench/run-app-overhead-bench.sh
# Everything is bounded: ab is killed after 300 s, every host command times out after 60 s; nginx and
# the host JVM are ended, the namespaces deleted and kernel.bpf_stats_enabled restored on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work=$here/build/app-overhead
ns_c=app-bench-c ns_s=app-bench-s
ip_c=10.230.250.1 ip_s=10.230.250.2
port=23900
reps=5 requests=40000 write_doc=1
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=${2:?--reps needs a value}; shift ;;
    --requests) requests=${2:?--requests needs a value}; shift ;;
    --no-doc) write_doc=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
die() { echo "ERROR: $*" >&2; exit 1; }
info() { echo "app-bench: $*" >&2; }
[[ $reps =~ ^[0-9]+$ ]] && (( reps >= 1 )) || die "--reps must be a positive integer (got '$reps')"
[[ $requests =~ ^[0-9]+$ ]] && (( requests >= 100 )) || die "--requests must be an integer >= 100 (got '$requests')"
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, BPF); try: sudo $0"
for t in nginx ab python3 ip bpftool; do command -v $t >/dev/null || die "$t not found (scripts/setup-host.sh installs it)"; done
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
[ -x "$JAVA_HOME/bin/java" ] || die "no Java at JAVA_HOME=$JAVA_HOME"
[ -f "$root/probes-app/target/test-classes/io/microbpf/probe/app/bench/AppProbeHost.class" ] \
  || die "probes-app is not built with its test classes: mvn -B -q install -pl probes-app -am -DskipTests"

rm -rf "$work"; mkdir -p "$work/nginx/www"
(cd "$root" && mvn -B -q -ntp dependency:build-classpath -pl probes-app -Dmdep.includeScope=test \
  -Dmdep.outputFile="$work/cp.txt" >/dev/null) || die "cannot compute the probes-app classpath with Maven"
cp="$root/probes-app/target/test-classes:$root/probes-app/target/classes:$(cat "$work/cp.txt")"

stats_before=$(sysctl -n kernel.bpf_stats_enabled)
nginx_pid='' host_pid=''
cleanup() {
  set +e
  if [ -n "$host_pid" ] && kill -0 "$host_pid" 2>/dev/null; then
    echo quit >&3 2>/dev/null; sleep 1; kill "$host_pid" 2>/dev/null
  fi
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null; wait "$nginx_pid" 2>/dev/null; fi
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null
  ip netns del $ns_c 2>/dev/null; ip netns del $ns_s 2>/dev/null
  sysctl -q kernel.bpf_stats_enabled="$stats_before"
}
trap cleanup EXIT

# ---------------------------------------------------------------- testbed
ip netns del $ns_c 2>/dev/null || true; ip netns del $ns_s 2>/dev/null || true
ip netns add $ns_c; ip netns add $ns_s
ip link add app-bench-vc netns $ns_c type veth peer name app-bench-vs netns $ns_s
ip -n $ns_c addr add $ip_c/24 dev app-bench-vc; ip -n $ns_s addr add $ip_s/24 dev app-bench-vs
for n in $ns_c:app-bench-vc $ns_s:app-bench-vs; do
  ip -n "${n%%:*}" link set lo up; ip -n "${n%%:*}" link set "${n#*:}" up
done
head -c 2000 /dev/zero | tr '\0' x >"$work/nginx/www/index.html"
cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
user root;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off; sendfile off; tcp_nodelay on; keepalive_timeout 60; keepalive_requests 10000000;
    client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy; fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
    server { listen $ip_s:$port; root $work/nginx/www; }
}
EOF
ip netns exec $ns_s nginx -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
nginx_pid=$!
for _ in $(seq 100); do
  ip netns exec $ns_s ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.1
done
ip netns exec $ns_s ss -Hltn "sport = :$port" | grep -q . || die "nginx did not start: $(cat "$work/nginx/error.log")"

# ---------------------------------------------------------------- the probe's host JVM
mkfifo "$work/host.in" "$work/host.out"
"$JAVA_HOME/bin/java" -cp "$cp" io.microbpf.probe.app.bench.AppProbeHost filter.ports=$port <"$work/host.in" >"$work/host.out" 2>"$work/host.log" &
host_pid=$!
exec 3>"$work/host.in" 4<"$work/host.out"
host() {
  echo "$1" >&3
  local reply
  read -r -t 60 reply <&4 || die "the probe host did not answer '$1' (see $work/host.log)"
  echo "$reply"
}
cpu_ms() { awk '{print ($14 + $15) * 1000 / '"$(getconf CLK_TCK)"'}' "/proc/$host_pid/stat"; }
counted() { host counts | sed -E 's/.*answered=([0-9]+).*lost=([0-9]+).*/\1 \2/'; }

run_ab() { # -> "rps mean_ms complete failed"
  local out
  out=$(ip netns exec $ns_c timeout 300 ab -q -k -c 10 -n "$requests" "http://$ip_s:$port/index.html" 2>&1) \
    || die "ab failed: $out"
  local rps mean complete failed
  rps=$(awk '/^Requests per second:/ {print $4}' <<<"$out")
  mean=$(awk '/^Time per request:/ {print $4; exit}' <<<"$out")
  complete=$(awk '/^Complete requests:/ {print $3}' <<<"$out")
  failed=$(awk '/^Failed requests:/ {print $3}' <<<"$out")
  echo "$rps $mean $complete $failed"
}

hooks=''
one() { # config -> appends a row to $work/rows
  local config=$1 rep=$2 a0=0 a1=0 c0=0 c1=0 l0=0 l1=0 drain_ms='-' 
  if [ "$config" = probe ]; then
    local r; r=$(host start); [[ $r == RUNNING* ]] || die "probe did not start: $r"
    hooks=${r#RUNNING }; sleep 1; read -r a0 l0 < <(counted); c0=$(cpu_ms)
  fi
  read -r rps mean complete failed < <(run_ab)
  if [ "$config" = probe ]; then
    # wait until the probe has handed over every record (the count stops moving), at most 15 s
    local t_end t_last prev=-1
    t_end=$(date +%s%3N); t_last=$t_end
    while :; do
      read -r a1 l1 < <(counted)
      [ "$a1" = "$prev" ] && break
      [ "$a1" != "$prev" ] && t_last=$(date +%s%3N)
      prev=$a1
      (( $(date +%s%3N) - t_end > 15000 )) && break
      sleep 0.5
    done
    drain_ms=$((t_last - t_end)); c1=$(cpu_ms); host stop >/dev/null
  fi
  local ex='-' cpu='-' lost='-'
  [ "$config" = probe ] && ex=$((a1 - a0)) && lost=$((l1 - l0)) && cpu=$(python3 -c "print(round($c1 - $c0))")
  echo "$rep $config $rps $mean $complete $failed $ex $lost $cpu $drain_ms" >>"$work/rows"
  info "rep $rep $config: $rps req/s, mean $mean ms, $complete complete, $failed failed, exchanges $ex, lost $lost, host cpu ${cpu} ms, drained ${drain_ms} ms after ab"
}

info "warm-up"
one probe 0 >/dev/null; one baseline 0 >/dev/null
: >"$work/rows"
for rep in $(seq "$reps"); do
  if (( rep % 2 )); then one baseline "$rep"; one probe "$rep"; else one probe "$rep"; one baseline "$rep"; fi
done

# ---------------------------------------------------------------- kernel-side cost
info "bpf_stats run"
sysctl -q kernel.bpf_stats_enabled=1
r=$(host start); [[ $r == RUNNING* ]] || die "probe did not start: $r"
progs='state_tp_btf queued_tp_btf read_tp_btf write_tp_btf tx_cgroup_skb'
snap() { bpftool prog show -j | python3 -c '
import json,sys
want=set(sys.argv[1].split())
for p in json.load(sys.stdin):
    if p.get("name") in want:
        print(p["id"], p["name"], p.get("run_cnt",0), p.get("run_time_ns",0))' "$progs"; }
sleep 1; snap >"$work/stats0"
read -r srps smean scomplete sfailed < <(run_ab)
snap >"$work/stats1"
host stop >/dev/null
sysctl -q kernel.bpf_stats_enabled="$stats_before"

# ---------------------------------------------------------------- report
report=$(python3 - "$work/rows" "$work/stats0" "$work/stats1" "$scomplete" "$srps" <<'EOF'
import sys, statistics as st
rows=[l.split() for l in open(sys.argv[1])]
def med(xs): return st.median(xs) if xs else float('nan')
out=[]
out.append("| rep | config | requests/s | mean time per request (ms) | complete | failed | exchanges counted | records lost | probe host CPU ms | last record handed over (ms after ab ended) |")
out.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows: out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % tuple(r))
base=[float(r[2]) for r in rows if r[1]=='baseline']; probe=[float(r[2]) for r in rows if r[1]=='probe']
bm=[float(r[3]) for r in rows if r[1]=='baseline']; pm=[float(r[3]) for r in rows if r[1]=='probe']
paired=[]
for rep in sorted({r[0] for r in rows}):
    b=[float(r[2]) for r in rows if r[0]==rep and r[1]=='baseline']; p=[float(r[2]) for r in rows if r[0]==rep and r[1]=='probe']
    if b and p: paired.append(100*(b[0]-p[0])/b[0])
exact=all(r[6]==str(2*int(r[4])) for r in rows if r[1]=='probe')
out.append("")
out.append("- baseline: median **%.0f req/s** (min %.0f, max %.0f), mean time per request %.3f ms" % (med(base),min(base),max(base),med(bm)))
out.append("- probe: median **%.0f req/s** (min %.0f, max %.0f), mean time per request %.3f ms" % (med(probe),min(probe),max(probe),med(pm)))
out.append("- cost: **%.1f %%** of median requests/s; paired per repetition: median %.1f %% (%s)" % (100*(med(base)-med(probe))/med(base), med(paired), ", ".join("%.1f"%x for x in paired)))
out.append("- the probe counted exactly 2 exchanges (server + client end) per completed request in every probe run: %s; ring-buffer records lost: %d" % ("yes" if exact else "NO", sum(int(r[7]) for r in rows if r[1]=='probe')))
s0={l.split()[0]:l.split() for l in open(sys.argv[2])}; s1={l.split()[0]:l.split() for l in open(sys.argv[3])}
n=int(sys.argv[4]); total=0
out.append("")
out.append("Kernel-side, one extra run of %d requests (%s req/s) with `kernel.bpf_stats_enabled=1` (which adds two clock reads per program call, so it is not part of the comparison above):" % (n, sys.argv[5]))
out.append("")
out.append("| program | calls | calls per request | ns/call | µs per request |")
out.append("|---|---:|---:|---:|---:|")
for pid,v in sorted(s1.items(), key=lambda kv: kv[1][1]):
    c0,t0=(int(s0[pid][2]),int(s0[pid][3])) if pid in s0 else (0,0)
    c=int(v[2])-c0; t=int(v[3])-t0; total+=t
    out.append("| %s | %d | %.2f | %s | %.3f |" % (v[1], c, c/n, ("%.0f"%(t/c)) if c else "-", t/n/1e3))
out.append("")
out.append("- all programs together: **%.2f µs of BPF time per request** (both ends of every connection are on this machine, so each request is observed twice)" % (total/n/1e3))
print("\n".join(out))
EOF
)
echo "$report"
if [ "$write_doc" = 1 ]; then
  doc=$root/docs/PERFORMANCE.md
  section=$(cat <<EOF
<!-- app-overhead:start -->
## Cost of the \`app\` probe (nginx + ab over veth)

Measured $(date -u '+%Y-%m-%d %H:%M') UTC by \`bench/run-app-overhead-bench.sh --reps $reps --requests $requests\` on Linux $(uname -r),
$(nproc) CPU(s), $(nginx -v 2>&1 | sed 's/.*version: //'), ab $(ab -V | head -1 | sed -E 's/.*Version ([^ ]+).*/\1/').

- Load: \`ab -k -c 10 -n $requests\` (keep-alive, concurrency 10) from namespace \`$ns_c\` to nginx (1 worker, a
  2000-byte static page) in \`$ns_s\` over a veth pair. Both ends run on this 2-vCPU machine, so the load is
  CPU-bound and every nanosecond in a hook shows: a worst case. Other engineers' builds ran at the same time;
  compare only the two configurations of one repetition.
- The probe (default configuration + \`filter.ports=$port\`, which every benchmark connection passes) runs in a small JVM
  (\`io.microbpf.probe.app.bench.AppProbeHost\`) that is up in both configurations; only the attachment differs.
  Hooks: \`$hooks\`.

$report
<!-- app-overhead:end -->
EOF
)
  python3 - "$doc" "$section" <<'EOF'
import sys,re
p,sec=sys.argv[1],sys.argv[2]
s=open(p).read()
if "<!-- app-overhead:start -->" in s:
    s=re.sub(r"<!-- app-overhead:start -->.*?<!-- app-overhead:end -->", lambda m: sec, s, flags=re.S)
else:
    s=s.rstrip("\n")+"\n\n"+sec+"\n"
open(p,"w").write(s)
EOF
  info "docs/PERFORMANCE.md updated"
fi

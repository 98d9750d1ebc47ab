#!/usr/bin/env bash
# Throughput cost of the MicroBPF per-layer latency probes "rx" + "tx": iperf3 over a veth pair
# between two network namespaces, with both probes detached vs attached in histogram mode vs attached
# in events mode, in the same run, interleaved, several repetitions. Targets (issue 4): histogram
# mode <= 3 % of throughput, events mode <= 10 % with 0 events lost.
#
# The agent (the built distribution, unpacked into bench/build/layer-overhead/agent with its own SSH
# port) runs during every configuration; the rx and tx features are hot-installed into it
# (feature:install -r microbpf-probe-rx microbpf-probe-tx) and the ack probe is stopped, so only the
# rx/tx attachment and mode differ:
#   baseline   rx and tx stopped (microbpf:probe-stop rx / tx)
#   floor      rx and tx stopped; instead programs that return at once (bench/layer_floor.bpf.c,
#              loaded by bench/layer_attach.c) on exactly the hooks and attach types the probes
#              use here: what the attachment alone costs, the lowest any probe on these hooks can cost
#   histogram  rx and tx attached, mode = histogram (in-kernel histograms per layer and per flow)
#   events     rx and tx attached, mode = events (plus one ring record per packet, no sampling)
#   sampled    rx and tx attached, mode = events with events.sample.every = --sample N (1-in-N packets
#              by segment hash; what a user who needs records at a lower cost would run); --sample 0: left out
# The mode is set through ConfigAdmin (config:property-set -p io.microbpf.probe.rx mode ...), which
# the probes apply live. Each repetition runs all configurations, the order rotated per repetition; one
# unrecorded warm-up run comes first. Before each run the script waits (at most --idle-wait-s) until
# the machine's busy share over 1 s is at most --idle-pct (other engineers' builds share it) and
# records what it saw (bg %) and how long it waited. iperf3's client and server are pinned to
# different CPUs (--pin, default on with >= 2 CPUs). Per run: iperf3 -c ... -t S -J (client in lat-bench-a
# 10.210.200.1, server in lat-bench-b 10.210.200.2), receiver throughput; the agent JVM's CPU time
# and RSS over the iperf3 window; the EVENTS/LOST deltas of microbpf:probe-list (rx + tx).
# Prints a table and replaces the section between
#   <!-- layer-overhead:start --> and <!-- layer-overhead:end -->
# of docs/PERFORMANCE.md (appended at the end if the markers are absent), unless --no-doc.
#
# usage: bench/run-layer-overhead-bench.sh [--reps N] [--seconds S] [--settle-s S] [--budget-s S] [--no-doc]
#   --reps N      repetitions of the configurations (default 8)
#   --sample N    the sampled configuration's 1-in-N (default 16; 0 = no sampled configuration)
#   --seconds S   iperf3 duration per run (default 5)
#   --settle-s S  pause after a mode change or attach before a run (default 2)
#   --budget-s S  start no new repetition after S seconds since the script started (default 900)
#   --idle-pct P  before a run, wait until at most P % of all CPUs were busy over 1 s (default 25)
#   --idle-wait-s S  ... but at most S seconds (default 30; the run then goes ahead, bg % says so)
#   --pin B       pin the iperf3 client to CPU 0 and the server to CPU 1 (default true if >= 2 CPUs)
#   --no-doc      do not touch docs/PERFORMANCE.md
#   --per-flow B  per.flow of both probes (default true: per-flow histograms in the kernel)
# Needs root, the built distribution (distribution/target/microbpf-distribution-*.tar.gz: run
# `mvn -B -q install -DskipTests`), a Java 17 JDK, iproute2; installs iperf3 and jq with apt-get
# when missing. Run it under `flock /tmp/microbpf-bench.lock` on shared machines.
# Env: LAT_BENCH_SSH_PORT (default 18111), LAT_BENCH_RMI_PORTS ("11109 44455"): the agent copy's
#      ports, chosen so that it does not collide with an agent started by scripts/run-agent.sh.
#
# Everything is bounded: each iperf3 run is killed after S+30 s, the server after S+40 s, every
# bin/client call after 60 s; the agent is stopped, the namespaces deleted and every process this
# script started is ended on exit (also on Ctrl-C or an error).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work=$here/build/layer-overhead
ns_a=lat-bench-a ns_b=lat-bench-b
veth_a=lat-bench-va veth_b=lat-bench-vb
ip_a=10.210.200.1 ip_b=10.210.200.2
iperf_port=21900
ssh_port=${LAT_BENCH_SSH_PORT:-18111}
read -r rmi_reg_port rmi_srv_port <<<"${LAT_BENCH_RMI_PORTS:-11109 44455}"

reps=8 secs=5 settle_s=2 budget_s=900 write_doc=1 per_flow=true idle_pct=25 idle_wait_s=30 pin=auto sample=16
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=${2:?--reps needs a value}; shift ;;
    --seconds) secs=${2:?--seconds needs a value}; shift ;;
    --settle-s) settle_s=${2:?--settle-s needs a value}; shift ;;
    --budget-s) budget_s=${2:?--budget-s needs a value}; shift ;;
    --no-doc) write_doc=0 ;;
    --per-flow) per_flow=${2:?--per-flow needs true or false}; shift ;;
    --sample) sample=${2:?--sample needs a value}; shift ;;
    --idle-pct) idle_pct=${2:?--idle-pct needs a value}; shift ;;
    --idle-wait-s) idle_wait_s=${2:?--idle-wait-s needs a value}; shift ;;
    --pin) pin=${2:?--pin needs true or false}; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done

die() { echo "ERROR: $*" >&2; exit 1; }
info() { echo "layer-bench: $*" >&2; }
now_ms() { date +%s%3N; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
script_start=$(now_ms)

is_uint "$reps" && (( reps >= 1 )) || die "--reps must be a positive integer (got '$reps')"
is_uint "$sample" && (( sample != 1 )) || die "--sample must be 0 (none) or an integer >= 2 (got '$sample')"
is_uint "$secs" && (( secs >= 1 )) || die "--seconds must be a positive integer (got '$secs')"
[[ $settle_s =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--settle-s must be a number of seconds (got '$settle_s')"
is_uint "$budget_s" || die "--budget-s must be a non-negative integer (got '$budget_s')"
is_uint "$idle_pct" && (( idle_pct <= 100 )) || die "--idle-pct must be 0..100 (got '$idle_pct')"
is_uint "$idle_wait_s" || die "--idle-wait-s must be a non-negative integer (got '$idle_wait_s')"
if [ "$pin" = auto ]; then if (( $(nproc) >= 2 )); then pin=true; else pin=false; fi; fi
[ "$pin" = true ] || [ "$pin" = false ] || die "--pin must be true or false (got '$pin')"
if [ "$pin" = true ]; then export BENCH_CLIENT_CPUS=0 BENCH_SERVER_CPUS=1; else unset BENCH_CLIENT_CPUS BENCH_SERVER_CPUS; fi
[ "$(uname -s)" = Linux ] || die "Linux only"
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, BPF); try: sudo $0"

# ---------------------------------------------------------------- tools
need=()
for t in iperf3:iperf3 jq:jq ip:iproute2 clang:clang cc:gcc taskset:util-linux; do
  command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
BENCH_TRACEFS_WHY="classic tracepoint fallbacks need it"
BENCH_PORT_HINT="LAT_BENCH_SSH_PORT / LAT_BENCH_RMI_PORTS"
# tools, Java, distribution, ports, cleanup trap, namespaces + veth, agent start, helpers
source "$root/bench/lib/agent-bench.sh"

# ---------------------------------------------------------------- floor programs
floor_dir=$work/floor
mkdir -p "$floor_dir"
[ -f /usr/include/bpf/libbpf.h ] || die "libbpf-dev is needed to build bench/layer_attach.c (apt-get install -y libbpf-dev)"
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I "$root/bpf/include" -I /usr/include/x86_64-linux-gnu \
  -c "$root/bench/layer_floor.bpf.c" -o "$floor_dir/layer_floor.bpf.o" || die "cannot compile bench/layer_floor.bpf.c"
cc -O2 -Wall -o "$floor_dir/layer_attach" "$root/bench/layer_attach.c" -lbpf || die "cannot build bench/layer_attach.c"
floor_pid=
floor_start() {  # attaches the floor programs (kept until floor_stop); false with a message if not
  if [ -n "$floor_pid" ] && kill -0 "$floor_pid" 2>/dev/null; then return 0; fi
  "$floor_dir/layer_attach" "$floor_dir/layer_floor.bpf.o" --no-stdin >"$work/floor.out" 2>&1 &
  floor_pid=$!; bg_pids+=("$floor_pid")
  wait_marker "$work/floor.out" '^attached' "$floor_pid" && return 0
  info "floor programs did not attach: $(tail -n3 "$work/floor.out")"
  return 1
}
floor_stop() {
  [ -n "$floor_pid" ] || return 0
  kill "$floor_pid" 2>/dev/null || true
  wait "$floor_pid" 2>/dev/null || true
  floor_pid=
}

agent_pid=
for _ in $(seq 60); do   # up to ~120 s: pid file, then the probe RUNNING
  if [ -z "$agent_pid" ] && [ -s "$agent_dir/karaf.pid" ]; then agent_pid=$(tr -dc 0-9 <"$agent_dir/karaf.pid"); fi
  if [ -n "$agent_pid" ]; then
    kill -0 "$agent_pid" 2>/dev/null || die "the agent (pid $agent_pid) exited during start-up; see $agent_dir/data/log/karaf.log"
    out=$(agent_cmd 'microbpf:probe-list')
    [ "$(probe_field "$out" STATE)" = RUNNING ] && break
  fi
  sleep 2
done
[ -n "$agent_pid" ] || die "the agent wrote no $agent_dir/karaf.pid within 120 s (see $work/agent-start.log)"
[ "$(probe_field "$out" STATE)" = RUNNING ] \
  || die "the ack probe is not RUNNING after 120 s; last probe-list:"$'\n'"$out"$'\n'"(see $agent_dir/data/log/karaf.log)"
info "agent pid $agent_pid; installing microbpf-probe-rx and microbpf-probe-tx"
agent_cmd 'feature:install -r microbpf-probe-rx microbpf-probe-tx' >"$work/feature-install.log"
for _ in $(seq 30); do
  out=$(agent_cmd 'microbpf:probe-list')
  [ "$(probe_field "$out" STATE rx)" = RUNNING ] && [ "$(probe_field "$out" STATE tx)" = RUNNING ] && break
  sleep 2
done
[ "$(probe_field "$out" STATE rx)" = RUNNING ] && [ "$(probe_field "$out" STATE tx)" = RUNNING ] \
  || die "rx/tx are not RUNNING 60 s after feature:install; last probe-list:"$'\n'"$out"$'\n'"$(cat "$work/feature-install.log")"
agent_cmd 'microbpf:probe-stop ack' >/dev/null
[ "$per_flow" = true ] || [ "$per_flow" = false ] || die "--per-flow must be true or false (got '$per_flow')"
agent_cmd "config:property-set -p io.microbpf.probe.rx per.flow $per_flow" "config:property-set -p io.microbpf.probe.tx per.flow $per_flow" >/dev/null
hooks="rx: $(probe_field "$out" HOOKS rx); tx: $(probe_field "$out" HOOKS tx)"
probe_list_running=$(grep -E '\||^-+\+' <<<"$out" | grep -Ev '^ack ' || echo "$out")
# -v adds why each rejected hook candidate was rejected (lines naming the probe, outside the table)
rejected=$(agent_cmd 'microbpf:probe-list -v' | grep -E '^(rx|tx) ' | grep -v '|' | sed 's/ *\[libbpf.*//' | cut -c1-200 || true)
info "rx and tx RUNNING with hooks: $hooks"

clk_tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }   # utime+stime (fields 14, 15)
# busy CPU ticks (all CPUs) and total ticks from the first line of /proc/stat
sys_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

probe_state=histogram probe_out= last_latency= last_latency_cfg=
# set_config baseline|floor|histogram|events|sampled : detaches (floor: and attaches the floor programs),
# or sets the mode and sampling (ConfigAdmin, applied live) and attaches, both probes through bin/client;
# probe_state = the configuration probe-list confirms
set_config() {
  local want=$1 rs ts
  if [ "$want" = baseline ] || [ "$want" = floor ]; then
    probe_out=$(agent_cmd 'microbpf:probe-stop rx' 'microbpf:probe-stop tx' 'microbpf:probe-list')
    rs=$(probe_field "$probe_out" STATE rx); ts=$(probe_field "$probe_out" STATE tx)
    if [ "$want" = floor ]; then
      floor_start || { probe_state="floor programs not attached"; return; }
    else
      floor_stop
    fi
    if [ "$rs" = STOPPED ] && [ "$ts" = STOPPED ]; then probe_state=$want; else probe_state="rx $rs, tx $ts"; fi
    return
  fi
  floor_stop
  local mode=$want every=1
  [ "$want" = sampled ] && mode=events every=$sample
  # a probe stopped by probe-stop takes the configuration update but stays stopped (BpfProbe.applyConfig):
  # probe-start attaches it with the new mode; the pause lets ConfigAdmin deliver the update first
  # (if it comes later, the running probe switches the mode live)
  # one ConfigAdmin update per PID (config:edit ... config:update): separate property-set calls in quick
  # succession were seen to lose the second value (the probe kept the previous sampling for a whole run)
  agent_cmd "config:edit io.microbpf.probe.rx" "config:property-set mode $mode" "config:property-set events.sample.every $every" \
    "config:update" "config:edit io.microbpf.probe.tx" "config:property-set mode $mode" \
    "config:property-set events.sample.every $every" "config:update" >/dev/null
  want_events=$([ "$mode" = events ] && echo 1 || echo 0) want_every=$every
  sleep 1
  probe_out=$(agent_cmd 'microbpf:probe-start rx' 'microbpf:probe-start tx' 'microbpf:probe-list')
  rs=$(probe_field "$probe_out" STATE rx); ts=$(probe_field "$probe_out" STATE tx)
  if [ "$rs" = RUNNING ] && [ "$ts" = RUNNING ]; then probe_state=$want; else probe_state="rx $rs, tx $ts"; fi
}
# ev_sum OUTPUT COLUMN : rx + tx values of a probe-list column
ev_sum() {
  local a b
  a=$(probe_field "$1" "$2" rx); b=$(probe_field "$1" "$2" tx)
  if is_uint "${a:-x}" && is_uint "${b:-x}"; then echo $((a + b)); else echo x; fi
}

# wait_idle : waits (at most idle_wait_s) until the machine's busy share over 1 s is <= idle_pct;
# sets run_bg (busy % of the last 1 s sample) and run_wait (seconds waited)
wait_idle() {
  local t0 s0 s0t s1 s1t
  t0=$(now_ms)
  while :; do
    read -r s0 s0t <<<"$(sys_ticks)"; sleep 1; read -r s1 s1t <<<"$(sys_ticks)"
    run_bg=$(awk -v b=$((s1 - s0)) -v t=$((s1t - s0t)) 'BEGIN { printf "%.0f", (t > 0) ? 100 * b / t : 0 }')
    (( run_bg <= idle_pct )) && break
    (( $(now_ms) - t0 >= idle_wait_s * 1000 )) && break
  done
  run_wait=$(( ($(now_ms) - t0) / 1000 ))
}

# ---------------------------------------------------------------- one run
attached() { [ "$1" = histogram ] || [ "$1" = events ] || [ "$1" = sampled ]; }
# mode_mismatch LATENCY_OUTPUT : empty when both kernel objects run with the configured mode and sampling
# (the rx./tx.mode.events and .events.sample.every counters of microbpf:latency), else what they run with
mode_mismatch() {
  local d applied
  for d in rx tx; do
    applied="$(grep -o "$d\.mode\.events=[-0-9]*" <<<"$1" | head -n1 | cut -d= -f2) $(grep -o "$d\.events\.sample\.every=[-0-9]*" <<<"$1" | head -n1 | cut -d= -f2)"
    [ "$applied" = "$want_events $want_every" ] || { echo "$d ran with mode.events/sample.every '$applied', not '$want_events $want_every'"; return; }
  done
}
# run_one REP CONFIG : sets run_* globals
run_one() {
  local rep=$1 cfg=$2 log=$work/run-$1-$2 out s0 s1 s0t s1t i t0 t1 c0 c1 ev0= ev1= lo0= lo1= m=
  run_status=ok run_bps=0 run_retr=0 run_cpu_ms=0 run_cpu_pct=0 run_rss=0 run_ev=- run_lost=- run_evps=- run_bg=- run_wait=- run_snd_cpu=0 run_rcv_cpu=0
  set_config "$cfg"; out=$probe_out
  if [ "$probe_state" != "$cfg" ]; then
    run_status="probes not in $cfg before the run ($probe_state)"
    echo "$out" >"$log.probe-list"
    return
  fi
  if attached "$cfg"; then ev0=$(ev_sum "$out" EVENTS); lo0=$(ev_sum "$out" LOST); fi
  sleep "$settle_s"
  if attached "$cfg"; then
    m=$(mode_mismatch "$(agent_cmd 'microbpf:latency')")
    if [ -n "$m" ]; then run_status="before the run: $m"; return; fi
  fi
  # the machine's background load (other processes): wait, bounded, until it is idle enough
  wait_idle

  kill -0 "$agent_pid" 2>/dev/null || die "the agent (pid $agent_pid) is gone"
  t0=$(now_ms); c0=$(cpu_ticks "$agent_pid")
  iperf_run "$secs" "$log"
  t1=$(now_ms); c1=$(cpu_ticks "$agent_pid")
  run_rss=$(( $(rss_kb "$agent_pid") / 1024 ))
  run_cpu_ms=$(( (c1 - c0) * 1000 / clk_tck ))
  run_cpu_pct=$(awk -v c="$run_cpu_ms" -v w=$((t1 - t0)) 'BEGIN { printf "%.1f", (w > 0) ? 100 * c / w : 0 }')

  if attached "$cfg"; then
    out=$(agent_cmd 'microbpf:probe-list' 'microbpf:latency')
    echo "$out" >"$log.probe-list"
    [ "$(probe_field "$out" STATE rx)" = RUNNING ] && [ "$(probe_field "$out" STATE tx)" = RUNNING ] \
      || run_status="probes not RUNNING after the run"
    ev1=$(ev_sum "$out" EVENTS); lo1=$(ev_sum "$out" LOST)
    m=$(mode_mismatch "$out"); [ -z "$m" ] || run_status="after the run: $m"
    # microbpf:latency after the run (lines outside the probe-list table): kept for the report
    last_latency=$(grep -v '|' <<<"$out" | grep -Ev '^-+\+|^\s*$' || true); last_latency_cfg=$cfg
    if is_uint "${ev0:-x}" && is_uint "${ev1:-x}"; then
      run_ev=$((ev1 - ev0))
      # EVENTS counts everything read while the probe ran: the iperf3 window plus the settle pause
      # and the client calls; per second uses the iperf3 duration (the traffic)
      run_evps=$(awk -v n="$run_ev" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
    fi
    if is_uint "${lo0:-x}" && is_uint "${lo1:-x}"; then run_lost=$((lo1 - lo0)); fi
  fi

  if ! jq -e '.end.sum_received.bits_per_second' "$log.json" >/dev/null 2>&1; then
    run_status="iperf3 failed: $(jq -r '.error // empty' "$log.json" 2>/dev/null || true)$(tail -n1 "$log.client.err" 2>/dev/null)"
    return
  fi
  run_bps=$(jq -r '.end.sum_received.bits_per_second' "$log.json")
  run_retr=$(jq -r '.end.sum_sent.retransmits // 0' "$log.json")
  run_snd_cpu=$(jq -r '.end.cpu_utilization_percent.host_total // 0 | . * 10 | round / 10' "$log.json")
  run_rcv_cpu=$(jq -r '.end.cpu_utilization_percent.remote_total // 0 | . * 10 | round / 10' "$log.json")
}

gbps() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1e9 }'; }

# ---------------------------------------------------------------- runs
info "warm-up: one unrecorded ${secs}s run with the probes detached"
set_config baseline
[ "$probe_state" = baseline ] || die "could not stop the probes; probe-list said:"$'\n'"$probe_out"
iperf_run "$secs" "$work/run-warmup"
jq -e '.end.sum_received.bits_per_second' "$work/run-warmup.json" >/dev/null 2>&1 \
  || die "the warm-up iperf3 run failed: $(cat "$work/run-warmup.client.err" "$work/run-warmup.server" 2>/dev/null | tail -n3)"
info "warm-up: $(gbps "$(jq -r '.end.sum_received.bits_per_second' "$work/run-warmup.json")") Gbit/s"

configs=(baseline floor histogram events)
(( sample == 0 )) || configs+=(sampled)
rows=()    # "rep cfg Gbps retr agent_cpu_ms agent_cpu_pct rss_mb events lost ev/s wait_s - snd_cpu rcv_cpu bg_pct status"
skipped=0 done_reps=0
hdr='%-3s %-9s %8s %6s %9s %7s %7s %9s %6s %9s %6s %6s %5s %6s  %s\n'
printf "$hdr" rep config Gbit/s retr agent_ms agent_% rss_MB events lost ev/s snd_% rcv_% bg_% wait_s status
for ((rep = 1; rep <= reps; rep++)); do
  if (( $(now_ms) - script_start > budget_s * 1000 )); then skipped=$((reps - rep + 1)); break; fi
  for ((k = 0; k < ${#configs[@]}; k++)); do
    cfg=${configs[$(( (k + rep - 1) % ${#configs[@]} ))]}
    run_one "$rep" "$cfg"
    g=$(gbps "$run_bps")
    printf "$hdr" "$rep" "$cfg" "$g" "$run_retr" "$run_cpu_ms" "$run_cpu_pct" "$run_rss" "$run_ev" "$run_lost" "$run_evps" "$run_snd_cpu" "$run_rcv_cpu" "$run_bg" "$run_wait" "$run_status"
    rows+=("$rep $cfg $g $run_retr $run_cpu_ms $run_cpu_pct $run_rss $run_ev $run_lost $run_evps $run_wait - $run_snd_cpu $run_rcv_cpu $run_bg $run_status")
  done
  done_reps=$rep
done
(( skipped == 0 )) || info "time budget of ${budget_s}s reached: $skipped repetition(s) skipped"

# ---------------------------------------------------------------- kernel-side cost (bpf_stats)
# One extra run per attached configuration with kernel.bpf_stats_enabled=1: the kernel then times
# every BPF program invocation (run_cnt, run_time_ns; this adds two clock reads per invocation, so
# these runs are not part of the throughput comparison). The BPF time as a share of the machine's
# busy CPU time is an estimate of the hooks' cost that does not depend on run-to-run throughput noise.
# prog_ids, prog_snap, stats_rows and stats_measure: bench/lib/agent-bench.sh
stats_sum=()    # "cfg gbps bpf_ms busy_ms share_pct"
stats_pass() {  # stats_pass CONFIG
  local cfg=$1 log=$work/run-bpfstats-$1 before after new=() busy_ms
  set_config baseline
  [ "$probe_state" = baseline ] || { info "bpf_stats pass ($cfg): could not stop the probes"; return; }
  before=$(prog_ids)
  set_config "$cfg"
  [ "$probe_state" = "$cfg" ] || { info "bpf_stats pass: could not attach the probes in $cfg mode"; return; }
  after=$(prog_ids)
  mapfile -t new < <(comm -13 <(echo "$before") <(echo "$after"))
  if [ ${#new[@]} -eq 0 ] || [ -z "${new[0]}" ]; then
    info "bpf_stats pass ($cfg): no new BPF programs found"
  else
    stats_measure "$cfg" "$log" iperf_run "${new[@]}"
    busy_ms=$(( (stats_s1 - stats_s0) * 1000 / clk_tck ))
    stats_sum+=("$cfg $stats_gbps $(awk -v n="$stats_bpf_ns" -v b="$busy_ms" 'BEGIN { printf "%.1f %d %.1f", n / 1e6, b, (b > 0) ? 100 * n / 1e6 / b : 0 }')")
  fi
}
if command -v bpftool >/dev/null && [ -w /proc/sys/kernel/bpf_stats_enabled ]; then
  bpf_stats_orig=$(sysctl -n kernel.bpf_stats_enabled)
  info "bpf_stats pass: one extra ${secs}s run each for floor, histogram and events with kernel.bpf_stats_enabled=1"
  stats_pass floor
  stats_pass histogram
  stats_pass events
  sysctl -qw kernel.bpf_stats_enabled="$bpf_stats_orig"
else
  info "bpf_stats pass skipped (needs bpftool and a writable kernel.bpf_stats_enabled)"
fi
set_config histogram || true   # leave the probes attached (the agent is stopped next anyway)

# ---------------------------------------------------------------- statistics
# col CFG N : the N-th field (1-based) of the ok rows of CFG
col() {
  local r
  for r in "${rows[@]:-}"; do
    [ -n "$r" ] || continue
    awk -v c="$1" -v n="$2" '$2 == c && $16 == "ok" { print $n }' <<<"$r"
  done
}
# stats and median_ci: bench/lib/agent-bench.sh
declare -A med mn mx cnt cpu_pct rss_max evps_med
for cfg in "${configs[@]}"; do
  mapfile -t v < <(col "$cfg" 3)
  read -r med[$cfg] mn[$cfg] mx[$cfg] cnt[$cfg] <<<"$(stats "${v[@]:-}")"
  # agent CPU: median over the ok runs of the config of (CPU ms / wall ms of the iperf3 window)
  mapfile -t v < <(col "$cfg" 6); read -r cpu_pct[$cfg] _ _ _ <<<"$(stats "${v[@]:-}")"
  mapfile -t v < <(col "$cfg" 7); read -r _ _ rss_max[$cfg] _ <<<"$(stats "${v[@]:-}")"
  mapfile -t v < <(col "$cfg" 10 | grep -v '^-$' || true); read -r evps_med[$cfg] _ _ _ <<<"$(stats "${v[@]:-}")"
done
cost() {  # cost of CFG vs baseline, median-based, in % (positive = slower)
  awk -v b="${med[baseline]}" -v c="${med[$1]}" 'BEGIN { if (b > 0 && c > 0) printf "%.1f", 100 * (b - c) / b; else print "n/a" }'
}
# paired per-repetition cost vs baseline (same repetition, adjacent runs): "median min max n slower ci_lo
# ci_hi ci_cov" (paired_pct, pct_summary: bench/lib/agent-bench.sh)
paired_cost() {
  local v
  mapfile -t v < <(paired_pct rows "$done_reps" baseline "$1" 3 16 1)
  pct_summary "${v[@]:-}"
}
spread=$(awk -v lo="${mn[baseline]}" -v hi="${mx[baseline]}" -v m="${med[baseline]}" 'BEGIN { if (m > 0) printf "%.1f", 100 * (hi - lo) / m; else print "n/a" }')
hist_cost=$(cost histogram) ev_cost=$(cost events) floor_cost=$(cost floor)
read -r fc_med fc_min fc_max fc_n fc_pos fc_lo fc_hi fc_cov <<<"$(paired_cost floor)"
read -r pc_med pc_min pc_max pc_n pc_pos pc_lo pc_hi pc_cov <<<"$(paired_cost histogram)"
read -r bc_med bc_min bc_max bc_n bc_pos bc_lo bc_hi bc_cov <<<"$(paired_cost events)"
read -r sc_med sc_min sc_max sc_n sc_pos sc_lo sc_hi sc_cov <<<"$(paired_cost sampled)"
lost_total=$(printf '%s\n' "${rows[@]:-}" | awk 'NF && $2 == "events" && $9 ~ /^[0-9]+$/ { s += $9 } END { print s + 0 }')
lost_sampled=$(printf '%s\n' "${rows[@]:-}" | awk 'NF && $2 == "sampled" && $9 ~ /^[0-9]+$/ { s += $9 } END { print s + 0 }')
bg_med=$(printf '%s\n' "${rows[@]:-}" | awk 'NF && $15 ~ /^[0-9]+$/ { print $15 }' | sort -g | awk '{ a[NR] = $1 } END { print NR ? a[int((NR + 1) / 2)] : 0 }')
waited=$(printf '%s\n' "${rows[@]:-}" | awk 'NF && $11 ~ /^[0-9]+$/ { s += $11 } END { print s + 0 }')
bg_max=$(printf '%s\n' "${rows[@]:-}" | awk 'NF && $15 ~ /^[0-9]+$/ && $15 > m { m = $15 } END { print m + 0 }')
bad=$(printf '%s\n' "${rows[@]:-}" | awk 'NF && $16 != "ok"' | wc -l)

# judge NAME MEDIAN CI_HI CI_COV TARGET CI_LO : MET when the median paired cost and the upper end of its
# CI are both <= TARGET (the rule of the ack benchmark)
judge() {
  if [ "$2" = n/a ]; then echo "$1: NOT MEASURED (no successful runs)"
  elif [ "$3" != n/a ] && awk -v c="$2" -v h="$3" -v t="$5" 'BEGIN { exit !(c <= t && h <= t) }'; then
    echo "$1: MET (paired cost ${2} %, ~90 % CI up to ${3} %, target <= $5 %)"
  else echo "$1: NOT MET (paired cost ${2} % of throughput, ~90 % CI ${6} … ${3} %, target <= $5 %)"; fi
}
verdict="$(judge histogram "$pc_med" "$pc_hi" "$pc_cov" 3 "$pc_lo"); $(judge events "$bc_med" "$bc_hi" "$bc_cov" 10 "$bc_lo"); events lost in events mode: ${lost_total} (target 0: $([ "$lost_total" = 0 ] && echo MET || echo NOT MET))"
(( sample == 0 )) || verdict="$verdict; with 1-in-${sample} sampling (not a target, for comparison): $(judge "events 1-in-${sample}" "$sc_med" "$sc_hi" "$sc_cov" 10 "$sc_lo"), lost ${lost_sampled}"
if [ "$fc_lo" != n/a ] && awk -v c="$fc_lo" 'BEGIN { exit !(c > 3) }'; then
  verdict="$verdict; the floor (empty programs on the same hooks) alone cost ${fc_med} % (CI ${fc_lo} … ${fc_hi} %): even the lower end of its CI is above 3 %, so no probe on these hooks can meet the histogram target on this machine"
else
  verdict="$verdict; the floor (empty programs on the same hooks) cost ${fc_med} % (CI ${fc_lo} … ${fc_hi} %)"
fi

if [ "$spread" != n/a ] && awk -v s="$spread" 'BEGIN { exit !(s > 3) }'; then
  verdict="$verdict; note: the baseline's own run-to-run spread is ${spread} %, larger than the 3 % being judged"
fi

if (( bg_max > 10 )); then
  verdict="$verdict; the machine was not idle: up to ${bg_max} % of its CPUs were busy with other work just before a run"
fi

echo
for cfg in "${configs[@]}"; do
  printf '%-9s median %s Gbit/s (min %s, max %s, %s ok runs)' "$cfg" "${med[$cfg]}" "${mn[$cfg]}" "${mx[$cfg]}" "${cnt[$cfg]}"
  [ "$cfg" = baseline ] || printf ', cost vs baseline %s %%' "$(cost "$cfg")"
  printf ', agent CPU median %s %% of a CPU, RSS max %s MB' "${cpu_pct[$cfg]}" "${rss_max[$cfg]}"
  [ "$cfg" = baseline ] || printf ', %s ev/s' "${evps_med[$cfg]}"
  echo
done
echo "paired per-repetition cost: floor median ${fc_med} % (min ${fc_min}, max ${fc_max}, slower in ${fc_pos} of ${fc_n}, CI ${fc_lo} … ${fc_hi}); histogram median ${pc_med} % (min ${pc_min}, max ${pc_max}, slower than baseline in ${pc_pos} of ${pc_n} reps, CI ${pc_lo} … ${pc_hi}); events median ${bc_med} % (min ${bc_min}, max ${bc_max}, slower in ${bc_pos} of ${bc_n}, CI ${bc_lo} … ${bc_hi})"
(( sample == 0 )) || echo "sampled 1-in-${sample}: median ${sc_med} % (min ${sc_min}, max ${sc_max}, slower in ${sc_pos} of ${sc_n}, CI ${sc_lo} … ${sc_hi})"
for r in "${stats_sum[@]:-}"; do
  [ -n "$r" ] || continue
  read -r a b c d e <<<"$r"
  echo "bpf_stats run ($a): $b Gbit/s, BPF programs ran $c ms = $e % of the $d ms busy CPU time"
done
for r in "${stats_rows[@]:-}"; do [ -n "$r" ] && echo "  $r"; done
echo "baseline spread (max - min) / median: ${spread} %"
echo "hooks: $hooks"
echo "$verdict"

# ---------------------------------------------------------------- docs/PERFORMANCE.md
if [ "$write_doc" = 1 ]; then
  doc=$root/docs/PERFORMANCE.md section=$work/section.md
  cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
  sampled_doc=
  (( sample == 0 )) || sampled_doc="; **sampled**: events mode with \`events.sample.every = $sample\` (1-in-$sample packets by segment hash)"
  {
    echo '<!-- layer-overhead:start -->'
    echo '## Throughput cost of the per-layer latency probes `rx` + `tx` (iperf3 over veth)'
    echo
    echo "Measured $(date -u +'%Y-%m-%d %H:%M UTC') by \`bench/run-layer-overhead-bench.sh --reps $reps --seconds $secs --per-flow $per_flow --sample $sample\` on Linux $(uname -r),"
    echo "$(nproc) CPU(s) (${cpu_model:-unknown CPU}), $(iperf3 --version 2>/dev/null | head -n1 | awk '{print $1, $2}')."
    echo
    echo "- Load: \`iperf3 -c $ip_b -t $secs -J\` (one TCP stream, no rate limit) from namespace \`$ns_a\` to"
    echo "  \`iperf3 -s -1\` in \`$ns_b\` over a veth pair; throughput = receiver \`end.sum_received.bits_per_second\`."
    echo "  Unlimited veth traffic on $(nproc) vCPUs is CPU-bound, so every nanosecond spent in a hook shows up"
    echo "  as throughput: a worst case for the probes, not a typical one. Both probes see both directions"
    echo "  (data a -> b and ACKs b -> a), since all namespaces share the kernel."
    echo "- The agent (the built distribution, with \`feature:install -r microbpf-probe-rx microbpf-probe-tx\` and"
    echo "  the ack probe stopped) runs in every configuration; only rx/tx differ, switched through \`bin/client\`"
    echo "  outside the measured window. **baseline**: rx and tx stopped; **floor**: rx and tx stopped, instead"
    echo "  programs that return at once (\`bench/layer_floor.bpf.c\`, attached by \`bench/layer_attach.c\`) on exactly"
    echo "  the hooks and attach types the probes use here (the cost of the attachment alone); **histogram**: both attached,"
    echo "  \`mode = histogram\` (per-layer and per-flow histograms in the kernel); **events**: both attached,"
    echo "  \`mode = events\` (plus one ring-buffer record per packet, no sampling)${sampled_doc}, set with"
    echo "  \`config:property-set\` and applied live. Per repetition every configuration, order rotated; one unrecorded"
    echo "  warm-up run first; ${settle_s} s pause after every change, then a wait (at most ${idle_wait_s} s) until at most"
    echo "  ${idle_pct} % of the CPUs were busy over 1 s (the machine is shared with other engineers' builds; ${waited} s"
    echo "  waited in all). iperf3 pinned: $([ "$pin" = true ] && echo "client on CPU 0, server on CPU 1 (\`taskset -c\`)" || echo no)."
    echo "- Hooks the probes used (\`microbpf:probe-list\` at start):"
    echo
    echo '```'
    echo "$probe_list_running"
    [ -z "$rejected" ] || echo "$rejected"
    echo '```'
    echo
    echo "- agent ms / agent % = CPU time (utime+stime) of the agent JVM during the iperf3 window and as"
    echo "  % of one CPU; RSS = the JVM's VmRSS after the run; events / ev/s = \`probe-list\` EVENTS delta of"
    echo "  rx + tx (ring records; 0 in histogram mode) over the run, per second of traffic; lost = LOST delta"
    echo "  (ring reservations that failed); retr = TCP retransmits; snd % / rcv % = iperf3's own CPU use;"
    echo "  bg % = busy share of all CPUs in the last 1 s just before the run (other load on the machine; median ${bg_med} %);"
    echo "  wait s = how long the run waited for the machine to be idle enough."
    echo
    echo '| rep | config | Gbit/s | retr | agent ms | agent % | RSS MB | events | lost | ev/s | snd % | rcv % | bg % | wait s | status |'
    echo '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|'
    for r in "${rows[@]:-}"; do
      [ -n "$r" ] || continue
      read -r a b c d e f g h i j k l m n o st <<<"$r"
      echo "| $a | $b | $c | $d | $e | $f | $g | $h | $i | $j | $m | $n | $o | $k | $st |"
    done
    echo
    echo '| config | median Gbit/s | min | max | ok runs | cost vs baseline (medians) | paired cost: median (min … max) | slower than its baseline | ~90 % CI of the paired median | agent CPU (median) | agent RSS (max) | events/s (median) |'
    echo '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
    echo "| baseline | **${med[baseline]}** | ${mn[baseline]} | ${mx[baseline]} | ${cnt[baseline]} | — | — | — | — | ${cpu_pct[baseline]} % | ${rss_max[baseline]} MB | — |"
    echo "| floor | **${med[floor]}** | ${mn[floor]} | ${mx[floor]} | ${cnt[floor]} | ${floor_cost} % | **${fc_med} %** (${fc_min} … ${fc_max}) | ${fc_pos} of ${fc_n} | ${fc_lo} … ${fc_hi} % (${fc_cov} %) | ${cpu_pct[floor]} % | ${rss_max[floor]} MB | — |"
    echo "| histogram | **${med[histogram]}** | ${mn[histogram]} | ${mx[histogram]} | ${cnt[histogram]} | ${hist_cost} % | **${pc_med} %** (${pc_min} … ${pc_max}) | ${pc_pos} of ${pc_n} | ${pc_lo} … ${pc_hi} % (${pc_cov} %) | ${cpu_pct[histogram]} % | ${rss_max[histogram]} MB | ${evps_med[histogram]} |"
    echo "| events | **${med[events]}** | ${mn[events]} | ${mx[events]} | ${cnt[events]} | ${ev_cost} % | **${bc_med} %** (${bc_min} … ${bc_max}) | ${bc_pos} of ${bc_n} | ${bc_lo} … ${bc_hi} % (${bc_cov} %) | ${cpu_pct[events]} % | ${rss_max[events]} MB | ${evps_med[events]} |"
    (( sample == 0 )) || echo "| sampled 1-in-${sample} | **${med[sampled]}** | ${mn[sampled]} | ${mx[sampled]} | ${cnt[sampled]} | $(cost sampled) % | **${sc_med} %** (${sc_min} … ${sc_max}) | ${sc_pos} of ${sc_n} | ${sc_lo} … ${sc_hi} % (${sc_cov} %) | ${cpu_pct[sampled]} % | ${rss_max[sampled]} MB | ${evps_med[sampled]} |"
    echo
    echo "- Paired cost = (baseline − config) / baseline within one repetition (runs seconds apart), positive ="
    echo "  slower; its median over repetitions is the headline figure, judged with its distribution-free CI"
    echo "  (order statistics, sign test; the narrowest with coverage ≥ 90 %, shown in brackets). A target is MET"
    echo "  when the median and the CI's upper end are both within it. The baseline's own spread (max − min) /"
    echo "  median is ${spread} %."
    if [ ${#stats_sum[@]} -gt 0 ]; then
      echo
      echo "Kernel-side cost, from one extra ${secs} s run per mode with \`kernel.bpf_stats_enabled=1\`"
      echo "(the kernel times every BPF program invocation; that adds two clock reads per call, so these runs"
      echo "are not in the comparison above). BPF share = the programs' run time / busy CPU time of the"
      echo "machine during the run, an estimate of the hooks' cost that run-to-run noise does not swamp:"
      echo
      echo '| config | program id | type | name | calls | calls/s | ns/call | BPF ms |'
      echo '|---|---:|---|---|---:|---:|---:|---:|'
      for r in "${stats_rows[@]}"; do
        read -r a b c d e f g h <<<"$r"
        echo "| $a | $b | $c | $d | $e | $f | $g | $h |"
      done
      echo
      for r in "${stats_sum[@]}"; do
        read -r a b c d e <<<"$r"
        echo "- $a: $b Gbit/s; BPF programs ran **$c ms = $e %** of the $d ms of busy CPU time."
      done
    fi
    if [ -n "$last_latency" ]; then
      echo
      echo "\`microbpf:latency\` in the agent after the last ${last_latency_cfg} run: all traffic since the probes were last"
      echo "attached (a histogram run just before counts too: switching the mode does not reload), both directions of the"
      echo "iperf3 stream; unmatched.xmit counts the later pieces of GSO packets split below TCP:"
      echo
      echo '```'
      echo "$last_latency"
      echo '```'
      echo
    fi
    echo "- **Targets (histogram ≤ 3 %, events ≤ 10 %, 0 lost): ${verdict}.**"
    echo "- Background load: median ${bg_med} %, max ${bg_max} % of all CPUs busy in the second before a run."
    (( bad == 0 )) || echo "- $bad run(s) failed (status column) and are left out of the statistics."
    (( skipped == 0 )) || echo "- time budget (${budget_s} s) reached: $skipped repetition(s) skipped."
    echo "- Re-run: \`sudo flock /tmp/microbpf-bench.lock bench/run-layer-overhead-bench.sh\` (needs the built distribution; about 10 minutes with the defaults, more while the machine is busy)."
    echo '<!-- layer-overhead:end -->'
  } >"$section"
  if [ ! -f "$doc" ]; then
    { echo '# Performance'; echo; cat "$section"; } >"$doc"
  elif grep -q '<!-- layer-overhead:start -->' "$doc" && grep -q '<!-- layer-overhead:end -->' "$doc"; then
    awk -v sec="$section" '
      /<!-- layer-overhead:start -->/ { while ((getline l < sec) > 0) print l; skip = 1; next }
      /<!-- layer-overhead:end -->/   { skip = 0; next }
      !skip' "$doc" >"$doc.tmp" && cat "$doc.tmp" >"$doc" && rm -f "$doc.tmp"
  else
    { echo; cat "$section"; } >>"$doc"
  fi
  info "wrote the layer-overhead section of $doc"
fi
info "logs: $work (run-*.json, run-*.probe-list)"

#!/usr/bin/env bash
# ns per call of BPF programs on the rx/tx hooks, without the agent: a quick, steady measure for
# working on the probes' kernel cost (the full benchmark is run-layer-overhead-bench.sh).
# Loads the given objects with bench/build/floor/layer_attach (each program attached at its section's
# hook; cgroup_skb on the cgroup v2 root), sets kernel.bpf_stats_enabled=1, runs iperf3 over a veth
# pair between two namespaces (lat-st-a -> lat-st-b) and prints, per program: calls, calls/s,
# ns/call, BPF ms; and the programs' share of the busy CPU time. Knobs stay as loaded (all zero:
# histogram mode, per-flow histograms on) unless --knobs sets them.
#
# usage: bench/layer-bpf-stats.sh [--seconds S] [--reps N] [--knobs E,S,F] OBJ:PROG,PROG,... [OBJ:PROG,...]
#   --knobs E,S,F  write struct layer_knobs {events=E, sample_every=S, flows_off=F} into every loaded
#                  object's "knobs" map before the runs (e.g. 0,0,1: histogram mode, no per-flow histograms)
#   e.g. bench/layer-bpf-stats.sh probes-rx/target/classes/bpf/rx.bpf.o:rx_mac_tp_btf,rx_ip_tp_btf,...
# Needs root, iperf3, jq, bpftool, clang/cc + libbpf-dev (builds layer_attach when missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=5 reps=1 specs=() knobs=
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) secs=$2; shift ;;
    --reps) reps=$2; shift ;;
    --knobs) knobs=$2; shift ;;
    *) specs+=("$1") ;;
  esac
  shift
done
[ ${#specs[@]} -gt 0 ] || { echo "usage: $0 [--seconds S] [--reps N] OBJ:PROG,... ..." >&2; exit 1; }
b=$here/build/floor
mkdir -p "$b"
[ -x "$b/layer_attach" ] && [ "$b/layer_attach" -nt "$here/layer_attach.c" ] || cc -O2 -Wall -o "$b/layer_attach" "$here/layer_attach.c" -lbpf
ns_a=lat-st-a ns_b=lat-st-b ip_a=10.210.201.1 ip_b=10.210.201.2 port=21901
pids=() orig=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
  sysctl -qw kernel.bpf_stats_enabled="$orig" || true
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  ip netns del $ns_a 2>/dev/null || true; ip netns del $ns_b 2>/dev/null || true
}
trap cleanup EXIT
ip netns del $ns_a 2>/dev/null || true; ip netns del $ns_b 2>/dev/null || true
ip netns add $ns_a; ip netns add $ns_b
ip link add lat-st-va netns $ns_a type veth peer name lat-st-vb netns $ns_b
ip -n $ns_a addr add $ip_a/24 dev lat-st-va; ip -n $ns_b addr add $ip_b/24 dev lat-st-vb
for n in $ns_a $ns_b; do ip -n $n link set lo up; done
ip -n $ns_a link set lat-st-va up; ip -n $ns_b link set lat-st-vb up

before=$(bpftool prog show -j | jq -r '.[].id' | sort)
for s in "${specs[@]}"; do
  obj=${s%%:*} progs=${s#*:}
  fifo=$(mktemp -u); mkfifo "$fifo"
  # stdin of the loader = a pipe kept open by a sleeping writer; killing it detaches nothing by itself
  ( exec 3>"$fifo"; sleep 3600 ) & pids+=($!)
  "$b/layer_attach" "$obj" ${progs//,/ } <"$fifo" >"$fifo.out" 2>&1 & pids+=($!)
  for _ in $(seq 50); do grep -q attached "$fifo.out" 2>/dev/null && break; ! kill -0 $! 2>/dev/null && break; sleep 0.1; done
  grep -q attached "$fifo.out" || { echo "attach failed: $(cat "$fifo.out")" >&2; exit 1; }
done
ids=$(comm -13 <(echo "$before") <(bpftool prog show -j | jq -r '.[].id' | sort) | paste -sd, -)
if [ -n "$knobs" ]; then
  IFS=, read -r k_ev k_se k_fo <<<"$knobs"
  le32() { printf '%d %d %d %d ' $(( $1 & 255 )) $(( ($1 >> 8) & 255 )) $(( ($1 >> 16) & 255 )) $(( ($1 >> 24) & 255 )); }
  for m in $(bpftool prog show -j | jq -r --argjson ids "[$ids]" '.[] | select(.id as $i | $ids | index($i)) | .map_ids[]?' | sort -u); do
    [ "$(bpftool map show id "$m" -j | jq -r .name)" = knobs ] || continue
    bpftool map update id "$m" key 0 0 0 0 value $(le32 "$k_ev") $(le32 "$k_se") $(le32 "$k_fo") 0 0 0 0
    echo "knobs map $m: events=$k_ev sample_every=$k_se flows_off=$k_fo"
  done
fi
snap() { bpftool prog show -j | jq -r --argjson ids "[$ids]" '.[] | select(.id as $i | $ids | index($i)) | "\(.id) \(.name) \(.run_cnt // 0) \(.run_time_ns // 0)"'; }
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
sysctl -qw kernel.bpf_stats_enabled=1
for ((r = 1; r <= reps; r++)); do
  s0=$(snap); c0=$(busy); t0=$(date +%s%3N)
  timeout $((secs + 20)) ip netns exec $ns_b iperf3 -s -1 -B $ip_b -p $port >/dev/null 2>&1 & sp=$!
  sleep 0.3
  gb=$(timeout $((secs + 15)) ip netns exec $ns_a iperf3 -c $ip_b -p $port -t "$secs" -J | jq -r '.end.sum_received.bits_per_second / 1e9 | . * 100 | round / 100')
  wait $sp || true
  s1=$(snap); c1=$(busy); t1=$(date +%s%3N)
  busy_ms=$(( (c1 - c0) * 1000 / $(getconf CLK_TCK) ))
  echo "rep $r: $gb Gbit/s, busy CPU $busy_ms ms over $((t1 - t0)) ms wall"
  join <(echo "$s0" | sort) <(echo "$s1" | sort) | awk -v w=$((t1 - t0)) -v busy="$busy_ms" '
    { c = $6 - $3; n = $7 - $4; tot += n; printf "  %-22s calls %9d  %7.0f/s  %5.0f ns/call  %7.1f ms\n", $2, c, 1000 * c / w, c ? n / c : 0, n / 1e6 }
    END { printf "  BPF total %.1f ms = %.1f %% of busy CPU\n", tot / 1e6, busy ? 100 * tot / 1e6 / busy : 0 }'
done

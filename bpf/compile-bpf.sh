#!/usr/bin/env bash
# Compiles every *.bpf.c in SRC_DIR into a CO-RE object in OUT_DIR.
# Called by Maven (exec-maven-plugin) in each module that holds BPF programs.
# usage: compile-bpf.sh SRC_DIR OUT_DIR
set -euo pipefail
src=${1:?usage: compile-bpf.sh SRC_DIR OUT_DIR}
out=${2:?usage: compile-bpf.sh SRC_DIR OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v clang >/dev/null 2>&1; then
  echo "ERROR: clang not found: BPF programs cannot be compiled. Install it with: apt-get install -y clang llvm libbpf-dev" >&2
  exit 1
fi
if [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
  echo "ERROR: /usr/include/bpf/bpf_helpers.h not found. Install it with: apt-get install -y libbpf-dev" >&2
  exit 1
fi
strip=$(command -v llvm-strip || ls /usr/bin/llvm-strip-* 2>/dev/null | head -n1 || true)

mkdir -p "$out"
shopt -s nullglob
n=0
for f in "$src"/*.bpf.c; do
  name=$(basename "$f" .c)
  clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
    -I "$here/include" -I "$src" -I /usr/include/x86_64-linux-gnu \
    -c "$f" -o "$out/$name.o"
  # drop DWARF, keep .BTF/.BTF.ext (needed for CO-RE and for the layout tests)
  if [ -n "$strip" ]; then "$strip" -g "$out/$name.o"; fi
  n=$((n+1))
done
echo "compiled $n BPF object(s) from $src into $out"

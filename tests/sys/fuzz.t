#!/bin/bash
# tests/sys/fuzz.t: every libFuzzer harness (tests/fuzz/fuzz_*.c) built
# with `make fuzz-build` into $BUILD-fuzz, then run over its seeds in
# tests/fuzz/corpus/NAME and FUZZ_RUNS (default 10000) mutations: a crash,
# a leak, undefined behaviour, a failed check or a 20 s input is a failure
# (the input is shown in base64, to replay: build-fuzz/NAME FILE). New
# inputs go to a temporary directory; the seeds are never written. The
# harnesses carry their own sanitizers, so this runs in the plain pass of
# make check only; it skips when clang or its libFuzzer runtime is missing
# (make deps installs clang and libclang-rt-14-dev). Longer runs: make fuzz.
source "$(dirname "$0")/../lib/common.sh"
case $BUILD in
  *-san) echo "1..0 # SKIP the harnesses run once, in the plain pass"; exit 0 ;;
esac
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' > "$T/probe.c"
if ! command -v clang > /dev/null ||
   ! clang -fsanitize=fuzzer -o "$T/probe" "$T/probe.c" > /dev/null 2>&1; then
  echo "1..0 # SKIP clang with libFuzzer not installed (make deps)"; exit 0
fi
RUNS=${FUZZ_RUNS:-10000}
FB=$BUILD-fuzz

make -s -C "$SRCDIR" -j2 FUZZ_BUILD="$FB" fuzz-build > "$T/build.log" 2>&1
st=$?
ok $st "harnesses build into $FB"
if [ $st != 0 ]; then tail -30 "$T/build.log" | sed 's/^/# /'; done_testing; exit 1; fi

for src in "$SRCDIR"/tests/fuzz/fuzz_*.c; do
  n=$(basename "$src" .c)
  seeds=$SRCDIR/tests/fuzz/corpus/$n
  [ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ]
  ok $? "$n has seeds in tests/fuzz/corpus/$n"
  mkdir -p "$T/new-$n" "$T/art-$n"
  "$SRCDIR/$FB/$n" -runs="$RUNS" -timeout=20 -print_final_stats=1 \
    -artifact_prefix="$T/art-$n/" "$T/new-$n" "$seeds" > "$T/$n.log" 2>&1
  st=$?
  ok $st "$n: seeds and $RUNS runs, no crash, leak or failed check"
  if [ $st != 0 ]; then
    grep -v '^#[0-9]' "$T/$n.log" | tail -40 | sed 's/^/# /'
    for f in "$T/art-$n"/*; do [ -f "$f" ] && echo "# input $(basename "$f"): $(base64 -w0 < "$f")"; done
  else
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$T/$n.log" | tail -1)
    done=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$T/$n.log")
    echo "# $n: $done, $cov"
  fi
done
done_testing

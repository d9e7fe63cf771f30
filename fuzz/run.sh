#!/usr/bin/env bash
# Runs one fuzz target (docs/fuzzing.md): ./fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]
# New inputs go to fuzz/corpus/TARGET (ignored by git); the committed seeds in fuzz/seeds/TARGET are read too.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${1:?usage: fuzz/run.sh TARGET [SECONDS] [libFuzzer flags...]}"
seconds="${2:-600}"
shift $(( $# >= 2 ? 2 : 1 ))
mkdir -p "$root/fuzz/corpus/$target"
cd "$root"
RUSTC_BOOTSTRAP=1 exec cargo fuzz run "$target" "$root/fuzz/corpus/$target" "$root/fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 -timeout=10 \
    -dict="$root/fuzz/dict/arstress.dict" -print_final_stats=1 "$@"

#!/usr/bin/env bash
# End-to-end timing of `arstress run` on generated studies, with the floor measured in the same run.
#
# Builds the release binary and `examples/floor`, generates target/bench/study-10k (seed 1), times
# 100,000 trials of the credit-only model (no cash side, no late payment), then the full model
# (late payment and the cash path, 12 months, 2 policies) for the baseline and the severe
# recession; then the scaling rows: the full baseline at 1,000 / 10,000 / 100,000 buyers x 10,000
# trials (SCALE_TRIALS), with the linearity ratio time(100k) / (10 x time(10k)); then generates
# 1,000,000 buyers and times 10,000 trials of the full baseline (BIG_BUYERS=0 skips it). Before
# each shape it measures the **floor**: the wall time to draw one 32-bit Philox word per buyer per
# trial, addressed as the kernel's lateness draw, on all cores (`examples/floor.rs`), and reports
# each case's wall time as a ratio to it. Writes bench/results.csv:
#
#   case,buyers,trials,months,scenarios,policies,wall_seconds,trials_per_second,buyer_trials_per_second,peak_rss_mib,ratio_to_floor
#
# trials_per_second counts scenario-trials (trials x scenarios) per wall second;
# buyer_trials_per_second multiplies that by the number of buyers. Wall time covers the whole
# process (loading, compiling, simulating, statistics and writing reports). Peak RSS comes from
# GNU time (`/usr/bin/time -v`, package `time`); without it the column is left empty.
#
# Environment: BUYERS (default 10000), TRIALS (default 100000), SCALE_TRIALS (default 10000; 0
# skips the scaling rows), BIG_BUYERS (default 1000000), BIG_TRIALS (default 10000), THREADS
# (optional, passed as --threads and to the floor), RECESSION (default 1; 0 skips the severe
# recession, whose shortfall attribution replays almost every trial).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUYERS="${BUYERS:-10000}"
TRIALS="${TRIALS:-100000}"
BIG_BUYERS="${BIG_BUYERS:-1000000}"
BIG_TRIALS="${BIG_TRIALS:-10000}"
SCALE_TRIALS="${SCALE_TRIALS:-10000}"
RECESSION="${RECESSION:-1}"
THREADS="${THREADS:-}"
POLICIES=2 # generated studies are trimmed to two policies below
MONTHS=12
BIN=target/release/arstress
FLOOR_BIN=target/release/examples/floor
WORK=target/bench
RESULTS=bench/results.csv
FLOOR=""

echo "==> cargo build --release" >&2
cargo build --release --quiet
cargo build --release --quiet --example floor
mkdir -p "$WORK" bench

if [[ -x /usr/bin/time ]] && /usr/bin/time -v true >/dev/null 2>&1; then
    HAVE_GNU_TIME=1
else
    HAVE_GNU_TIME=0
    echo "note: /usr/bin/time (GNU) not found: peak_rss_mib left empty (apt-get install time)" >&2
fi

now() { date +%s.%N; }

# generate N DIR: a study of N buyers (seed 1) with its first two policies.
generate() {
    rm -rf "$2"
    echo "==> generating $1 buyers into $2" >&2
    "$BIN" generate "$1" --seed 1 --out "$2" >/dev/null
    # Generated studies have three policies; the benchmark cases use two (whole turnover 90% and
    # excess of loss): keep the first two [[policy]] tables.
    awk '/^\[\[policy\]\]/ { n++ } n < 3' "$2/policies.toml" >"$2/policies.tmp"
    mv "$2/policies.tmp" "$2/policies.toml"
}

echo "case,buyers,trials,months,scenarios,policies,wall_seconds,trials_per_second,buyer_trials_per_second,peak_rss_mib,ratio_to_floor" >"$RESULTS"

# floor_case BUYERS TRIALS: sets FLOOR to the floor's wall seconds and records it.
floor_case() {
    echo "==> floor: $1 buyers x $2 trials" >&2
    FLOOR=$(RAYON_NUM_THREADS="${THREADS:-0}" "$FLOOR_BIN" "$1" "$2" 2>/dev/null)
    awk -v b="$1" -v t="$2" -v w="$FLOOR" 'BEGIN {
        printf "floor,%d,%d,,,,%.3f,%.0f,%.4g,,1.00\n", b, t, w, t / w, t * b / w
    }' >>"$RESULTS"
}

# time_case NAME STUDY BUYERS TRIALS [--scenario S ...]: one scenario of STUDY, ratio to $FLOOR.
time_case() {
    local name="$1" study="$2" buyers="$3" trials="$4"
    shift 4
    local out="$WORK/out-$name"
    local tlog="$WORK/time-$name.txt"
    local -a cmd=("$BIN" run "$study" --trials "$trials" --quiet --out "$out" "$@")
    [[ -n "$THREADS" ]] && cmd+=(--threads "$THREADS")
    rm -rf "$out"
    echo "==> $name: ${cmd[*]}" >&2
    local start end rss=""
    start=$(now)
    if ((HAVE_GNU_TIME)); then
        /usr/bin/time -v -o "$tlog" "${cmd[@]}"
    else
        "${cmd[@]}"
    fi
    end=$(now)
    if ((HAVE_GNU_TIME)); then
        local kib
        kib=$(awk -F': *' '/Maximum resident set size/ {print $2}' "$tlog")
        [[ -n "$kib" ]] && rss=$(awk -v k="$kib" 'BEGIN {printf "%.1f", k / 1024}')
    fi
    awk -v c="$name" -v b="$buyers" -v t="$trials" -v m="$MONTHS" -v p="$POLICIES" \
        -v st="$start" -v en="$end" -v rss="$rss" -v fl="$FLOOR" 'BEGIN {
            w = en - st
            tps = t / w
            printf "%s,%d,%d,%s,1,%d,%.3f,%.0f,%.4g,%s,%.2f\n", c, b, t, m, p, w, tps, tps * b, rss, w / fl
        }' >>"$RESULTS"
}

STUDY="$WORK/study-$((BUYERS / 1000))k"
generate "$BUYERS" "$STUDY"
# Credit only: the same portfolio without the cash side and without late payment.
CREDIT="$STUDY-credit"
rm -rf "$CREDIT"
cp -r "$STUDY" "$CREDIT"
sed -i '/^\[company\]/,$d' "$CREDIT/study.toml"
printf 'name = "credit-only"\n[payment]\nlate_share = 0\n' >"$CREDIT/scenarios/credit-only.toml"

floor_case "$BUYERS" "$TRIALS"
time_case credit-only "$CREDIT" "$BUYERS" "$TRIALS" --scenario credit-only
# Full model: credit defaults, late payment (45% of buyers), cash path, 12 months, 2 policies.
time_case full-baseline "$STUDY" "$BUYERS" "$TRIALS" --scenario baseline
# The severe recession runs short of cash in almost every trial, so the shortfall attribution
# replays nearly all of them: minutes, not seconds (RECESSION=0 skips it).
if ((RECESSION > 0)); then
    time_case full-recession "$STUDY" "$BUYERS" "$TRIALS" --scenario severe-recession
fi

# Scaling in buyers: the full baseline at 1k / 10k / 100k buyers, the same trials.
if ((SCALE_TRIALS > 0)); then
    for n in 1000 10000 100000; do
        scale="$WORK/study-scale-$((n / 1000))k"
        if ((n == BUYERS)); then scale="$STUDY"; else generate "$n" "$scale"; fi
        floor_case "$n" "$SCALE_TRIALS"
        time_case "full-scale-$((n / 1000))k" "$scale" "$n" "$SCALE_TRIALS" --scenario baseline
    done
fi

if ((BIG_BUYERS > 0)); then
    BIG="$WORK/study-big"
    generate "$BIG_BUYERS" "$BIG"
    floor_case "$BIG_BUYERS" "$BIG_TRIALS"
    time_case full-baseline-big "$BIG" "$BIG_BUYERS" "$BIG_TRIALS" --scenario baseline
fi

echo
column -s, -t "$RESULTS" 2>/dev/null || cat "$RESULTS"
echo
# Linearity in buyers: 100k buyers against ten times 10k (1.0 = linear).
awk -F, '$1 == "full-scale-10k" { t10 = $7 } $1 == "full-scale-100k" { t100 = $7 }
    END { if (t10 > 0 && t100 > 0) printf "linearity: time(100k) / (10 x time(10k)) = %.2f\n", t100 / (10 * t10) }' "$RESULTS"
echo
echo "Results in $RESULTS."
echo "Kernel per trial (criterion): cargo bench --bench kernel -- kernel"

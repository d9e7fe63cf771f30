#!/usr/bin/env bash
# End-to-end timing of `arstress run` on a generated 10,000-buyer study.
#
# Builds the release binary, generates target/bench/study-10k (seed 1), times 100,000 trials of
# the credit-only model (no cash side, no late payment), then the full model (late payment and the
# cash path) for the baseline and the recession scenario, and writes bench/results.csv:
#
#   case,buyers,trials,scenarios,policies,wall_seconds,trials_per_second,buyer_trials_per_second,peak_rss_mib
#
# trials_per_second counts scenario-trials (trials x scenarios) per wall second;
# buyer_trials_per_second multiplies that by the number of buyers. Wall time covers the whole
# process (loading, compiling, simulating, statistics and writing reports). Peak RSS comes from
# GNU time (`/usr/bin/time -v`, package `time`); without it the column is left empty.
#
# Environment: BUYERS (default 10000), TRIALS (default 100000), THREADS (optional, passed as --threads).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUYERS="${BUYERS:-10000}"
TRIALS="${TRIALS:-100000}"
THREADS="${THREADS:-}"
POLICIES=2 # the generated study is trimmed to two policies below
BIN=target/release/arstress
WORK=target/bench
STUDY="$WORK/study-$((BUYERS / 1000))k"
RESULTS=bench/results.csv

echo "==> cargo build --release" >&2
cargo build --release --quiet

mkdir -p "$WORK" bench
rm -rf "$STUDY"
echo "==> generating $BUYERS buyers into $STUDY" >&2
"$BIN" generate "$BUYERS" --seed 1 --out "$STUDY" >/dev/null
# Generated studies have three policies; the benchmark cases are defined with two (whole turnover
# 90% and excess of loss): keep the first two [[policy]] tables.
awk '/^\[\[policy\]\]/ { n++ } n < 3' "$STUDY/policies.toml" >"$STUDY/policies.tmp"
mv "$STUDY/policies.tmp" "$STUDY/policies.toml"

if [[ -x /usr/bin/time ]] && /usr/bin/time -v true >/dev/null 2>&1; then
    HAVE_GNU_TIME=1
else
    HAVE_GNU_TIME=0
    echo "note: /usr/bin/time (GNU) not found: peak_rss_mib left empty (apt-get install time)" >&2
fi

now() { date +%s.%N; }

echo "case,buyers,trials,scenarios,policies,wall_seconds,trials_per_second,buyer_trials_per_second,peak_rss_mib" >"$RESULTS"

# time_case NAME N_SCENARIOS [--scenario S ...]
time_case() {
    local name="$1" n_scen="$2"
    shift 2
    local out="$WORK/out-$((BUYERS / 1000))k-$name"
    local tlog="$WORK/time-$name.txt"
    local -a cmd=("$BIN" run "$STUDY" --trials "$TRIALS" --quiet --out "$out" "$@")
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
    awk -v c="$name" -v b="$BUYERS" -v t="$TRIALS" -v s="$n_scen" -v p="$POLICIES" \
        -v st="$start" -v en="$end" -v rss="$rss" 'BEGIN {
            w = en - st
            tps = t * s / w
            printf "%s,%d,%d,%d,%d,%.3f,%.0f,%.4g,%s\n", c, b, t, s, p, w, tps, tps * b, rss
        }' >>"$RESULTS"
}

# Credit only: the same portfolio without the cash side and without late payment.
CREDIT="$WORK/study-$((BUYERS / 1000))k-credit"
rm -rf "$CREDIT"
cp -r "$STUDY" "$CREDIT"
sed -i '/^\[company\]/,$d' "$CREDIT/study.toml"
printf 'name = "credit-only"\n[payment]\nlate_share = 0\n' >"$CREDIT/scenarios/credit-only.toml"

FULL_STUDY="$STUDY"
STUDY="$CREDIT" time_case credit-only 1 --scenario credit-only
STUDY="$FULL_STUDY"
# Full model: credit defaults, late payment (45% of buyers), cash path, 12 months, 2 policies.
time_case full-baseline 1 --scenario baseline
time_case full-recession 1 --scenario severe-recession

echo
column -s, -t "$RESULTS" 2>/dev/null || cat "$RESULTS"
echo
echo "Results in $RESULTS."
echo "Floor (one uniform draw per buyer per trial, same generator): cargo bench --bench kernel -- floor"
echo "Kernel per trial:                                             cargo bench --bench kernel -- kernel"

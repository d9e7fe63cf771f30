#!/usr/bin/env bash
# Measures the Monte Carlo error of VaR/ES 99.5 with and without --tail-sampling at equal trials:
# R replications (seeds 1..R) of one scenario, the spread of the estimates across them against the
# mean reported standard error. Usage: scripts/tail_accuracy.sh [STUDY] [SCENARIO] [TRIALS] [R]
set -euo pipefail
study=${1:-scenarios/example}
scenario=${2:-baseline}
trials=${3:-20000}
reps=${4:-20}
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for seed in $(seq 1 "$reps"); do
  ./target/release/arstress run "$study" --scenario "$scenario" --trials "$trials" --seed "$seed" --quiet --out "$tmp/plain-$seed"
  ./target/release/arstress run "$study" --scenario "$scenario" --trials "$trials" --seed "$seed" --quiet --tail-sampling --out "$tmp/tail-$seed"
done
python3 - "$tmp" "$reps" <<'PY'
import csv, statistics, sys
tmp, reps = sys.argv[1], int(sys.argv[2])
def rows(mode, seed):
    return {(r["policy"], r["measure"]): r for r in csv.DictReader(open(f"{tmp}/{mode}-{seed}/summary.csv"))}
print("| alternative | figure | plain: spread | plain: reported SE | tail sampling: spread | tail sampling: reported SE | spread ratio |")
print("|---|---|---|---|---|---|---|")
for key in [("none", "gross_loss"), ("whole-turnover-90", "net_loss"), ("none", "total_cost")][:2]:
    for fig in ["var_99_5", "es_99_5", "mean"]:
        out = []
        for mode in ["plain", "tail"]:
            vals = [float(rows(mode, s)[key][fig]) for s in range(1, reps + 1)]
            ses = [float(rows(mode, s)[key][fig + "_std_error"]) for s in range(1, reps + 1)]
            out.append((statistics.stdev(vals), statistics.mean(ses)))
        print(f"| {key[0]} {key[1]} | {fig} | {out[0][0]:,.0f} | {out[0][1]:,.0f} | {out[1][0]:,.0f} | {out[1][1]:,.0f} | {out[1][0]/out[0][0]:.2f} |")
PY

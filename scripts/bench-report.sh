#!/usr/bin/env bash
# `mmerr report` throughput on a large error log, against the same summary written plainly in
# Python (scripts/report_reference.py) and with jq, measured in one run by hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-1024}
for tool in hyperfine jq; do
  command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool"; }
done
cargo build --release -q -p mmerr --example make_error_log
cargo build --release -q
log=$(mktemp --suffix .jsonl)
trap 'rm -f "$log"' EXIT
target/release/examples/make_error_log "$log" "$size_mb"
bytes=$(stat -c %s "$log")
hyperfine --warmup 1 --runs 3 --export-json /tmp/bench-report.json \
  "target/release/mmerr report $log --json" \
  "python3 scripts/report_reference.py $log" \
  "jq -c '[.code, .endpoint]' $log | sort | uniq -c"
python3 - "$bytes" <<'PY'
import json, sys
size = int(sys.argv[1])
for r in json.load(open("/tmp/bench-report.json"))["results"]:
    print(f'{size / r["mean"] / 1e6:8.0f} MB/s  {r["mean"]:7.2f} s  {r["command"].split()[0]}')
PY
# Memory: the peak resident size stays flat whatever the file size.
/usr/bin/time -f "mmerr report peak memory: %M KiB" target/release/mmerr report "$log" --json > /dev/null

#!/usr/bin/env bash
# Goodput for other languages: 4 processes x 16 threads of the unmodified openai Python SDK
# (defaults: 2 retries), 2,000 chat completions against an account allowing 30 requests a
# second (a bucket of 10) that they are not told, straight to `mmerr mock` and through
# `mmerr proxy`. Prints ok, failed, the calls the account received, wasted share and time
# against the ideal ((2,000 - 10) / 30 s).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p mmerr
venv=target/tmp/sdk-venv
if ! "$venv/bin/python" -c 'import openai' 2>/dev/null; then
  mkdir -p target/tmp && python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check openai==3.57.0 anthropic==2.14.0
fi
config=$(mktemp --suffix .toml)
cat > "$config" <<'TOML'
[[keys]]
key = "goodput-key"
name = "goodput"
rpm = 1800
burst = 10
TOML
run() {  # $1: label, $2: base URL, $3: mock port
  local started ended calls pids=()
  curl -s -X POST "http://127.0.0.1:$3/__mock/reset" >/dev/null
  started=$(date +%s.%N)
  for i in 1 2 3 4; do
    "$venv/bin/python" scripts/sdk_goodput.py "$2" goodput-key 500 16 > "$tmp/$1.$i.json" &
    pids+=($!)
  done
  wait "${pids[@]}"
  ended=$(date +%s.%N)
  calls=$(curl -s "http://127.0.0.1:$3/__mock/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
  python3 - "$1" "$calls" "$started" "$ended" "$tmp"/"$1".*.json <<'PY'
import json, sys
label, calls, started, ended, files = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5:]
runs = [json.load(open(f)) for f in files]
ok, failed = sum(r["ok"] for r in runs), sum(r["failed"] for r in runs)
seconds = ended - started
ideal = (2000 - 10) / 30
print(f"  {label:<8} ok {ok}  failed {failed}  calls {calls}  wasted {100 * (calls - ok) / calls:.1f} %  time {seconds:.1f} s = {seconds / ideal:.2f} x ideal")
PY
}
tmp=$(mktemp -d)
mock_port=18495
proxy_port=18496
target/release/mmerr mock --addr "127.0.0.1:$mock_port" --config "$config" >/dev/null 2>&1 &
mock=$!
target/release/mmerr proxy --addr "127.0.0.1:$proxy_port" --upstream "http://127.0.0.1:$mock_port" >/dev/null 2>&1 &
proxy=$!
trap 'kill -TERM $proxy $mock 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp" "$config"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$proxy_port/healthz" && break; sleep 0.1; done
echo "4 processes x 16 threads of the openai SDK, 2,000 requests, 30 requests/s unknown to them:"
run direct "http://127.0.0.1:$mock_port/v1" "$mock_port"
run proxied "http://127.0.0.1:$proxy_port/v1" "$mock_port"

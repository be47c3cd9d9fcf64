#!/usr/bin/env bash
# How many simple requests per second the mock serves on loopback: wrk (from Debian) posts a
# small chat request for 10 s over 64 connections to `mmerr mock` with an unlimited key.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release -q
port=18480
target/release/mmerr mock --addr "127.0.0.1:$port" --config examples/load-config.toml >/dev/null 2>&1 &
mock=$!
trap 'kill -INT $mock 2>/dev/null; wait $mock 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/__mock/stats" && break; sleep 0.1; done
lua=$(mktemp --suffix .lua)
cat > "$lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer load-test-key"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"MiniMax-M2","messages":[{"role":"user","content":"hello"}]}'
LUA
wrk -t2 -c64 -d10s -s "$lua" "http://127.0.0.1:$port/v1/text/chatcompletion_v2"
# Every answer must be a success: count the outcomes the mock recorded.
curl -s "http://127.0.0.1:$port/__mock/stats"; echo

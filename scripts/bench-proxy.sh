#!/usr/bin/env bash
# What the proxy adds: the same small chat request straight to `mmerr mock` and through
# `mmerr proxy` (defaults: checks on, pacing on), at 1,000 requests a second (open loop) and as
# fast as 64 callers can (closed loop), then the proxy's peak resident memory. Everything runs
# on this machine's 2 cores: mock, proxy and load generator compete for them.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p mmerr -p minimax-proxy --examples --bins
load=target/release/examples/load
mock_port=18490
proxy_port=18491
target/release/mmerr mock --addr "127.0.0.1:$mock_port" --config examples/load-config.toml >/dev/null 2>&1 &
mock=$!
target/release/mmerr proxy --addr "127.0.0.1:$proxy_port" --upstream "http://127.0.0.1:$mock_port" >/dev/null 2>&1 &
proxy=$!
trap 'kill -TERM $proxy $mock 2>/dev/null; wait 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$proxy_port/healthz" && break; sleep 0.1; done
direct="http://127.0.0.1:$mock_port/v1/text/chatcompletion_v2"
through="http://127.0.0.1:$proxy_port/v1/text/chatcompletion_v2"
key=load-test-key
# The proxy does not know the account's limit: it starts at MiniMax's documented 500 requests
# a minute and doubles each second while callers wait. Warm it up first.
"$load" "$through" "$key" 0 64 12 >/dev/null
echo "open loop, 1,000 requests/s for 10 s:"
echo "  direct   $("$load" "$direct" "$key" 1000 256 10)"
echo "  proxied  $("$load" "$through" "$key" 1000 256 10)"
echo "closed loop, 64 callers for 10 s:"
echo "  direct   $("$load" "$direct" "$key" 0 64 10)"
echo "  proxied  $("$load" "$through" "$key" 0 64 10)"
echo "proxy peak resident memory: $(awk '/VmHWM/ {print $2, $3}' "/proc/$proxy/status")"

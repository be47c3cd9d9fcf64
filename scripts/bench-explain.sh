#!/usr/bin/env bash
# Wall time of `mmerr explain 1002` from start to exit, against the seed's Python CLI doing the
# same lookup, measured in one run by hyperfine (installed from Debian if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
cargo build --release -q
hyperfine --warmup 20 --runs 300 -N \
  'target/release/mmerr explain 1002' \
  'python3 scripts/seed_error_cli.py 1002'

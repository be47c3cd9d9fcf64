#!/usr/bin/env bash
# Regenerates the small audio samples the tests and benchmarks read
# (crates/minimax-errors/tests/data), with Debian's ffmpeg. They are committed so that the tests
# need nothing but Rust; run this only to change them.
set -euo pipefail
cd "$(dirname "$0")/../crates/minimax-errors/tests/data"
command -v ffmpeg >/dev/null || { apt-get update -qq && apt-get install -y -qq ffmpeg; }
tone() { ffmpeg -v error -y -f lavfi -i "sine=frequency=440:sample_rate=$1:duration=$2" -ac 1 "${@:3}"; }
tone 16000 3 -c:a libmp3lame -b:a 16k -id3v2_version 0 tone-3s-xing.mp3                  # LAME Info header
tone 16000 3 -c:a libmp3lame -b:a 16k -id3v2_version 0 -write_xing 0 tone-3s-cbr.mp3     # no length header
tone 16000 3 -c:a libmp3lame -b:a 16k -id3v2_version 3 -metadata title="mmerr sample" tone-3s-id3.mp3
tone 44100 1 -c:a libmp3lame -b:a 128k -id3v2_version 0 -write_xing 0 tone-1s-44k-128k.mp3
tone 16000 3 -c:a aac -b:a 16k tone-3s.m4a
ffmpeg -v error -y -f lavfi -i "anullsrc=r=16000:cl=mono" -t 301 -c:a aac -b:a 8k silence-301s.m4a
ls -l

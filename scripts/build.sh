#!/usr/bin/env bash
# Installs what is missing (scripts/setup.sh), then configures and builds lara in build/: the
# targets given (e.g. `lara`), or everything (the tests and the micro-benchmark too).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" ${1:+--target "$@"}

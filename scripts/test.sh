#!/usr/bin/env bash
# The second command of the README (and what CI runs): build if needed, then every test.
# Tests that need the benchmark data read ../shared/data (or $LARA_DATA_DIR) and skip without it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"

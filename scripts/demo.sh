#!/usr/bin/env bash
# The first command of the README: install, build, and run `lara demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
./build/lara demo

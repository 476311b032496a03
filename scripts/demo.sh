#!/usr/bin/env bash
# The first command of the README: install, build, and run `lara demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh lara  # the program only: the tests build with scripts/test.sh
./build/lara demo

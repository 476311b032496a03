#!/usr/bin/env bash
# The library as another project uses it: `cmake --install` into a temporary prefix, then
# examples/embed configured with find_package(lara), built, and run on a small generated series.
# Usage: embed_test.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build="$1" source="$2"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$dir/prefix" >"$dir/install.log" 2>&1 || fail "install: $(tail -5 "$dir/install.log")"
[ -f "$dir/prefix/include/lara/lara.h" ] || fail "include/lara was not installed"
[ ! -e "$dir/prefix/include/retrain" ] || fail "internal headers were installed"
cmake -S "$source/examples/embed" -B "$dir/embed" -DCMAKE_PREFIX_PATH="$dir/prefix" -DCMAKE_BUILD_TYPE=Release \
    >"$dir/configure.log" 2>&1 || fail "configure: $(tail -5 "$dir/configure.log")"
cmake --build "$dir/embed" >"$dir/build.log" 2>&1 || fail "build: $(tail -20 "$dir/build.log")"

# The public headers need no LibTorch: it must come as a link dependency only, not as includes.
flags="$dir/embed/CMakeFiles/embed_example.dir/flags.make"
[ -f "$flags" ] || fail "no $flags"
! grep -q "torch" "$flags" || fail "LibTorch's headers reach the embedding program: $(grep INCLUDES "$flags")"

# Four metrics, a sine whose level steps up at row 300.
awk 'BEGIN { srand(5); for (t = 0; t < 420; t++) { s = sin(t / 10) + (t >= 300 ? 3 : 0);
  printf "%.4f,%.4f,%.4f,%.4f\n", s + rand()*0.1, 2*s + rand()*0.1, 5 + rand()*0.1, -s + rand()*0.1 } }' >"$dir/data.csv"
out=$("$dir/embed/embed_example" "$dir/data.csv" 300 2 2>&1) || fail "run: $out"
echo "$out"
echo "$out" | grep -q "retrained in" || fail "unexpected output: $out"
[ -f "$dir/data.csv.lara" ] || fail "the adapted model was not saved"
"$dir/embed/embed_example" "$dir/missing.csv" 300 >/dev/null 2>&1
[ $? -eq 2 ] || fail "a missing file should exit 2 (a data error)"
echo "ok"

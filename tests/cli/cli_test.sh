#!/usr/bin/env bash
# The command line end to end: train, score, info, retrain on a small generated file, and the
# exit codes and messages of bad input. Usage: cli_test.sh path/to/lara
set -u
lara="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect_code() {  # expected-code description command...
    local want="$1" what="$2"; shift 2
    "$@" >"$dir/out" 2>"$dir/err"; local got=$?
    [ "$got" -eq "$want" ] || fail "$what: exit $got, expected $want ($(head -c 300 "$dir/err"))"
}

# A small series: 4 metrics with a daily-like sine, one header line.
awk 'BEGIN { print "cpu,mem,net,disk"; srand(3);
  for (t = 0; t < 400; t++) { s = sin(t / 10); printf "%.4f,%.4f,%.4f,%.4f\n", s + rand()*0.1, 2*s + rand()*0.1, 5 + rand()*0.1, -s + rand()*0.1 } }' >"$dir/data.csv"

expect_code 0 "train" "$lara" train --data "$dir/data.csv" --to 300 --out "$dir/m.lara" --window 10 --epochs 3 --quiet
expect_code 0 "score" "$lara" score --model "$dir/m.lara" --data "$dir/data.csv" --from 300 --out "$dir/scores.csv"
[ "$(head -1 "$dir/scores.csv")" = "index,score,threshold,anomaly,top_metrics" ] || fail "score header: $(head -1 "$dir/scores.csv")"
[ "$(wc -l <"$dir/scores.csv")" -eq 101 ] || fail "score rows: $(wc -l <"$dir/scores.csv") lines, expected 101"
# The rows before --from give its first windows their past: the range scores as inside the whole file.
expect_code 0 "score the whole file" "$lara" score --model "$dir/m.lara" --data "$dir/data.csv" --out "$dir/whole.csv"
paste -d, "$dir/scores.csv" <(sed -n '1p;302,$p' "$dir/whole.csv") |
    awk -F, 'NR > 1 { d = $2 - $7; if (d < 0) d = -d; s = ($7 < 0 ? -$7 : $7); if ($1 != $6 || d > 1e-5 * (s > 1 ? s : 1)) bad++ } END { exit bad > 0 }' ||
    fail "--from 300 scores differ from the whole file's"
for source in file stream; do  # an empty range is the input's problem, from a file or a stream alike
    if [ $source = file ]; then "$lara" score --model "$dir/m.lara" --data "$dir/data.csv" --from 400 >"$dir/out" 2>"$dir/err"
    else "$lara" score --model "$dir/m.lara" --data - --from 200 --to 200 <"$dir/data.csv" >"$dir/out" 2>"$dir/err"; fi
    [ $? -eq 2 ] && grep -q 'holds no rows to score' "$dir/err" || fail "an empty range from a $source: $(cat "$dir/err")"
done
[ "$(sed -n 2p "$dir/scores.csv" | cut -d, -f1)" = "300" ] || fail "first index is not the file row 300"
sed -n 2p "$dir/scores.csv" | grep -Eq '^300,[-0-9.e+]+,[-0-9.e+]+,[01],[0-3];[0-3];[0-3]$' || fail "score row format: $(sed -n 2p "$dir/scores.csv")"
expect_code 0 "score with metric names" "$lara" score --model "$dir/m.lara" --data "$dir/data.csv" --from 300 --top-names
sed -n 2p "$dir/out" | grep -Eq '^300,[-0-9.e+]+,[-0-9.e+]+,[01],(cpu|mem|net|disk);(cpu|mem|net|disk);(cpu|mem|net|disk)$' ||
    fail "names in top_metrics: $(sed -n 2p "$dir/out")"
tail -n +2 "$dir/data.csv" >"$dir/unnamed.csv"
expect_code 0 "train without a header" "$lara" train --data "$dir/unnamed.csv" --to 300 --out "$dir/unnamed.lara" --window 10 --epochs 1 --quiet
expect_code 1 "names of a model without them" "$lara" score --model "$dir/unnamed.lara" --data "$dir/unnamed.csv" --top-names
grep -q 'without a header' "$dir/err" || fail "names without a header: $(cat "$dir/err")"
# --data - reads standard input and scores each row once its window is complete: the batch's rows,
# flags and top metrics, and its scores to float rounding (a window decoded alone, not in a batch).
"$lara" score --model "$dir/m.lara" --data - --from 300 <"$dir/data.csv" >"$dir/streamed.csv" 2>"$dir/err" ||
    fail "score --data -: $(cat "$dir/err")"
[ "$(cut -d, -f1,4,5 "$dir/streamed.csv")" = "$(cut -d, -f1,4,5 "$dir/scores.csv")" ] || fail "streamed rows differ from the batch's"
paste -d, "$dir/streamed.csv" "$dir/scores.csv" |
    awk -F, 'NR > 1 { d = $2 - $7; if (d < 0) d = -d; s = ($7 < 0 ? -$7 : $7); if (d > 1e-5 * (s > 1 ? s : 1)) bad++ } END { exit bad > 0 }' ||
    fail "streamed scores differ from the batch's"
expect_code 1 "--out with --data -" "$lara" score --model "$dir/m.lara" --data - --out "$dir/x.csv" <"$dir/data.csv"
cut -d, -f1-3 "$dir/data.csv" | "$lara" score --model "$dir/m.lara" --data - --from 100 >"$dir/out" 2>"$dir/err"
[ $? -eq 2 ] && [ ! -s "$dir/out" ] && grep -q 'stdin: has 3 metrics but the model was trained on 4' "$dir/err" ||
    fail "a stream of the wrong width: $(cat "$dir/out" "$dir/err")"
# A reader that goes away with SIGPIPE ignored (as under systemd): the stream stops with exit 5
# instead of scoring an endless input.
(trap '' PIPE; awk 'BEGIN { print "cpu,mem,net,disk"; while (1) print "1,2,3,4" }' 2>/dev/null |
    timeout 60 "$lara" score --model "$dir/m.lara" --data - 2>"$dir/err" | head -2 >/dev/null; exit "${PIPESTATUS[1]}")
[ $? -eq 5 ] || fail "a stream whose reader went away: $(cat "$dir/err")"
head -5 "$dir/data.csv" | "$lara" score --model "$dir/m.lara" --data - >"$dir/out" 2>"$dir/err"
[ $? -eq 2 ] && [ ! -s "$dir/out" ] && grep -q 'stdin: the stream ended after 4 rows, fewer than one window' "$dir/err" ||
    fail "a stream shorter than a window: $(cat "$dir/out" "$dir/err")"
expect_code 0 "score to stdout" "$lara" score --model "$dir/m.lara" --data "$dir/data.csv"
[ "$(wc -l <"$dir/out")" -eq 401 ] || fail "stdout scores: $(wc -l <"$dir/out") lines"
# /dev/stdout, a link to the process's own descriptor, into a pipe.
lines=$("$lara" score --model "$dir/m.lara" --data "$dir/data.csv" --out /dev/stdout | wc -l)
[ "$lines" -eq 401 ] || fail "--out /dev/stdout into a pipe: $lines lines"
expect_code 0 "info" "$lara" info --model "$dir/m.lara"
grep -q '"arch": "mlp"' "$dir/out" || fail "info lacks the architecture"
grep -q '"written_by": "lara [0-9.]* (git ' "$dir/out" || fail "info lacks the writer: $(grep written_by "$dir/out")"
expect_code 0 "version" "$lara" --version
grep -q '^lara [0-9]*\.[0-9]*\.[0-9]* (git ' "$dir/out" || fail "version: $(cat "$dir/out")"
if [ -w /dev/full ]; then  # a full disk: the scores are lost, so the exit code must say so
    "$lara" score --model "$dir/m.lara" --data "$dir/data.csv" >/dev/full 2>"$dir/err"
    [ $? -eq 5 ] || fail "score to a full disk did not exit 5: $(cat "$dir/err")"
    # A retraining whose report is lost writes no model: a retry must not adapt it twice.
    "$lara" retrain --model "$dir/m.lara" --data "$dir/data.csv" --from 300 --to 343 --out "$dir/lost.lara" >/dev/full 2>"$dir/err"
    [ $? -eq 5 ] || fail "retrain to a full disk did not exit 5: $(cat "$dir/err")"
    [ ! -e "$dir/lost.lara" ] || fail "a retrain whose report was lost wrote its model"
fi
expect_code 0 "retrain" "$lara" retrain --model "$dir/m.lara" --data "$dir/data.csv" --from 300 --to 343 --out "$dir/r.lara"
grep -q '"method":"lara"' "$dir/out" || fail "retrain report: $(cat "$dir/out")"
grep -q '"n_windows":34' "$dir/out" || fail "retrain windows: $(cat "$dir/out")"
expect_code 0 "retrain, iterative solver" "$lara" retrain --model "$dir/m.lara" --data "$dir/data.csv" --from 300 --to 343 \
    --out "$dir/r2.lara" --solver iterative --loss-curve "$dir/curve.csv"
[ "$(head -1 "$dir/curve.csv")" = "stage,iteration,objective" ] || fail "loss curve header: $(head -1 "$dir/curve.csv")"
grep -q '^z,1,' "$dir/curve.csv" && grep -q '^x,1,' "$dir/curve.csv" || fail "loss curve lacks a stage"
expect_code 0 "score retrained" "$lara" score --model "$dir/r.lara" --data "$dir/data.csv" --out "$dir/scores2.csv"
expect_code 0 "retrain, posterior proposal, scale threshold" "$lara" retrain --model "$dir/m.lara" --data "$dir/data.csv" \
    --from 300 --to 343 --out "$dir/r3.lara" --proposal posterior --recalibrate scale
grep -q '"ess"' "$dir/out" || fail "retrain report lacks the ESS: $(cat "$dir/out")"
expect_code 0 "info retrained" "$lara" info --model "$dir/r3.lara"
grep -q '"score_mad"' "$dir/out" || fail "info lacks the score spread"
# One wild value (1e30, a sentinel or unit error) would hide a metric's changes: training says so.
awk -F, 'NR == 51 { $3 = "1e30" } 1' OFS=, "$dir/data.csv" >"$dir/wild.csv"
expect_code 0 "train with a wild value" "$lara" train --data "$dir/wild.csv" --to 300 --out "$dir/wild.lara" --window 10 --epochs 1 --quiet
grep -q '^warning: metric 2 (net), 0-based as in top_metrics: data row 49 (0-based, as --from), 1e+30, holds nearly all of its spread' "$dir/err" ||
    fail "wild value warning: $(cat "$dir/err")"
expect_code 0 "train without it" "$lara" train --data "$dir/data.csv" --to 300 --out "$dir/wild.lara" --window 10 --epochs 1 --quiet
[ ! -s "$dir/err" ] || fail "a warning without a wild value: $(cat "$dir/err")"
# retrain --from reads the rows before it as the new rows' past for recalibration. With infinite
# ridges the model is the old one, so shift's threshold is the median of `score --from 300 --to 343`
# (which reads the same past) plus the old threshold's distance from the old median.
expect_code 0 "retrain with past rows" "$lara" retrain --model "$dir/m.lara" --data "$dir/data.csv" --from 300 --to 343 \
    --out "$dir/p.lara" --ridge-z inf --ridge-x inf
after=$(sed -n 's/.*"after":\([-0-9.e+]*\).*/\1/p' "$dir/out")
"$lara" info --model "$dir/m.lara" | tr -d ' \n' >"$dir/info.json"
old_value=$(sed -n 's/.*"score_median":[-0-9.e+]*,"value":\([-0-9.e+]*\).*/\1/p' "$dir/info.json")
old_median=$(sed -n 's/.*"score_median":\([-0-9.e+]*\).*/\1/p' "$dir/info.json")
median=$("$lara" score --model "$dir/m.lara" --data "$dir/data.csv" --from 300 --to 343 | tail -n +2 | cut -d, -f2 | sort -g | sed -n 22p)
awk -v a="$after" -v m="$median" -v t="$old_value" -v o="$old_median" \
    'BEGIN { e = m + t - o; d = a - e; if (d < 0) d = -d; exit !(a != "" && d <= 1e-5 * (e < 0 ? -e : e) + 1e-6) }' ||
    fail "recalibration did not score the new rows with their past: after $after, median $median, old $old_value and $old_median"
# An empty range is the input's problem, as for score; rows before --from that recalibration does
# not use (keep, warmup) are not read.
expect_code 2 "retrain on an empty range" "$lara" retrain --model "$dir/m.lara" --data "$dir/data.csv" --from 300 --to 300 --out "$dir/p.lara"
grep -q 'row range \[300, 300) holds no rows to retrain on' "$dir/err" || fail "retrain on an empty range: $(cat "$dir/err")"
awk -F, 'NR == 297 { $2 = "" } 1' OFS=, "$dir/data.csv" >"$dir/gap.csv"
expect_code 0 "retrain --recalibrate keep past a bad cell before --from" "$lara" retrain --model "$dir/m.lara" --data "$dir/gap.csv" \
    --from 300 --to 343 --recalibrate keep --out "$dir/p.lara"
expect_code 2 "retrain --recalibrate shift reads it" "$lara" retrain --model "$dir/m.lara" --data "$dir/gap.csv" --from 300 --to 343 --out "$dir/p.lara"
# An infinite ridge fits no map: what only that fit would use is refused.
expect_code 1 "--samples with --ridge-z inf" "$lara" retrain --model "$dir/m.lara" --data "$dir/data.csv" --from 300 --out "$dir/r4.lara" \
    --ridge-z inf --samples 8
grep -q -- '--samples applies to the ruminate block' "$dir/err" || fail "--samples with --ridge-z inf: $(cat "$dir/err")"
expect_code 1 "--x-map with --ridge-x inf" "$lara" retrain --model "$dir/m.lara" --data "$dir/data.csv" --from 300 --out "$dir/r4.lara" \
    --ridge-x inf --x-map window
expect_code 0 "both ridges infinite: the threshold alone" "$lara" retrain --model "$dir/m.lara" --data "$dir/data.csv" --from 300 \
    --out "$dir/r4.lara" --ridge-z inf --ridge-x inf
grep -q '"objective":{"x":null,"z":null}' "$dir/out" || fail "objectives of unfitted maps: $(cat "$dir/out")"
# Usage errors come before any file is read, so they are reported as usage errors (exit 1).
expect_code 1 "retrain that would fit nothing, before loading" "$lara" retrain --model "$dir/missing.lara" --data "$dir/data.csv" \
    --out "$dir/r5.lara" --no-fit-z --no-fit-x
expect_code 1 "retrain from standard input, before loading" "$lara" retrain --model "$dir/missing.lara" --data - --out "$dir/r5.lara" </dev/null
grep -q 'only score reads standard input' "$dir/err" || fail "retrain --data -: $(cat "$dir/err")"
expect_code 1 "train with a bad window, before reading" "$lara" train --data "$dir/missing.csv" --out "$dir/r5.lara" --window 1
expect_code 1 "train --patience with nothing held out" "$lara" train --data "$dir/data.csv" --out "$dir/r5.lara" --val-fraction 0 --patience 3
grep -q -- '--val-fraction 0 holds none out' "$dir/err" || fail "train --patience: $(cat "$dir/err")"
expect_code 1 "demo with more new rows than the series leaves" "$lara" demo --new-rows 5000 --quiet
grep -q 'option --new-rows' "$dir/err" || fail "demo --new-rows: $(cat "$dir/err")"
expect_code 1 "train from standard input" "$lara" train --data - --out "$dir/r4.lara" <"$dir/data.csv"
grep -q 'only score reads standard input' "$dir/err" || fail "train --data -: $(cat "$dir/err")"
expect_code 1 "bad proposal" "$lara" retrain --model "$dir/m.lara" --data "$dir/data.csv" --from 300 --out "$dir/r4.lara" --proposal magic
expect_code 0 "train with relu layers" "$lara" train --data "$dir/data.csv" --to 300 --out "$dir/s.lara" --window 10 --epochs 3 \
    --activation relu --quiet
expect_code 0 "info, relu" "$lara" info --model "$dir/s.lara"
grep -q '"activation": "relu"' "$dir/out" || fail "info lacks the activation: $(head -c 400 "$dir/out")"
expect_code 0 "retrain, 8 ruminated windows" "$lara" retrain --model "$dir/s.lara" --data "$dir/data.csv" --from 300 --to 343 \
    --out "$dir/s2.lara" --ruminated-windows 8
grep -q '"n_ruminated_windows":8' "$dir/out" || fail "retrain report lacks the ruminated windows: $(cat "$dir/out")"
expect_code 0 "train on two threads" "$lara" train --data "$dir/data.csv" --to 300 --out "$dir/t1.lara" --window 10 --epochs 2 --quiet --threads 2
expect_code 0 "info, two threads" "$lara" info --model "$dir/t1.lara"
grep -q '"intra_op": 2' "$dir/out" || fail "info lacks the thread count: $(grep -A3 threads "$dir/out")"
expect_code 1 "negative threads" "$lara" score --model "$dir/m.lara" --data "$dir/data.csv" --threads -2
expect_code 1 "finetune after lara" "$lara" retrain --model "$dir/r.lara" --data "$dir/data.csv" --from 300 --to 343 \
    --out "$dir/f.lara" --method finetune --baseline-epochs 1
grep -q "maps of an earlier LARA retraining" "$dir/err" || fail "finetune after lara: $(cat "$dir/err")"
expect_code 1 "bad activation" "$lara" train --data "$dir/data.csv" --out "$dir/s3.lara" --activation sigmoid
expect_code 1 "activation on a gru" "$lara" train --data "$dir/data.csv" --out "$dir/s3.lara" --arch gru --activation relu
grep -q -- '--activation applies to --arch mlp only' "$dir/err" || fail "gru activation error: $(cat "$dir/err")"
# A series whose last 40 rows follow another level: early stopping holds them out and keeps epoch 1.
awk -F, 'NR == 1 { print; next } { o = (NR > 361) ? 20 : 0; printf "%.4f,%s,%s,%.4f\n", $1 + o, $2, $3, $4 - o }' "$dir/data.csv" >"$dir/shifted.csv"
expect_code 0 "train on a series ending in a new level" "$lara" train --data "$dir/shifted.csv" --out "$dir/w.lara" --window 10 --epochs 10 --quiet
grep -q '^warning: early stopping kept epoch 1' "$dir/err" || fail "no early-stopping warning: $(cat "$dir/err")"
expect_code 0 "train on the rows before it" "$lara" train --data "$dir/shifted.csv" --to 360 --out "$dir/w2.lara" --window 10 --epochs 10 --quiet
[ ! -s "$dir/err" ] || fail "unexpected warning: $(cat "$dir/err")"

# An experiment over two values of K, with its pictures.
mkdir -p "$dir/set/train" "$dir/set/test" "$dir/set/test_label"
head -301 "$dir/data.csv" >"$dir/set/train/a.csv"
(head -1 "$dir/data.csv"; tail -100 "$dir/data.csv") >"$dir/set/test/a.csv"
awk 'BEGIN { for (t = 0; t < 100; t++) print (t >= 80 && t < 85) ? 1 : 0 }' >"$dir/set/test_label/a.csv"
expect_code 0 "experiment sweep" "$lara" experiment --dataset "$dir/set" --protocol standard --new-rows 43,60 --eval-from 60 \
    --methods old,lara --epochs 2 --out "$dir/exp" --quiet
grep -q '| method | K = 43 | K = 60 |' "$dir/out" || fail "experiment summary lacks F1 against K: $(head -c 600 "$dir/out")"
[ "$(wc -l <"$dir/exp/results.csv")" -eq 7 ] || fail "experiment rows: $(cat "$dir/exp/results.csv")"
for f in a.svg retraining_time.svg f1_vs_k.svg; do [ -s "$dir/exp/figures/$f" ] || fail "experiment picture $f missing"; done
# A run against itself: every paired difference is 0.
expect_code 0 "compare" "$lara" compare "$dir/exp/results.csv" "$dir/exp/results.csv" --methods lara
grep -q '| lara | 1 | +0.000 (no interval below 5 entities) | 0 / 0 |' "$dir/out" || fail "compare of a run with itself: $(cat "$dir/out")"
grep -q '## K = 60' "$dir/out" || fail "compare lacks K = 60: $(cat "$dir/out")"
expect_code 2 "compare, not a results file" "$lara" compare "$dir/data.csv" "$dir/exp/results.csv"
grep -q 'data.csv:1: not a results.csv' "$dir/err" || fail "compare of a foreign file: $(cat "$dir/err")"
expect_code 1 "experiment, K below zero" "$lara" experiment --dataset "$dir/set" --new-rows=-5 --out "$dir/exp2" --quiet
grep -q 'K must be 0 or more' "$dir/err" || fail "negative K message: $(cat "$dir/err")"
expect_code 5 "experiment into a file" "$lara" experiment --dataset "$dir/set" --out "$dir/data.csv" --quiet
grep -q 'is a file, not a folder' "$dir/err" || fail "experiment into a file: $(cat "$dir/err")"

# Bad input: clear messages and distinct exit codes (1 usage, 2 data, 3 model, 5 output).
printf 'cpu,mem,net,disk\n1,2,3,4\n1,2,x,4\n' >"$dir/bad.csv"
expect_code 2 "non-numeric field" "$lara" score --model "$dir/m.lara" --data "$dir/bad.csv"
grep -q 'bad.csv:3:5' "$dir/err" || fail "non-numeric message: $(cat "$dir/err")"
printf '1,2,3\n4,5,6\n' >"$dir/three.csv"
expect_code 2 "metric count" "$lara" score --model "$dir/m.lara" --data "$dir/three.csv"
expect_code 2 "fewer rows than a window" "$lara" score --model "$dir/m.lara" --data "$dir/data.csv" --to 5
head -c 1000 "$dir/m.lara" >"$dir/cut.lara"
expect_code 3 "truncated model" "$lara" score --model "$dir/cut.lara" --data "$dir/data.csv"
grep -q 'cut.lara' "$dir/err" || fail "truncated-model message: $(cat "$dir/err")"
expect_code 3 "foreign model" "$lara" info --model "$dir/data.csv"
expect_code 1 "unknown option" "$lara" train --data "$dir/data.csv" --out "$dir/x.lara" --bogus
expect_code 1 "bad architecture" "$lara" train --data "$dir/data.csv" --out "$dir/x.lara" --arch cnn
[ ! -e "$dir/x.lara" ] || fail "a failed train left a model file"
printf '1,NA,3,4\n1,2,3,4\n' >"$dir/mixed.csv"
expect_code 2 "first line of numbers and text" "$lara" score --model "$dir/m.lara" --data "$dir/mixed.csv"
grep -q 'mixed.csv:1:3: the first line mixes names and numbers' "$dir/err" || fail "mixed first line: $(cat "$dir/err")"
expect_code 2 "missing data file" "$lara" score --model "$dir/m.lara" --data "$dir/absent.csv"
grep -q 'absent.csv: cannot open' "$dir/err" || fail "missing data file: $(cat "$dir/err")"
mkdir -p "$dir/folder"
expect_code 3 "a directory as the model" "$lara" info --model "$dir/folder"
grep -q 'folder: is a directory' "$dir/err" || fail "directory model: $(cat "$dir/err")"
expect_code 1 "timestamp by number" "$lara" score --model "$dir/m.lara" --data "$dir/data.csv" --timestamp 2
expect_code 5 "train into a missing folder" "$lara" train --data "$dir/data.csv" --out "$dir/nowhere/x.lara" --quiet
grep -q 'nowhere does not exist' "$dir/err" || fail "missing output folder: $(cat "$dir/err")"
expect_code 5 "loss curve into a directory" "$lara" retrain --model "$dir/m.lara" --data "$dir/data.csv" --from 300 \
    --out "$dir/r5.lara" --solver iterative --loss-curve "$dir/folder"
[ ! -e "$dir/r5.lara" ] || fail "a retrain whose loss curve could not be written left a model"
expect_code 1 "a negative seed" "$lara" train --data "$dir/data.csv" --out "$dir/x.lara" --seed -1
grep -q 'a seed is a whole number' "$dir/err" || fail "negative seed: $(cat "$dir/err")"
expect_code 0 "help" "$lara" score --help
expect_code 1 "a misspelt command" "$lara" scroe --model "$dir/m.lara"
grep -q 'unknown command "scroe" (commands: train, score' "$dir/err" || fail "misspelt command: $(cat "$dir/err")"

# An output that is also an input is refused before anything is written.
cp "$dir/data.csv" "$dir/copy.csv"
expect_code 5 "scores over their own data" "$lara" score --model "$dir/m.lara" --data "$dir/copy.csv" --out "$dir/copy.csv"
cmp -s "$dir/data.csv" "$dir/copy.csv" || fail "score overwrote its data file"
grep -q 'is the same file as' "$dir/err" || fail "output = input message: $(cat "$dir/err")"
cp "$dir/m.lara" "$dir/m2.lara"
expect_code 5 "loss curve over the model" "$lara" retrain --model "$dir/m2.lara" --data "$dir/data.csv" --from 300 --out "$dir/r6.lara" \
    --solver iterative --loss-curve "$dir/m2.lara"
cmp -s "$dir/m.lara" "$dir/m2.lara" || fail "retrain overwrote its model with a loss curve"
# A replaced output keeps its permissions.
chmod 600 "$dir/scores.csv"
expect_code 0 "score over an older score file" "$lara" score --model "$dir/m.lara" --data "$dir/data.csv" --from 300 --out "$dir/scores.csv"
[ "$(stat -c %a "$dir/scores.csv")" = 600 ] || fail "the replaced score file's mode is $(stat -c %a "$dir/scores.csv"), not 600"

expect_code 5 "loss curve over the new model" "$lara" retrain --model "$dir/m.lara" --data "$dir/data.csv" --from 300 \
    --out "$dir/new.lara" --solver iterative --loss-curve "$dir/./new.lara"
ln -s "$dir/nowhere/x.csv" "$dir/dangling.csv"
expect_code 5 "a link into a missing folder" "$lara" score --model "$dir/m.lara" --data "$dir/data.csv" --out "$dir/dangling.csv"
grep -q 'nowhere does not exist' "$dir/err" || fail "dangling link: $(cat "$dir/err")"

# Options that the chosen method would ignore are refused, not silently dropped.
retrain_usage() {  # message-part description options...
    local want="$1" what="$2"; shift 2
    expect_code 1 "$what" "$lara" retrain --model "$dir/m.lara" --data "$dir/data.csv" --from 300 --out "$dir/r7.lara" "$@"
    grep -q -- "$want" "$dir/err" || fail "$what: $(cat "$dir/err")"
}
retrain_usage '--samples applies to the ruminate block' "samples with finetune" --method finetune --samples 8
retrain_usage '--loss-curve applies to --method lara --solver iterative' "loss curve of the exact solver" --loss-curve "$dir/c.csv"
retrain_usage 'LARA would fit nothing' "no map fitted" --no-fit-z --no-fit-x
retrain_usage '--newton-steps applies to' "newton steps with the posterior proposal" --proposal posterior --newton-steps 3
retrain_usage 'n_samples must be in' "a huge sample count" --samples 100000000
retrain_usage '--seed applies to' "a seed for renorm" --method renorm --seed 3
[ ! -e "$dir/r7.lara" ] || fail "a refused retrain wrote a model"
expect_code 1 "SPOT options with a fixed threshold" "$lara" train --data "$dir/data.csv" --out "$dir/x.lara" --threshold 5 --risk 0.01
expect_code 1 "initial quantile below the median" "$lara" train --data "$dir/data.csv" --out "$dir/x.lara" --init-quantile 0.3
grep -q 'init_quantile must be at least 0.5' "$dir/err" || fail "init quantile message: $(cat "$dir/err")"
expect_code 1 "a learning rate of 0" "$lara" train --data "$dir/data.csv" --out "$dir/x.lara" --lr 0
grep -q 'learning_rate must be in (0, 1) (option --lr)' "$dir/err" || fail "config field without its option: $(cat "$dir/err")"
expect_code 1 "bench without repeats" "$lara" bench --repeats 0 --quiet
grep -q 'repeats must be at least 1' "$dir/err" || fail "bench repeats: $(cat "$dir/err")"
expect_code 1 "bench with fewer new rows than a window" "$lara" bench --new-rows 10 --quiet
grep -q 'new_rows must be at least one window (40 rows)' "$dir/err" || fail "bench new rows: $(cat "$dir/err")"

# The header's metrics in another order would be scored against the wrong metric.
(echo "mem,cpu,net,disk"; tail -n +2 "$dir/data.csv") >"$dir/swapped.csv"
expect_code 2 "metrics in another order" "$lara" score --model "$dir/m.lara" --data "$dir/swapped.csv"
grep -q 'metric 1 is "mem", which the model was trained with as metric 2' "$dir/err" || fail "swapped metrics: $(cat "$dir/err")"
(echo "cpu2,mem2,net2,disk2"; tail -n +2 "$dir/data.csv") >"$dir/renamed.csv"
expect_code 0 "metrics of another host" "$lara" score --model "$dir/m.lara" --data "$dir/renamed.csv"
# A header that names a metric twice says nothing about order: the model scores its own file.
(echo "cpu,cpu,net,disk"; tail -n +2 "$dir/data.csv") >"$dir/twice.csv"
expect_code 0 "train on a header with a name twice" "$lara" train --data "$dir/twice.csv" --to 300 --out "$dir/twice.lara" --window 10 --epochs 1 --quiet
expect_code 0 "score its own file" "$lara" score --model "$dir/twice.lara" --data "$dir/twice.csv"
(echo "# exported by a tool"; cat "$dir/data.csv") >"$dir/comment.csv"
expect_code 2 "a comment as the first line" "$lara" score --model "$dir/m.lara" --data "$dir/comment.csv"
grep -q 'line 1 is a comment' "$dir/err" || fail "comment first line: $(cat "$dir/err")"
sed 's/$/,/' "$dir/data.csv" >"$dir/trailing.csv"
expect_code 2 "trailing commas" "$lara" score --model "$dir/m.lara" --data "$dir/trailing.csv"
grep -q 'the line ends with a comma' "$dir/err" || fail "trailing comma message: $(cat "$dir/err")"

# A run that fails before finishing an entity does not lock its folder to its settings.
expect_code 2 "experiment past the end of the test file" "$lara" experiment --dataset "$dir/set" --protocol standard --new-rows 43 \
    --eval-from 100000 --methods old --epochs 1 --out "$dir/exp3" --quiet
expect_code 0 "experiment again in that folder" "$lara" experiment --dataset "$dir/set" --protocol standard --new-rows 43 \
    --eval-from 60 --methods old --epochs 1 --out "$dir/exp3" --quiet

# A file system without flock (NFS without its lock daemon): the experiment runs, and says that
# runs into its folder are not kept apart.
if printf '#include <errno.h>\nint flock(int fd, int op) { (void)fd; (void)op; errno = ENOLCK; return -1; }\n' |
    cc -shared -fPIC -x c -o "$dir/noflock.so" - 2>/dev/null; then
    # (Under AddressSanitizer its runtime must stay first in the library list: it allows a preload so.)
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" LD_PRELOAD="$dir/noflock.so" "$lara" experiment --dataset "$dir/set" --protocol standard --new-rows 43 --eval-from 60 \
        --methods old --epochs 1 --out "$dir/exp4" --quiet >/dev/null 2>"$dir/err"
    [ $? -eq 0 ] && grep -q 'cannot be locked (No locks available)' "$dir/err" || fail "experiment without flock: $(cat "$dir/err")"
else
    echo "SKIP: no C compiler; an experiment on a file system without flock is not checked"
fi

# A signal while an output is being written (injected by strace at the temporary file's fsync):
# the old file stays, no PATH.tmp-N is left beside it, and the exit is the signal's.
if command -v strace >/dev/null && strace -qq -o /dev/null true 2>/dev/null; then
    for sig in INT TERM; do
        cp "$dir/scores.csv" "$dir/kept.csv"
        strace -f -qq -o /dev/null -e trace=fsync -e inject=fsync:signal=SIG$sig \
            "$lara" score --model "$dir/m.lara" --data "$dir/data.csv" --out "$dir/kept.csv" >/dev/null 2>&1
        code=$?
        [ "$code" -eq $((128 + $(kill -l $sig))) ] || fail "score stopped by SIG$sig mid-write: exit $code"
        cmp -s "$dir/scores.csv" "$dir/kept.csv" || fail "SIG$sig mid-write changed the output"
        left=$(ls "$dir" | grep '^kept\.csv\.tmp-')
        [ -z "$left" ] || fail "SIG$sig mid-write left $left"
    done
else
    echo "SKIP: strace cannot run here; a run stopped by a signal mid-write is not checked"
fi

[ "$failures" -eq 0 ] && echo "cli: all checks passed"
exit $((failures > 0))

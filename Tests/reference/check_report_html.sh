#!/usr/bin/env bash
# Checks that `personaforge report --html` renders in a real headless browser.
#
# Runs a small real run (8 personas × 3 topics, 24 samples on the local SmolLM2
# stack), measures it (`evaluate --save`), writes its HTML report, loads the page in
# Debian's chromium (--headless --dump-dom) and checks that every chart's SVG is in
# the rendered DOM and that the page holds no script, then takes a screenshot.
#
#   Tests/reference/check_report_html.sh [OUTPUT_DIR]     (default .local/report-check)
#
# Needs the local stack (deploy/local/stack.sh up) and a built personaforge; installs
# chromium with apt-get when it is missing (skipped, exit 0, only if apt is unavailable).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$here/deploy/local/env.sh"
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
cd "$PF_ROOT"

out="${1:-$PF_STATE_DIR/report-check}"
mkdir -p "$out"

if ! command -v chromium >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        pf_say "installing chromium (apt-get)"
        sudo_cmd=""
        [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q chromium >/dev/null 2>&1 || {
            DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get update -q >/dev/null
            DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q chromium >/dev/null
        }
    else
        echo "check_report_html: skipped, apt-get is unavailable here to install chromium"
        exit 0
    fi
fi

"$here/deploy/local/stack.sh" up >/dev/null
swift build --product personaforge >/dev/null
personaforge="$(swift build --show-bin-path)/personaforge"
export PERSONAFORGE_NAMESPACE="reportcheck$$"

config="$out/report-check.yaml"
cat > "$config" <<EOF
name: report-check
seed: $RANDOM
shard_size: 4
axes:
  - name: persona
    source:
      values:
        - "a retired sailor who <script>alert(1)</script> loves knots"
        - "a nurse on night shifts"
        - "a beekeeper in the Alps"
        - "a teenage chess player"
        - "a baker who opens at 4am"
        - "a bus driver in Lagos"
        - "a violin teacher & composer"
        - "a software tester who writes \"quotes\""
  - name: topic
    source:
      values: [weather, money, food]
model:
  max_tokens: 24
steps:
  - name: question
    user: "You are {{persona}}. Ask one short question about {{topic}}."
filters:
  min_words: 3
EOF

pf_say "personaforge run (24 samples on the local model)"
run_output="$(PERSONAFORGE_METRICS_PORT=0 "$personaforge" run "$config" --workers 2 --new --progress-interval 30)"
run_id="$(printf '%s\n' "$run_output" | sed -n 's/^submitted run \([0-9a-f-]\{36\}\).*/\1/p' | head -1)"
[ -n "$run_id" ] || pf_die "no run id in the output of personaforge run:\n$run_output"
"$personaforge" evaluate "$run_id" --save >/dev/null

html="$out/report.html"
pf_say "personaforge report $run_id --html $html"
"$personaforge" report "$run_id" --html "$html" --force > "$out/report.txt"

pf_say "chromium --headless --dump-dom"
dom="$out/report.dom.html"
browser=(chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions --hide-scrollbars)
timeout 120 "${browser[@]}" --dump-dom "file://$html" > "$dom" 2>"$out/chromium.log" || {
    cat "$out/chromium.log" >&2; pf_die "chromium --dump-dom failed"
}

failures=0
expect() {  # expect DESCRIPTION MINIMUM-COUNT PATTERN
    local count
    count="$(grep -o -- "$3" "$dom" | wc -l)"
    if [ "$count" -ge "$2" ]; then
        echo "  ok    $1 ($count)"
    else
        echo "  FAIL  $1: found $count, expected at least $2"
        failures=$((failures + 1))
    fi
}
expect "timeline chart" 1 'data-chart="timeline"'
expect "timeline areas" 4 '<polygon class="area"'
expect "yield charts (one per axis)" 2 'data-chart="axis-yield"'
expect "heatmap" 1 'data-chart="heatmap"'
expect "heatmap cells (8 x 3)" 24 '<rect [^>]*class="cell"'
expect "metrics table" 1 '<td class="num">'
kept="$(sed -n 's/.*outcome   kept \([0-9,]*\).*/\1/p' "$out/report.txt" | tr -d ,)"
rejected="$(grep -c 'data-chart="reject-reasons"' "$html" || true)"
if [ "${kept:-0}" -gt 0 ]; then
    expect "length histogram" 1 'data-chart="length-histogram"'
    expect "sample records" 1 '<article class="sample'
else
    echo "  note  no kept records in this run: no length histogram to check"
fi
[ "$rejected" -gt 0 ] && expect "reject reasons chart" 1 'data-chart="reject-reasons"'
if grep -qi '<script' "$dom"; then
    echo "  FAIL  the rendered DOM holds a <script> element (escaping is broken)"
    failures=$((failures + 1))
else
    echo "  ok    no <script> element in the DOM (the hostile persona was escaped)"
fi
expect "hostile persona shown as text" 1 '&lt;script&gt;alert(1)&lt;/script&gt;'

png="$out/report.png"
timeout 120 "${browser[@]}" --window-size=1100,4200 --screenshot="$png" "file://$html" >>"$out/chromium.log" 2>&1 || {
    cat "$out/chromium.log" >&2; pf_die "chromium --screenshot failed"
}
[ -s "$png" ] || pf_die "chromium wrote no screenshot"
echo "  ok    screenshot $png ($(stat -c %s "$png") bytes)"

if [ "$failures" -gt 0 ]; then
    pf_die "$failures check(s) failed; see $dom"
fi
pf_say "report renders in chromium: $html, $png"

#!/usr/bin/env bash
# Slow-client attacks on seattle-httpserver with its DEFAULT options, using
# Debian's slowhttptest against 127.0.0.1 only:
#
#   slow headers (-H, "Slowloris"), slow body (-B, "R-U-Dead-Yet"), slow read (-X)
#
# For each mode: 200 connections for 20 s, while a normal GET probes the
# server every second (status and latency) and the attack's open TCP
# connections are counted four times a second from /proc/net/tcp. The table
# says, per mode, what slowhttptest saw at the end (closed / pending /
# connected), when the server closed the last slow connection, and how the
# probes fared. Exits 1 if any probe failed or slow connections were still
# open when the attack ended.
#
# Parameters (slowhttptest's documented examples, see its man page, with
# two deliberate changes for slow body):
#   -H  -i 10 -r 200 -s 8192 -t GET -x 24 -p 3         as documented
#   -B  -i 5  -r 200 -s 8192 -t POST -x 10 -p 3        documented: -i 110 -t FAKEVERB
#       POST, because llhttp refuses an unknown method with 400 at once, so
#       FAKEVERB would test the parser, not slow bodies; -i 5, because the
#       documented 110 s between body pieces is longer than the whole 20 s
#       run: no piece would ever follow, and a trickle every 5 s is what an
#       idle timer alone fails to catch.
#   -X  -r 200 -w 512 -y 1024 -n 5 -z 32 -k 3 -p 3     as documented, on /big (4 MiB)
# 200 connections stay under the default maxConnectionsPerPeer (256), so
# what is measured is the timeouts, not the per-peer cap.
#
#   scripts/slowhttptest.sh            (make attack builds first)
#   ATTACK_CONNECTIONS=200 ATTACK_SECONDS=20 ATTACK_OUT=.bench/attack scripts/slowhttptest.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${ATTACK_CONNECTIONS:-200}
LENGTH=${ATTACK_SECONDS:-20}
OUT=${ATTACK_OUT:-.bench/attack}
TARGET_JS=dist/bench/attack-target.js
# A probe slower than this counts as failed (slowhttptest's own probe uses -p 3).
PROBE_TIMEOUT=5

for tool in slowhttptest curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "Installing $tool from Debian's packages..."
    # apt-cache and apt-get need a package list; a fresh machine has none yet.
    apt-get update -qq
    apt-get install -y -qq "$tool" >/dev/null
  fi
done
if [[ ! -f $TARGET_JS ]]; then
  echo "$TARGET_JS is missing: run 'make attack' (or npm run build) first." >&2
  exit 2
fi

mkdir -p "$OUT"
# Only this script's own files from an earlier run: OUT may be a folder that holds other things.
rm -f "$OUT"/target.log "$OUT"/slow-*.{out,csv,html,probes,open}

TARGET_PID=
ATTACK_PID=
cleanup() {
  # Only what this script started, by process id.
  [[ -n $ATTACK_PID ]] && kill "$ATTACK_PID" 2>/dev/null || true
  [[ -n $TARGET_PID ]] && kill "$TARGET_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

# The target exits by itself after this, should this script die without cleaning up.
node "$TARGET_JS" --max-seconds $((3 * (LENGTH + 20) + 60)) >"$OUT/target.log" 2>&1 &
TARGET_PID=$!
PORT=
for _ in $(seq 1 100); do
  PORT=$(sed -n 's/^port=//p' "$OUT/target.log")
  [[ -n $PORT ]] && break
  kill -0 "$TARGET_PID" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $PORT ]]; then
  echo "The target server did not start:" >&2
  cat "$OUT/target.log" >&2
  exit 1
fi
BASE=http://127.0.0.1:$PORT
PORT_HEX=$(printf '%04X' "$PORT")
echo "target: seattle-httpserver, default options, $BASE (pid $TARGET_PID)"
echo "attack: $CONNECTIONS connections, $LENGTH s per mode; output in $OUT/"

# Established client-side TCP connections to the target (IPv4; slowhttptest and curl use 127.0.0.1).
open_connections() {
  awk -v port=":$PORT_HEX" '$4 == "01" && substr($3, length($3) - 4) == port { n++ } END { print n + 0 }' /proc/net/tcp
}

# The target's resident memory, to see what slow readers cost it.
target_rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$TARGET_PID/status" 2>/dev/null || echo 0
}

# One normal GET; prints "status seconds" (status 000 when it failed or timed out).
probe() {
  curl -s -o /dev/null --max-time "$PROBE_TIMEOUT" -w '%{http_code} %{time_total}\n' "$BASE/" || true
}

# run_mode NAME URL SLOWHTTPTEST-ARGS...
run_mode() {
  local name=$1 url=$2
  shift 2
  echo
  echo "== $name: slowhttptest $* -c $CONNECTIONS -l $LENGTH -u $url"
  slowhttptest "$@" -c "$CONNECTIONS" -l "$LENGTH" -g -o "$OUT/$name" -u "$url" >"$OUT/$name.out" 2>&1 &
  ATTACK_PID=$!
  : >"$OUT/$name.probes"
  : >"$OUT/$name.open"
  local probes=() tick elapsed next_probe=0
  local started=$(date +%s%N)
  # Bounded in count and in time: about four samples a second, for the attack's length plus a grace period.
  for ((tick = 0; tick < (LENGTH + 15) * 4; tick++)); do
    kill -0 "$ATTACK_PID" 2>/dev/null || break
    elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
    ((elapsed < (LENGTH + 15) * 1000)) || break
    # A probe every second by the clock, each in the background so a slow one delays neither the next nor the samples.
    if ((elapsed >= next_probe)); then
      probe >>"$OUT/$name.probes" &
      probes+=($!)
      next_probe=$((next_probe + 1000))
    fi
    echo "$elapsed $(open_connections) $(target_rss_kib)" >>"$OUT/$name.open"
    sleep 0.25
  done
  if kill -0 "$ATTACK_PID" 2>/dev/null; then
    echo "slowhttptest overran its $LENGTH s: stopped" | tee -a "$OUT/$name.out"
    kill "$ATTACK_PID" 2>/dev/null || true
  fi
  wait "$ATTACK_PID" 2>/dev/null || true
  ATTACK_PID=
  for pid in "${probes[@]}"; do wait "$pid" 2>/dev/null || true; done
}

run_mode slow-headers "$BASE/" -H -i 10 -r 200 -s 8192 -t GET -x 24 -p 3
run_mode slow-body "$BASE/" -B -i 5 -r 200 -s 8192 -t POST -x 10 -p 3
run_mode slow-read "$BASE/big" -X -r 200 -w 512 -y 1024 -n 5 -z 32 -k 3 -p 3

# The target must have lived through all three.
TARGET_ALIVE=yes
kill -0 "$TARGET_PID" 2>/dev/null || TARGET_ALIVE=no

echo
printf '%-13s %-26s %-26s %11s %12s %7s %9s %-14s %8s %s\n' \
  mode "slowhttptest exit" "closed/pending/connected" "open at end" "last closed" probes "max ms" statuses "RSS MiB" verdict
failed=0
summary=()
for name in slow-headers slow-body slow-read; do
  plain=$(sed 's/\x1b\[[0-9;]*m//g' "$OUT/$name.out")
  reason=$(sed -n 's/^Exit status: *//p' <<<"$plain" | tail -1)
  # slowhttptest's last CSV row: Seconds,Closed,Pending,Connected,Service Available
  IFS=, read -r csv_second closed pending connected _ < <(tail -1 "$OUT/$name.csv" 2>/dev/null || echo "?,?,?,?,")
  # From our samples taken before slowhttptest's own teardown at the time limit: the last count of
  # open attack connections, and when that count first fell to 0 after its peak (the server closed them).
  read -r open_end last_closed rss_max < <(awk -v until=$((LENGTH * 1000 - 300)) '
    $3 > rss { rss = $3 }
    $1 > until { exit }
    { if ($2 > peak) { peak = $2; zero = "" } if (peak > 0 && $2 == 0 && zero == "") zero = $1; last = $2 }
    END { printf "%d %s %d\n", last, (zero == "" ? "never" : sprintf("%.1fs", zero / 1000)), rss / 1024 }' "$OUT/$name.open")
  # slowhttptest checks once a second: when it says none are left, none are, whatever our last sample caught.
  if [[ $reason == *"No open connections left"* ]]; then
    open_end=0
    if [[ $last_closed == never ]]; then last_closed="~$(sed -n 's/^Test ended on \([0-9]*\).*/\1/p' <<<"$plain" | tail -1)s"; fi
  fi
  read -r probe_count probe_max probe_bad statuses < <(awk -v limit="$PROBE_TIMEOUT" '
    { n++; count[$1]++; ms = $2 * 1000; if (ms > max) max = ms; if ($1 != "200") bad++ }
    END { s = ""; for (code in count) s = s (s == "" ? "" : ",") code "x" count[code]; printf "%d %d %d %s\n", n, max, bad + 0, (s == "" ? "none" : s) }' \
    "$OUT/$name.probes")
  verdict=ok
  if ((probe_bad > 0 || probe_count == 0)); then verdict="FAIL (probe)"; failed=1; fi
  if ((open_end > 0)); then verdict="FAIL (slow connections open)"; failed=1; fi
  printf '%-13s %-26s %-26s %11s %12s %7s %9s %-14s %8s %s\n' \
    "$name" "${reason:-?}" "$closed/$pending/$connected at ${csv_second}s" "$open_end" "$last_closed" "$probe_count" "$probe_max" "$statuses" "$rss_max" "$verdict"
  summary+=("\"$name\":{\"exit\":\"${reason:-?}\",\"csvSecond\":\"$csv_second\",\"closed\":\"$closed\",\"pending\":\"$pending\",\"connected\":\"$connected\",\"openAtEnd\":$open_end,\"lastClosed\":\"$last_closed\",\"probes\":$probe_count,\"probeFailures\":$probe_bad,\"probeMaxMs\":$probe_max,\"probeStatuses\":\"$statuses\",\"targetRssMaxMib\":$rss_max,\"ok\":$([[ $verdict == ok ]] && echo true || echo false)}")
done
if [[ $TARGET_ALIVE != yes ]]; then
  echo "The target server died during the attacks:" >&2
  tail -20 "$OUT/target.log" >&2
  failed=1
fi
echo
(IFS=,; echo "{\"connections\":$CONNECTIONS,\"seconds\":$LENGTH,\"targetAlive\":\"$TARGET_ALIVE\",${summary[*]},\"ok\":$([[ $failed == 0 ]] && echo true || echo false)}")
exit "$failed"

#!/usr/bin/env bash
# Installs, from Debian's packages, the load generator the benchmarks drive:
# wrk (bench/suite.ts runs it against every server, with a Lua script of its own).
# Does nothing when wrk is there, so `make bench` can run it every time.
# Needs root (apt-get), as on the project's build machines.
set -euo pipefail

if command -v wrk >/dev/null; then
  exit 0
fi
echo "Installing wrk from Debian's packages (for make bench)..."
# apt-get install needs a package list; a fresh machine has none yet.
# apt needs root: use sudo when this runs as a user that has it.
as_root=()
if [[ $EUID -ne 0 ]] && command -v sudo >/dev/null; then as_root=(sudo); fi
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends wrk >/dev/null
if ! command -v wrk >/dev/null; then
  echo "apt-get finished but wrk is not on the PATH." >&2
  exit 1
fi
# wrk has no --version: its usage text names the version on the first line.
wrk -v 2>&1 | head -n 1 || true

#!/usr/bin/env bash
# Installs, from Debian's packages, the programs the tests drive:
# - chromium, for test/static/browser.test.ts (playwright-core drives it;
#   playwright's own browser downloads are not used);
# - curl, whose requests the tutorial's transcripts show (test/tutorial.test.ts
#   checks them with scripts/tutorial-traces.mjs).
# Does nothing when both are there, so `make test` can run it every time.
# Needs root (apt-get), as on the project's build machines.
set -euo pipefail

if [[ -x /usr/bin/chromium ]] && command -v curl >/dev/null; then
  exit 0
fi
echo "Installing chromium and curl from Debian's packages (for the browser and tutorial tests)..."
# apt-get install needs a package list; a fresh machine has none yet.
# apt needs root: use sudo when this runs as a user that has it.
as_root=()
if [[ $EUID -ne 0 ]] && command -v sudo >/dev/null; then as_root=(sudo); fi
"${as_root[@]}" apt-get update -qq
# Recommends would pull in a desktop (upower, notification daemon, ...); a font is the
# one thing a headless page needs from them, so that links have a size to click.
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-liberation curl >/dev/null
if [[ ! -x /usr/bin/chromium ]]; then
  echo "apt-get finished but /usr/bin/chromium is missing." >&2
  exit 1
fi
# (Debian's wrapper script may print a harmless shell warning on stderr here.)
/usr/bin/chromium --version 2>/dev/null

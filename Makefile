# Each target runs an npm script; the logic lives in package.json and its scripts.
.PHONY: install build tools test run trace bench soak attack clean

# npm ci runs only when package-lock.json is newer than the last install (npm ci writes
# node_modules/.package-lock.json), and tsc only when a source is newer than the last build:
# `make trace` after `make test` starts at once. `make clean` forces the next build.
SOURCES := tsconfig.json $(shell find lib test bench -name '*.ts' -o -name '*.mts')

install: node_modules/.package-lock.json

node_modules/.package-lock.json: package-lock.json
	npm ci

build: dist/.built

dist/.built: node_modules/.package-lock.json $(SOURCES)
	npm run build
	@touch $@

# Programs the tests drive, from Debian's packages when missing: a headless Chromium
# (the listing page is tested in a real browser) and curl (the tutorial's transcripts).
tools:
	bash scripts/install-test-tools.sh

test: build tools
	npm test

run: build
	npm start

# The hello sample with every exchange printed: dictionaries and the bytes on the wire.
trace: build
	npm run trace

# wrk from Debian's packages when missing, then the suite against raw node:http and
# Fastify, memory (idle connections, heap growth over 1,000,000 requests), static files.
bench: build
	bash scripts/install-bench-tools.sh
	npm run bench
	npm run bench:memory
	npm run bench:static

soak: build
	npm run soak
	npm run fuzz

attack: build
	npm run attack

clean:
	npm run clean

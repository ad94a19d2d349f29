# Each target runs an npm script; the logic lives in package.json and its scripts.
.PHONY: install build browser test run trace bench soak attack clean

install:
	npm ci

build: install
	npm run build

# The listing page is tested in a real headless Chromium (Debian's), installed here when missing.
browser:
	bash scripts/install-browser.sh

test: build browser
	npm test

run: build
	npm start

# The hello sample with every exchange printed: dictionaries and the bytes on the wire.
trace: build
	npm run trace

bench: build
	npm run bench
	npm run bench:static

soak: build
	npm run soak
	npm run fuzz

attack: build
	npm run attack

clean:
	npm run clean

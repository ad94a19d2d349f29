# Each target runs an npm script; the logic lives in package.json and its scripts.
.PHONY: install build test run bench clean

install:
	npm ci

build: install
	npm run build

test: build
	npm test

run: build
	npm start

bench: build
	npm run bench

clean:
	npm run clean

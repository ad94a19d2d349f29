# Each target runs an npm script; the logic lives in package.json and its scripts.
.PHONY: install build test run bench soak attack clean

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

soak: build
	npm run soak
	npm run fuzz

attack: build
	npm run attack

clean:
	npm run clean

#!/usr/bin/env node
// The `httpserver` command; everything is in lib/cli.ts (built into dist/).
'use strict';
require('../dist/lib/cli.js').main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error) => { console.error(error); process.exitCode = 1; },
);

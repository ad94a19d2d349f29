#!/usr/bin/env node
/**
 * Keeps the transcripts in docs/tutorial.md true. Each one follows a marker
 *
 *     <!-- trace: node bin/httpserver.js run samples/X.mjs [flags]; then curl ... -->
 *
 * This runs that command (on a free port) and that curl, and puts what the
 * server printed in the block, keeping only the kinds of lines the block
 * shows (the wire view alone, the dictionaries alone, the log lines, ...).
 * What changes from run to run is made fixed: ports, dates.
 *
 *     node scripts/tutorial-traces.mjs          rewrite the blocks (after `npm run build`)
 *     node scripts/tutorial-traces.mjs --check  exit 1 when a block is not what the server prints
 *
 * --check ignores what no two runs share (durations, curl's version) and the
 * order of stdout lines against stderr lines (two pipes).
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TUTORIAL = join(ROOT, 'docs', 'tutorial.md');
const MARKER = /(<!-- trace: node bin\/httpserver\.js run (samples\/[\w-]+\.mjs)((?: --[\w=-]+)*); then (curl .+?) -->\n```\n)([\s\S]*?)(\n```\n)/g;
const STEP_TIMEOUT_MS = 10_000;

/** Which kind of output a line is, to keep only the kinds a block shows. */
function kindsOf(lines) {
  const kinds = [];
  let dictionary;
  lines.forEach((line, index) => {
    if (dictionary !== undefined) {
      kinds.push(dictionary);
      if (line === '}') dictionary = undefined;
    } else if (/^── (request|response) \d+ ──/.test(line)) {
      const kind = line.startsWith('── request') ? 'request' : 'response';
      kinds.push(kind);
      if (lines[index + 1] === '{') dictionary = kind;
    } else if (/^── connection \d+/.test(line) || /^[<>] /.test(line)) {
      kinds.push('wire');
    } else if (/^(Serving|Watching|Reloaded) /.test(line)) {
      kinds.push('banner');
    } else if (/^\S+ \[[^\]]+\] "/.test(line)) {
      kinds.push('log');
    } else if (/^seattle-httpserver \[/.test(line)) {
      kinds.push('report');
    } else {
      kinds.push('other');
    }
  });
  return kinds;
}

/** Runs `command` and `curl`, resolves with every line the server printed (stdout and stderr as they came). */
async function capture(sample, flags, curl) {
  const child = spawn(process.execPath, ['bin/httpserver.js', 'run', sample, ...flags, '--port', '0'], {
    cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let lastData = Date.now();
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8').on('data', (chunk) => { output += chunk; lastData = Date.now(); });
  }
  try {
    const port = await until(() => /^Serving .* at http:\/\/127\.0\.0\.1:(\d+)\/$/m.exec(output)?.[1], 'the server to start');
    await new Promise((resolve, reject) => {
      execFile('sh', ['-c', curl.replaceAll(':8080', `:${port}`)], { timeout: STEP_TIMEOUT_MS }, (error) => (error ? reject(error) : resolve()));
    });
    // The last lines (a log line, "connection closed") come a moment after curl has its answer.
    await until(() => Date.now() - lastData > 300 || undefined, 'the server to go quiet');
    return { port, lines: output.split('\n').filter((line) => line !== '') };
  } finally {
    child.kill('SIGINT');
  }
}

async function until(check, what) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Fixes what varies: the server's port becomes 8080, client ports count up from `firstClientPort`, dates are one date. */
function fixed(lines, port, firstClientPort) {
  const clientPorts = new Map();
  const clientPort = (real) => {
    if (!clientPorts.has(real)) clientPorts.set(real, firstClientPort + clientPorts.size);
    return clientPorts.get(real);
  };
  return lines.map((line) => line
    .replaceAll(`:${port}`, ':8080')
    .replace(/127\.0\.0\.1:(\d+)/g, (whole, real) => (real === '8080' ? whole : `127.0.0.1:${clientPort(real)}`))
    .replace(/remoteportnum: (\d+)/, (_whole, real) => `remoteportnum: ${clientPort(real)}`)
    .replace(/Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT/, 'Date: Sun, 22 Nov 2026 10:00:00 GMT')
    .replace(/\[\d{4}-\d\d-\d\dT[\d:.]+Z\]/, '[2026-11-22T10:00:00.000Z]'));
}

/** For --check: what no two runs share is blanked, and each kind of line is compared on its own. */
function comparable(lines) {
  const kinds = kindsOf(lines);
  const blanked = lines.map((line) => line
    .replace(/after \d+ ms/, 'after N ms').replace(/ [\d.]+ms$/, ' Nms').replace(/curl\/[\d.]+/, 'curl/N')
    .replace(/127\.0\.0\.1:5\d{4}/g, '127.0.0.1:CLIENT').replace(/remoteportnum: \d+/, 'remoteportnum: CLIENT'));
  const byKind = {};
  blanked.forEach((line, index) => { (byKind[kinds[index]] ??= []).push(line); });
  return JSON.stringify(byKind, Object.keys(byKind).sort(), 1);
}

const check = process.argv.includes('--check');
const tutorial = readFileSync(TUTORIAL, 'utf8');
const markers = [...tutorial.matchAll(MARKER)];
let rewritten = tutorial;
let nextClientPort = 50412;
const stale = [];
// Each transcript comes from its own server on its own port: they are captured side by side.
const captured = await Promise.all(markers.map(([, , sample, flagText, curl]) => capture(sample, flagText.split(' ').filter(Boolean), curl)));
for (const [index, [whole, opening, sample, flagText, curl, block, closing]] of markers.entries()) {
  const shown = block.split('\n');
  const wanted = new Set(kindsOf(shown));
  const { port, lines } = captured[index];
  const kinds = kindsOf(lines);
  const kept = fixed(lines.filter((_line, index) => wanted.has(kinds[index])), port, nextClientPort);
  nextClientPort += 10;
  if (check) {
    if (comparable(kept) !== comparable(shown)) stale.push(`${sample}${flagText}; ${curl}\n--- the tutorial shows:\n${block}\n--- the server printed:\n${kept.join('\n')}\n`);
  } else {
    rewritten = rewritten.replace(whole, `${opening}${kept.join('\n')}${closing}`);
  }
}
if (check) {
  if (stale.length > 0) {
    process.stderr.write(`${stale.length} of ${markers.length} transcripts in docs/tutorial.md differ from what the server prints ` +
      `(run node scripts/tutorial-traces.mjs to rewrite them):\n\n${stale.join('\n')}`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`${markers.length} transcripts checked\n`);
  }
} else {
  writeFileSync(TUTORIAL, rewritten);
  process.stdout.write(`${markers.length} transcripts rewritten\n`);
}

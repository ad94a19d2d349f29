/**
 * docs/tutorial.md against the files it is built on: code shown from a
 * sample is the sample's code, every sample it runs exists, every exercise
 * has its parts, and every illustrative transcript says how to regenerate it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from './samples-support.js';

const tutorial = readFileSync(join(packageRoot, 'docs', 'tutorial.md'), 'utf8');

/** The fenced block that starts on the line after `index` (the end of a marker comment). */
function blockAfter(index: number): { fence: string; code: string } | undefined {
  const match = /^\n```(\w*)\n([\s\S]*?)\n```\n/.exec(tutorial.slice(index));
  return match ? { fence: match[1]!, code: match[2]! } : undefined;
}

test('every code block marked as a sample is that sample, excerpts separated by // ...', () => {
  const markers = [...tutorial.matchAll(/<!-- sample: (samples\/[\w.-]+) -->/g)];
  assert.ok(markers.length >= 10, `${markers.length} sample blocks`);
  for (const marker of markers) {
    const file = marker[1]!;
    const source = readFileSync(join(packageRoot, file), 'utf8');
    const block = blockAfter(marker.index! + marker[0].length);
    assert.ok(block, `a code block follows the marker for ${file}`);
    assert.equal(block.fence, 'js', file);
    for (const excerpt of block.code.split('\n// ...\n')) {
      assert.ok(excerpt.trim() !== '' && source.includes(excerpt), `${file} does not contain:\n${excerpt}`);
    }
  }
});

test('every sample the tutorial names or runs exists', () => {
  const named = new Set([...tutorial.matchAll(/samples\/([\w.-]+\.mjs)/g)].map((match) => match[1]!));
  for (const name of ['hello.mjs', 'echo.mjs', 'query.mjs', 'form.mjs', 'cookies.mjs', 'status.mjs', 'errors.mjs', 'stream.mjs', 'json-api.mjs']) {
    assert.ok(named.has(name), `the tutorial runs samples/${name}`);
  }
  for (const name of named) assert.ok(existsSync(join(packageRoot, 'samples', name)), `samples/${name} exists`);
});

test('each exercise has its parts, in order', () => {
  const exercises = tutorial.split(/^## (?=\d\. )/m).slice(1);
  assert.equal(exercises.length, 9);
  exercises.forEach((section, index) => {
    const title = section.slice(0, section.indexOf('\n'));
    assert.ok(title.startsWith(`${index + 1}. `), title);
    const parts = ['What you will learn', 'Run it', 'Try it', 'Your turn', 'Under the hood'];
    // The wire trace exercise reads the earlier samples instead of a code of its own.
    if (index !== 7) parts.splice(1, 0, 'The code');
    const found = [...section.matchAll(/^### (.+)$/gm)].map((match) => match[1]!).filter((name) => parts.includes(name));
    assert.deepEqual(found, parts, title);
  });
});

test('every illustrative transcript names the command and request that produce it', () => {
  const markers = [...tutorial.matchAll(/<!-- trace: (.+?) -->/g)];
  assert.ok(markers.length >= 8, `${markers.length} transcripts`);
  for (const marker of markers) {
    const command = marker[1]!;
    assert.match(command, /^node bin\/httpserver\.js run samples\/[\w-]+\.mjs( --[\w=-]+)*; then curl /, command);
    assert.ok(blockAfter(marker.index! + marker[0].length), `a code block follows: ${command}`);
  }
});

test('every transcript is what the server prints for that command and request (scripts/tutorial-traces.mjs --check)', async () => {
  // The script starts each sample as the tutorial says, sends the curl request, and compares.
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile(process.execPath, [join(packageRoot, 'scripts', 'tutorial-traces.mjs'), '--check'], { timeout: 60_000 },
      (error, _stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr }));
  });
  assert.equal(result.code, 0, result.stderr);
});

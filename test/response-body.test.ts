import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { ReadableStream } from 'node:stream/web';
import { test } from 'node:test';
import { text } from 'node:stream/consumers';
import { classifyMessage, discardMessage, enforceLength, openStream } from '../lib/response-body.js';

test('classifyMessage: known lengths for strings and bytes, streams for the rest', () => {
  assert.deepEqual(classifyMessage(undefined), { kind: 'none' });
  assert.deepEqual(classifyMessage(null), { kind: 'none' });
  assert.deepEqual(classifyMessage('héllo'), { kind: 'bytes', data: 'héllo', length: 6 });
  const bytes = new Uint8Array([1, 2, 3]);
  assert.deepEqual(classifyMessage(bytes), { kind: 'bytes', data: bytes, length: 3 });
  for (const source of [Readable.from(['a']), new ReadableStream(), (async function* () { yield 'a'; })(), { read: () => '' }]) {
    assert.equal((classifyMessage(source) as { kind: string }).kind, 'stream');
  }
});

test('classifyMessage explains what cannot be sent', () => {
  assert.match(classifyMessage(42) as string, /type number \(42\); convert it with String\(\)/);
  assert.match(classifyMessage({ a: 1 }) as string, /json\(value\)/);
  assert.match(classifyMessage(['a', 'b']) as string, /an array/);
});

test('openStream reads every streaming kind to the same bytes', async () => {
  let position = 0;
  const fileLike = { read: async () => (position++ === 0 ? 'ab' : '') };
  const sources = [
    Readable.from(['a', 'b']),
    new ReadableStream({ start(controller) { controller.enqueue(new TextEncoder().encode('ab')); controller.close(); } }),
    (async function* () { yield 'a'; yield Buffer.from('b'); })(),
    fileLike,
  ];
  for (const source of sources) assert.equal(await text(openStream(source)), 'ab');
});

test('a file-like is closed at its end, and when discarded', async () => {
  let closed = 0;
  let reads = 0;
  const file = { read: () => (reads++ < 2 ? 'x' : ''), close: () => { closed++; } };
  assert.equal(await text(openStream(file)), 'xx');
  assert.equal(closed, 1);
  discardMessage({ read: () => 'never', close: () => { closed++; } });
  assert.equal(closed, 2);
});

test('discardMessage destroys Node streams and cancels web streams', async () => {
  const node = Readable.from(['a']);
  discardMessage(node);
  assert.equal(node.destroyed, true);
  let cancelled = false;
  discardMessage(new ReadableStream({ cancel() { cancelled = true; } }));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(cancelled, true);
});

test('enforceLength passes exact lengths and fails longer or shorter bodies', async () => {
  assert.equal(await text(Readable.from([Buffer.from('abc')]).pipe(enforceLength(3))), 'abc');
  await assert.rejects(text(Readable.from([Buffer.from('abcd')]).pipe(enforceLength(3))), /longer than its Content-Length/);
  await assert.rejects(text(Readable.from([Buffer.from('ab')]).pipe(enforceLength(3))), /ended after 2 of its Content-Length \(3 bytes\)/);
});

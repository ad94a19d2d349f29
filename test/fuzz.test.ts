/**
 * A bounded, deterministic mutational fuzzer: thousands of mangled requests
 * (see fuzz-cases.ts) over real sockets to one server. Whatever the bytes,
 * the server must answer with well-formed HTTP, or close, or (for an
 * HTTP/0.9 request line) send the body alone; it must never crash, never
 * report a bug of its own, and must still serve a normal request at the end.
 *
 *   FUZZ_SEED=1234 FUZZ_CASES=20000 node --test dist/test/fuzz.test.js
 *   npm run fuzz       (100,000 cases, seed 1, up to 8 minutes)
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { listCallbacks, type HttpRequest } from '../lib/index.js';
import { generateCases, type FuzzCase } from './fuzz-cases.js';
import { ask, errorSink, serve } from './support.js';

const SEED = integerFromEnv('FUZZ_SEED', 0x5ea771e);
const CASES = integerFromEnv('FUZZ_CASES', 5000);
/** Sockets open at once: enough to overlap server work, far below maxConnectionsPerPeer (256). */
const CONCURRENCY = 24;
/** How long one case may take before we stop waiting and judge what arrived. */
const CASE_WAIT_MS = 5000;
/** No new case starts after this, however many are left (the test runner's limit is 60 s; `make fuzz` raises both). */
const RUN_BUDGET_MS = integerFromEnv('FUZZ_BUDGET_MS', 40_000);
/** How many failing cases the assertion message shows. */
const SHOWN_FAILURES = 5;

/** The callback's one answer. HTTP/0.9 request lines get exactly these bytes and nothing else. */
const FIXED_BODY = 'fuzz: fixed answer\n';

const STATUS_LINE = /^HTTP\/1\.[01] [1-5]\d\d [^\r\n]*\r\n/;
/** A response header line as the library writes it: a token, a colon, a space, no control bytes but TAB. */
const HEADER_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+: [^\x00-\x08\x0a-\x1f\x7f]*$/;

function integerFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${text}`);
  return value;
}

interface Outcome {
  /** Everything received, latin1. */
  text: string;
  /** Our side's port, which the callback sees as `remoteportnum`. */
  localPort: number | undefined;
  /** Whether the callback saw an HTTP/0.9 request on this connection, so the body alone is a valid answer. */
  answeredAsNineOh: boolean;
  /** How the exchange ended: the server closed, reset, or we stopped waiting. */
  end: 'closed' | 'reset' | 'timeout';
  ms: number;
}

/**
 * Sends the case and half-closes at once, so the server sees the whole
 * request and its end together. `onConnect` learns our port first.
 */
function sendCase(port: number, bytes: string, onConnect: (localPort: number | undefined) => void): Promise<Omit<Outcome, 'answeredAsNineOh'>> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    // Read once connected: a destroyed socket no longer knows its port.
    let localPort: number | undefined;
    let settled = false;
    const finish = (end: Outcome['end']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), localPort, end, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish('timeout'), CASE_WAIT_MS);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => finish('reset'));
    socket.on('close', () => finish('closed'));
    socket.on('connect', () => {
      localPort = socket.localPort;
      onConnect(localPort);
      socket.end(Buffer.from(bytes, 'latin1'));
    });
  });
}

/**
 * Why a transcript is not acceptable, or undefined when it is. Acceptable:
 * nothing at all; the fixed body alone when the callback saw an HTTP/0.9
 * request on this connection (`answeredAsNineOh`); or a sequence
 * of well-formed responses, each a status line and header lines, 1xx ones
 * (100 Continue) before a final one, bodies framed by Content-Length or
 * chunked. When the connection was reset or we stopped waiting, the last
 * response may be cut short.
 */
function transcriptProblem(text: string, mayBeCut: boolean, answeredAsNineOh: boolean): string | undefined {
  let at = 0;
  // Bounded: a case of at most 64 KiB cannot produce more responses than this without another failing first.
  for (let responses = 0; responses < 10_000; responses += 1) {
    if (at === text.length) return undefined;
    const rest = text.slice(at);
    // An HTTP/0.9 request line is answered with the body alone, and the connection closes.
    if (rest === FIXED_BODY && answeredAsNineOh) return undefined;
    const statusLine = STATUS_LINE.exec(rest);
    if (statusLine === null) {
      if (mayBeCut && isPrefixOfStatusLine(rest)) return undefined;
      return `no well-formed status line at byte ${at}`;
    }
    const headLength = rest.indexOf('\r\n\r\n', statusLine[0].length - 2);
    if (headLength === -1) return mayBeCut ? undefined : `response head at byte ${at} never ends`;
    const headerLines = rest.slice(statusLine[0].length, headLength).split('\r\n').filter((line) => line !== '');
    const badLine = headerLines.find((line) => !HEADER_LINE.test(line));
    if (badLine !== undefined) return `malformed response header line ${JSON.stringify(badLine)} at byte ${at}`;
    at += headLength + 4;
    const status = Number(statusLine[0].slice(9, 12));
    // Interim responses (100 Continue) have no body; the final response follows.
    if (status < 200) continue;

    const headers = new Map(headerLines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as const;
    }));
    const length = headers.get('content-length');
    if (length !== undefined) {
      if (!/^\d+$/.test(length)) return `response Content-Length ${JSON.stringify(length)} at byte ${at}`;
      // A HEAD response announces a length but carries no body: the next response starts at once.
      if (STATUS_LINE.test(text.slice(at))) continue;
      at += Number(length);
      if (at > text.length) return mayBeCut ? undefined : `response body cut short at byte ${text.length}`;
      continue;
    }
    if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') {
      const chunked = chunkedLength(text, at);
      if (chunked === undefined) return mayBeCut ? undefined : `chunked response body at byte ${at} never ends`;
      at += chunked;
      continue;
    }
    // Close-delimited (an HTTP/1.0 answer of unknown length): the rest is its body.
    return undefined;
  }
  return 'too many responses';
}

/** Why a case's outcome is not acceptable: a malformed transcript, or a server that neither answered nor closed. */
function outcomeProblem(outcome: Outcome): string | undefined {
  // The request and its end were both sent: holding the connection silently is a resource leak, not an answer.
  if (outcome.end === 'timeout' && outcome.text === '') return `neither an answer nor a close within ${CASE_WAIT_MS} ms`;
  return transcriptProblem(outcome.text, outcome.end !== 'closed', outcome.answeredAsNineOh);
}

/** What each of the first bytes of a status line may be: `HTTP/1.x NNN `. */
const STATUS_LINE_START = [/H/, /T/, /T/, /P/, /\//, /1/, /\./, /[01]/, / /, /[1-5]/, /\d/, /\d/, / /];

/** True when `text` could be the beginning of a status line that was cut off. */
function isPrefixOfStatusLine(text: string): boolean {
  if (/[\r\n]/.test(text)) return false;
  return [...text.slice(0, STATUS_LINE_START.length)].every((char, i) => STATUS_LINE_START[i]!.test(char));
}

/** Bytes taken by a chunked body (through its last chunk and trailers) starting at `at`, undefined if incomplete. */
function chunkedLength(text: string, at: number): number | undefined {
  let position = at;
  for (let chunks = 0; chunks < 100_000; chunks += 1) {
    const lineEnd = text.indexOf('\r\n', position);
    if (lineEnd === -1) return undefined;
    const size = parseInt(text.slice(position, lineEnd), 16);
    if (!Number.isInteger(size)) return undefined;
    position = lineEnd + 2;
    // The last chunk, then the empty line that ends the (absent: this library writes none) trailers.
    if (size === 0) return text.startsWith('\r\n', position) ? position + 2 - at : undefined;
    position += size + 2;
  }
  return undefined;
}

/** Errors `onError` may receive for malformed traffic: client faults (status below 500) and bodies the client broke off. */
function isClientFault(error: Error): boolean {
  const { status, statusCode, code } = error as { status?: unknown; statusCode?: unknown; code?: unknown };
  const declared = typeof status === 'number' ? status : statusCode;
  if (typeof declared === 'number') return declared < 500;
  return code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/** Runs `work` over `items`, at most `limit` at once, starting none after `budgetMs`. */
async function runBounded<T, R>(items: readonly T[], limit: number, budgetMs: number, work: (item: T) => Promise<R>): Promise<Array<R | undefined>> {
  const results: Array<R | undefined> = new Array(items.length).fill(undefined);
  const stopAt = Date.now() + budgetMs;
  let next = 0;
  const worker = async () => {
    while (next < items.length && Date.now() < stopAt) {
      const index = next;
      next += 1;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function describeFailure(fuzzCase: FuzzCase, outcome: Outcome, problem: string): string {
  return `case #${fuzzCase.index} (${fuzzCase.recipe}): ${problem}; ended by ${outcome.end} after ${outcome.ms} ms\n` +
    `  sent:     ${JSON.stringify(fuzzCase.bytes.slice(0, 600))}${fuzzCase.bytes.length > 600 ? ` (+${fuzzCase.bytes.length - 600} bytes)` : ''}\n` +
    `  received: ${JSON.stringify(outcome.text.slice(0, 600))}`;
}

test(`fuzz: ${CASES} mutated requests, seed ${SEED} (FUZZ_SEED, FUZZ_CASES to change)`, async (t) => {
  const sink = errorSink();
  let callbackCalls = 0;
  // Client ports whose connection carried an HTTP/0.9 request: only those may get the body alone.
  const nineOhPorts = new Set<number>();
  const { id, port } = await serve(t, async (request: HttpRequest) => {
    callbackCalls += 1;
    if (request.version === '0.9') nineOhPorts.add(request.remoteportnum);
    try {
      await request.datastream.text();
    } catch {
      // Malformed, oversized or broken-off bodies are expected here; the answer stays the same.
    }
    return { statuscode: 200, message: FIXED_BODY };
  }, { onError: sink.onError });

  const cases = generateCases(SEED, CASES);
  const started = Date.now();
  const outcomes = await runBounded(cases, CONCURRENCY, RUN_BUDGET_MS, async (fuzzCase) => {
    const exchange = await sendCase(port, fuzzCase.bytes, (localPort) => { if (localPort !== undefined) nineOhPorts.delete(localPort); });
    // Looked up now: a later case may get the same port.
    return { ...exchange, answeredAsNineOh: exchange.localPort !== undefined && nineOhPorts.has(exchange.localPort) };
  });
  const elapsed = Date.now() - started;

  const failures: string[] = [];
  const firstStatuses = new Map<string, number>();
  const endings = { closed: 0, reset: 0, timeout: 0 };
  let ran = 0;
  let slowest = 0;
  for (const fuzzCase of cases) {
    const outcome = outcomes[fuzzCase.index];
    if (outcome === undefined) continue;
    ran += 1;
    endings[outcome.end] += 1;
    slowest = Math.max(slowest, outcome.ms);
    const first = outcome.text === '' ? 'nothing' : outcome.text === FIXED_BODY ? 'HTTP/0.9 body' : outcome.text.slice(9, 12);
    firstStatuses.set(first, (firstStatuses.get(first) ?? 0) + 1);
    const problem = outcomeProblem(outcome);
    if (problem !== undefined) failures.push(describeFailure(fuzzCase, outcome, problem));
  }

  t.diagnostic(`seed ${SEED}: ${ran} of ${cases.length} cases in ${elapsed} ms, slowest ${slowest} ms, ` +
    `${callbackCalls} reached the callback; ended by close ${endings.closed}, reset ${endings.reset}, our timeout ${endings.timeout}`);
  t.diagnostic(`first answers: ${[...firstStatuses].sort((a, b) => b[1] - a[1]).map(([what, n]) => `${what} x${n}`).join(', ')}`);
  t.diagnostic(`onError reports: ${sink.errors.length}`);
  if (ran < cases.length) t.diagnostic(`time budget of ${RUN_BUDGET_MS} ms ran out: ${cases.length - ran} cases not sent`);

  assert.equal(failures.length, 0,
    `${failures.length} of ${ran} cases got a malformed answer (rerun with FUZZ_SEED=${SEED} FUZZ_CASES=${CASES}):\n` +
    failures.slice(0, SHOWN_FAILURES).join('\n'));

  // The server survived all of it and still answers a normal request.
  assert.ok(listCallbacks().includes(id), 'the listener is gone');
  const healthy = await ask(port, '/after-fuzzing');
  assert.equal(healthy.statusLine, 'HTTP/1.1 200 OK');
  assert.equal(healthy.body, FIXED_BODY);

  // Malformed traffic is the client's fault: anything else reported is a bug in the library.
  const bugs = sink.errors.filter((error) => !isClientFault(error));
  assert.deepEqual(bugs.map((error) => `${error.name} ${String((error as { code?: unknown }).code)}: ${error.message}`), [],
    `onError received ${bugs.length} reports that are not client faults; first stack:\n${bugs[0]?.stack ?? ''}`);
});

/** The judge above must be able to say no, or the fuzz test proves nothing. */
test('the transcript judge accepts well-formed answers and rejects broken ones', () => {
  const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi';
  const badRequest = 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
  const accepted = [
    '', ok, ok + badRequest, `HTTP/1.1 100 Continue\r\n\r\n${ok}`, 'HTTP/1.1 100 Continue\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi', // a HEAD answer first
  ];
  for (const text of accepted) assert.equal(transcriptProblem(text, false, false), undefined, JSON.stringify(text));
  const rejected = [
    'garbage', 'HTTP/1.1 200\r\n\r\n', 'HTTP/2.0 200 OK\r\n\r\n', 'HTTP/1.1 600 Odd\r\n\r\n',
    'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n', 'HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n',
    // An error status written into the middle of a response body.
    `HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nhi${badRequest}`,
    // A response cut short on a connection that closed cleanly.
    'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhi', 'HTTP/1.1 200 OK\r\nContent-Le',
    `${ok}junk`, `${ok}${FIXED_BODY}x`, `${FIXED_BODY}x`,
  ];
  for (const text of rejected) assert.notEqual(transcriptProblem(text, false, true), undefined, JSON.stringify(text));
  // The body alone is an answer only to an HTTP/0.9 request line.
  assert.equal(transcriptProblem(FIXED_BODY, false, true), undefined);
  assert.equal(transcriptProblem(ok + FIXED_BODY, false, true), undefined);
  assert.notEqual(transcriptProblem(FIXED_BODY, false, false), undefined);
  // After a reset or our own timeout, only the last response may be cut.
  assert.equal(transcriptProblem('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhi', true, false), undefined);
  assert.equal(transcriptProblem('HTTP/1.', true, false), undefined);
  assert.notEqual(transcriptProblem('HTTP/2.', true, false), undefined);
  assert.notEqual(outcomeProblem({ text: '', localPort: 1, answeredAsNineOh: false, end: 'timeout', ms: CASE_WAIT_MS }), undefined);
  assert.equal(outcomeProblem({ text: '', localPort: 1, answeredAsNineOh: false, end: 'closed', ms: 1 }), undefined);
});

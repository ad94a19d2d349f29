/**
 * Soak test: does seattle-httpserver stay correct and keep its memory flat
 * over a million requests and a hundred thousand failures?
 *
 * The server (bench/soak-server.ts) runs in a child process started with
 * --expose-gc; after each phase it collects garbage and reports its heap
 * over IPC. Load comes from this process, on 127.0.0.1 only:
 *
 *   keep-alive   --requests GETs (default 1,000,000) over --connections
 *                keep-alive connections (default 100) with autocannon:
 *                every answer a 200 with the right body, no errors
 *   malformed    --malformed raw requests (default 100,000) that the parser
 *                refuses, --concurrency at once (default 100): each must
 *                get a 4xx status line, then the server must close
 *   throwing     --throws GETs (default 100,000) of a route whose callback
 *                throws, with autocannon: every answer a 500, no socket
 *                errors, each failure reported to onError exactly once
 *
 * A warm-up of each kind comes first, then the baseline heap. A phase
 * passes when its checks hold and the heap after it (and a full GC) is
 * within --max-heap-growth-mib (default 5) of the baseline. Prints a table
 * and a one-line JSON summary; exits 1 on any failure.
 *
 * A server that closes keep-alive connections now and then (a per-connection
 * request cap answering `Connection: close`) is not at fault: autocannon
 * reconnects, but the request it had already written to the closing
 * connection goes unanswered, and when that request meets the closed socket
 * the reset is counted in autocannon's `errors`. Both are counted apart and
 * allowed up to one each per response that announced the close.
 *
 *   node dist/bench/soak.js [--requests N] [--connections N] [--malformed N]
 *     [--throws N] [--concurrency N] [--max-heap-growth-mib N] [--max-seconds N]
 * Each flag also reads SOAK_<NAME> from the environment (SOAK_REQUESTS, ...),
 * so that `SOAK_REQUESTS=100000 make soak` works; a flag wins.
 */
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { stopChild } from './child.js';
import { HELLO, THROW_PATH, type MeasureRequest, type ServerMessage } from './soak-server.js';

const MIB = 1024 * 1024;

/**
 * Requests Node's parser refuses before any callback runs, each answered
 * with a 4xx and a closed connection. Only refusals the parser itself
 * makes: stricter checks the library may add later must not change them.
 */
const MALFORMED: ReadonlyArray<{ name: string; bytes: string }> = [
  { name: 'header line without a colon', bytes: 'GET / HTTP/1.1\r\nHost: soak\r\nThis is not a header\r\n\r\n' },
  { name: 'HTTP/1.1 without Host', bytes: 'GET / HTTP/1.1\r\nUser-Agent: soak\r\n\r\n' },
  { name: 'invalid method', bytes: 'N@T-A-METHOD / HTTP/1.1\r\nHost: soak\r\n\r\n' },
  { name: 'two different Content-Length', bytes: 'POST / HTTP/1.1\r\nHost: soak\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n' },
  { name: 'NUL in a header value', bytes: 'GET / HTTP/1.1\r\nHost: soak\r\nX-Nul: a\0b\r\n\r\n' },
  { name: 'control byte in the target', bytes: 'GET /a\x7fb HTTP/1.1\r\nHost: soak\r\n\r\n' },
  { name: 'invalid version', bytes: 'GET / HTTP/1.x\r\nHost: soak\r\n\r\n' },
  { name: 'Content-Length and chunked', bytes: 'POST / HTTP/1.1\r\nHost: soak\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n' },
  // 20 KiB of header: over the 16 KiB default maxHeaderSize, answered 431.
  { name: 'oversized head', bytes: `GET / HTTP/1.1\r\nHost: soak\r\nX-Big: ${'b'.repeat(20 * 1024)}\r\n\r\n` },
];

/** How long one malformed request may wait for its answer and the close. */
const MALFORMED_WAIT_MS = 5000;
/** How long the server gets to notice closed connections before a measurement. */
const SETTLE_MS = 5000;

interface Settings {
  requests: number;
  connections: number;
  malformed: number;
  throws: number;
  concurrency: number;
  maxHeapGrowthMib: number;
  maxSeconds: number;
}

/** What the server child measures after a GC. */
type Measurement = Omit<Extract<ServerMessage, { type: 'measure' }>, 'type'>;

/** One phase's figures, one row of the table. */
interface PhaseFigures {
  phase: string;
  sent: number;
  answered: number;
  seconds: number;
  p99Ms: number | undefined;
  statuses: Record<string, number>;
  /** Requests written to a connection the server announced it would close, left unanswered (see the top). */
  unansweredOnClose: number;
  /** Resets autocannon counted as errors on such connections (see the top). */
  resetsOnClose: number;
  failures: string[];
  heapMib?: number;
  growthMib?: number;
  openSockets?: number;
}

const FLAGS = {
  requests: 1_000_000,
  connections: 100,
  malformed: 100_000,
  throws: 100_000,
  concurrency: 100,
  'max-heap-growth-mib': 5,
  'max-seconds': 1800,
} as const;

function readSettings(): Settings {
  const { values } = parseArgs({
    options: Object.fromEntries(Object.keys(FLAGS).map((name) => [name, { type: 'string' as const }])),
  });
  const read = (name: keyof typeof FLAGS): number => {
    const envName = `SOAK_${name.toUpperCase().replaceAll('-', '_')}`;
    const text = (values[name] as string | undefined) ?? process.env[envName];
    if (text === undefined || text === '') return FLAGS[name];
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} (${envName}) must be a positive integer, got ${text}`);
    return value;
  };
  const settings = {
    requests: read('requests'),
    connections: read('connections'),
    malformed: read('malformed'),
    throws: read('throws'),
    concurrency: read('concurrency'),
    maxHeapGrowthMib: read('max-heap-growth-mib'),
    maxSeconds: read('max-seconds'),
  };
  // Both loads come from 127.0.0.1: stay under the default maxConnectionsPerPeer (256), with room for closing ones.
  if (settings.connections > 200 || settings.concurrency > 200) throw new Error('--connections and --concurrency must stay at or below 200');
  return settings;
}

/** Starts soak-server.js with --expose-gc and waits (at most 10 s) for its port. */
function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(join(__dirname, 'soak-server.js'), [], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('the soak server did not start within 10 s')), 10_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const onExit = (code: number | null) => fail(new Error(`the soak server exited with ${code} before listening`));
    child.once('exit', onExit);
    child.once('message', (message: ServerMessage) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      if (message.type === 'listening') resolve({ child, port: message.port });
      else reject(new Error(`unexpected first message ${JSON.stringify(message)}`));
    });
  });
}

/** Asks the child for a measurement after garbage collection (at most 10 s). */
function measureOnce(child: ChildProcess): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.off('message', onMessage); reject(new Error('no measurement within 10 s')); }, 10_000);
    const onMessage = (message: ServerMessage) => {
      if (message.type !== 'measure') return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.send({ type: 'measure' } satisfies MeasureRequest);
  });
}

/** Measures once the server has let go of every connection, or after SETTLE_MS. */
async function measureSettled(child: ChildProcess): Promise<Measurement> {
  const until = Date.now() + SETTLE_MS;
  let measurement = await measureOnce(child);
  while (measurement.openSockets > 0 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    measurement = await measureOnce(child);
  }
  return measurement;
}

/** Keep-alive load with autocannon: every answer must be `status`, and `body` when given. */
async function loadPhase(
  phase: string, url: string, amount: number, connections: number, status: number, body: string | undefined,
): Promise<PhaseFigures> {
  let announcedCloses = 0;
  const errorCodes = new Map<string, number>();
  const instance = autocannon({
    url,
    connections,
    amount,
    pipelining: 1,
    timeout: 10,
    ...(body === undefined ? {} : { expectBody: body }),
    setupClient: (client) => client.on('headers', (head) => { if (!head.shouldKeepAlive) announcedCloses += 1; }),
  });
  instance.on('reqError', (error) => {
    const code = error.code ?? error.message;
    errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
  });
  // Bounded in time as well as count: at least 500 requests a second, or the phase is cut and fails.
  const capSeconds = Math.max(60, Math.ceil(amount / 500));
  let cut = false;
  const cap = setTimeout(() => { cut = true; instance.stop(); }, capSeconds * 1000);
  const result = await instance;
  clearTimeout(cap);

  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, Number(count)]));
  const unanswered = result.requests.sent - result.requests.total;
  const failures: string[] = [];
  if (cut) failures.push(`not finished within ${capSeconds} s`);
  // One announced close can cost one reset (the request already written meets a closed socket), no more.
  const resets = (errorCodes.get('ECONNRESET') ?? 0) + (errorCodes.get('EPIPE') ?? 0);
  const resetsOnClose = Math.min(resets, announcedCloses);
  if (result.errors - resetsOnClose > 0 || result.timeouts > 0) {
    failures.push(`${result.errors} errors (${resetsOnClose} of them resets on announced closes), ${result.timeouts} timeouts ` +
      `(${[...errorCodes].map(([c, n]) => `${c} x${n}`).join(', ')})`);
  }
  if (result.mismatches > 0) failures.push(`${result.mismatches} bodies differ from ${JSON.stringify(body)}`);
  const unexpected = Object.keys(statuses).filter((code) => code !== String(status));
  if (unexpected.length > 0) failures.push(`statuses other than ${status}: ${unexpected.join(', ')}`);
  if (unanswered > announcedCloses) failures.push(`${unanswered} requests unanswered, only ${announcedCloses} closes announced`);
  if (!cut && result.requests.sent < amount) failures.push(`only ${result.requests.sent} of ${amount} requests sent`);
  return {
    phase,
    sent: result.requests.sent,
    answered: result.requests.total,
    seconds: result.duration,
    p99Ms: result.latency.p99,
    statuses,
    unansweredOnClose: Math.min(unanswered, announcedCloses),
    resetsOnClose,
    failures,
  };
}

/** Sends `bytes` without half-closing: the server must answer and close on its own. */
function sendMalformed(port: number, bytes: string): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), MALFORMED_WAIT_MS);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A reset after the answer is still the server closing.
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => socket.write(Buffer.from(bytes, 'latin1')));
  });
}

/** `total` malformed requests, `concurrency` at once, each on its own connection. */
async function malformedPhase(phase: string, port: number, total: number, concurrency: number): Promise<PhaseFigures> {
  const statuses: Record<string, number> = {};
  const failures: string[] = [];
  let bad = 0;
  let sent = 0;
  let answered = 0;
  const started = Date.now();
  // Bounded in time as well as count: at least 200 a second, or the phase is cut and fails.
  const stopAt = started + Math.max(60, Math.ceil(total / 200)) * 1000;
  const worker = async () => {
    while (sent < total && Date.now() < stopAt) {
      const request = MALFORMED[sent % MALFORMED.length]!;
      sent += 1;
      const { text, closed } = await sendMalformed(port, request.bytes);
      const status = /^HTTP\/1\.[01] (\d{3}) [^\r\n]*\r\n/.exec(text)?.[1];
      if (status !== undefined) answered += 1;
      statuses[status ?? 'none'] = (statuses[status ?? 'none'] ?? 0) + 1;
      if (status?.startsWith('4') && closed) continue;
      bad += 1;
      if (failures.length < 3) {
        failures.push(`${request.name}: got ${JSON.stringify(text.slice(0, 120))}${closed ? '' : `, still open after ${MALFORMED_WAIT_MS} ms`}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (sent < total) failures.unshift(`only ${sent} of ${total} sent in the time allowed`);
  if (bad > 0) failures.unshift(`${bad} without a 4xx answer and close`);
  return {
    phase, sent, answered, seconds: (Date.now() - started) / 1000, p99Ms: undefined, statuses,
    unansweredOnClose: 0, resetsOnClose: 0, failures,
  };
}

const mib = (bytes: number) => bytes / MIB;

/** The table's columns: header, width, and how a phase fills it. */
const COLUMNS: ReadonlyArray<readonly [header: string, width: number, cell: (f: Partial<PhaseFigures>) => string]> = [
  ['sent', 9, (f) => String(f.sent ?? '')],
  ['answered', 9, (f) => String(f.answered ?? '')],
  ['seconds', 8, (f) => f.seconds?.toFixed(1) ?? ''],
  ['req/s', 7, (f) => (f.seconds && f.answered !== undefined ? (f.answered / f.seconds).toFixed(0) : '')],
  ['p99 ms', 7, (f) => (f.p99Ms === undefined ? '' : String(f.p99Ms))],
  ['heap MiB', 9, (f) => f.heapMib?.toFixed(2) ?? ''],
  ['growth', 7, (f) => (f.growthMib === undefined ? '' : `${f.growthMib >= 0 ? '+' : ''}${f.growthMib.toFixed(2)}`)],
  ['sockets', 8, (f) => String(f.openSockets ?? '')],
];

function printHeader(): void {
  console.log(`${'phase'.padEnd(11)}${COLUMNS.map(([header, width]) => header.padStart(width)).join('')}  result  statuses`);
}

function printRow(figures: Partial<PhaseFigures> & { phase: string }): void {
  const statuses = Object.entries(figures.statuses ?? {}).map(([code, n]) => `${code}x${n}`).join(' ');
  const result = figures.failures === undefined ? '' : figures.failures.length === 0 ? 'ok' : 'FAIL';
  console.log(`${figures.phase.padEnd(11)}${COLUMNS.map(([, width, cell]) => cell(figures).padStart(width)).join('')}  ` +
    `${result.padEnd(6)}  ${statuses}`);
  for (const failure of figures.failures ?? []) console.log(`           ${failure}`);
}

async function main(): Promise<number> {
  const settings = readSettings();
  let child: ChildProcess | undefined;
  // Whatever happens, nothing outlives the soak by more than this.
  const deadline = setTimeout(() => {
    console.error(`Soak took longer than ${settings.maxSeconds} s: stopping.`);
    child?.kill('SIGKILL');
    process.exit(1);
  }, settings.maxSeconds * 1000);
  deadline.unref();

  const started = Date.now();
  try {
    const server = await startServer();
    child = server.child;
    const base = `http://127.0.0.1:${server.port}`;
    console.log(`node ${process.version}, ${os.cpus().length} CPUs; server pid ${child.pid} on ${base}`);
    console.log(`keep-alive ${settings.requests} requests over ${settings.connections} connections; ` +
      `${settings.malformed} malformed (${settings.concurrency} at once); ${settings.throws} throwing; ` +
      `heap growth allowed ${settings.maxHeapGrowthMib} MiB\n`);

    // Warm-up: every path once at some volume, so that JIT code and lazily built state exist before the baseline.
    const warmUp = [
      await loadPhase('warm-up', `${base}/`, Math.min(20_000, settings.requests), settings.connections, 200, HELLO),
      await malformedPhase('warm-up', server.port, Math.min(2_000, settings.malformed), settings.concurrency),
      await loadPhase('warm-up', `${base}${THROW_PATH}`, Math.min(2_000, settings.throws), settings.connections, 500, undefined),
    ];
    const warmUpFailures = warmUp.flatMap((figures) => figures.failures);
    const baseline = await measureSettled(child);
    const baselineReports = baseline.deliberateReports;

    printHeader();
    printRow({ phase: 'baseline', heapMib: mib(baseline.heapUsed) });
    const phases: PhaseFigures[] = [];
    let reportsBefore = baselineReports;
    const run = async (figures: PhaseFigures, deliberateExpected: (figures: PhaseFigures) => number) => {
      const after = await measureSettled(child!);
      figures.heapMib = mib(after.heapUsed);
      figures.growthMib = mib(after.heapUsed - baseline.heapUsed);
      figures.openSockets = after.openSockets;
      if (figures.growthMib > settings.maxHeapGrowthMib) {
        figures.failures.push(`heap grew ${figures.growthMib.toFixed(2)} MiB over the baseline (allowed ${settings.maxHeapGrowthMib})`);
      }
      if (after.openSockets > 0) figures.failures.push(`${after.openSockets} connections still open ${SETTLE_MS} ms after the load`);
      const reports = after.deliberateReports - reportsBefore;
      if (reports !== deliberateExpected(figures)) {
        figures.failures.push(`${reports} failures reported to onError for ${deliberateExpected(figures)} 500s`);
      }
      if (after.otherReports > 0) figures.failures.push(`unexpected onError reports: ${after.otherSamples.join(' | ')}`);
      reportsBefore = after.deliberateReports;
      phases.push(figures);
      printRow(figures);
    };
    await run(await loadPhase('keep-alive', `${base}/`, settings.requests, settings.connections, 200, HELLO), () => 0);
    await run(await malformedPhase('malformed', server.port, settings.malformed, settings.concurrency), () => 0);
    await run(await loadPhase('throwing', `${base}${THROW_PATH}`, settings.throws, settings.connections, 500, undefined),
      (figures) => figures.statuses['500'] ?? 0);

    const unansweredOnClose = phases.reduce((sum, figures) => sum + figures.unansweredOnClose, 0);
    const resetsOnClose = phases.reduce((sum, figures) => sum + figures.resetsOnClose, 0);
    if (unansweredOnClose > 0 || resetsOnClose > 0) {
      console.log(`\nOn connections the server had announced it would close: ${unansweredOnClose} requests unanswered ` +
        `(autocannon had already written them) and ${resetsOnClose} resets counted as autocannon errors; allowed, see bench/soak.ts.`);
    }
    if (warmUpFailures.length > 0) console.log(`\nwarm-up failures: ${warmUpFailures.join('; ')}`);
    const ok = warmUpFailures.length === 0 && phases.every((figures) => figures.failures.length === 0);
    console.log(`\n${ok ? 'PASS' : 'FAIL'} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    console.log(JSON.stringify({
      soak: ok ? 'pass' : 'fail',
      node: process.version,
      seconds: Math.round((Date.now() - started) / 1000),
      baselineHeapMib: Number(mib(baseline.heapUsed).toFixed(2)),
      maxHeapGrowthMib: settings.maxHeapGrowthMib,
      warmUpFailures,
      phases: phases.map((figures) => ({
        ...figures,
        heapMib: Number(figures.heapMib?.toFixed(2)),
        growthMib: Number(figures.growthMib?.toFixed(2)),
        requestsPerSecond: Math.round(figures.answered / figures.seconds),
      })),
    }));
    return ok ? 0 : 1;
  } finally {
    clearTimeout(deadline);
    if (child !== undefined) await stopChild(child);
  }
}


main().then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);

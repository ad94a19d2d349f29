/**
 * Static files: how fast serveDirectory serves a small file (req/s) and a
 * large one (MiB/s), next to
 *   A  raw node:http + fs.createReadStream (the floor any Node server pays),
 *   B  seattle-httpserver's serveDirectory (path checks, ETag, conditional
 *      and range logic, compression negotiation, the request dictionary),
 *   C  sirv on node:http (a popular static middleware).
 *
 * As in bench/suite.ts, each server runs in a child process of its own and
 * autocannon drives them from this process in interleaved rounds
 * (A, B, C, A, B, C, ...), so drift in the machine's speed touches all
 * alike; the figures to quote are the medians of the per-round ratios B/A
 * and B/C, with their spread. Neither client sends Accept-Encoding, so every
 * server sends the files as they are. The large file is fetched with
 * node:http's client rather than autocannon (see measureLarge).
 *
 *   node dist/bench/static.js [--rounds 5] [--duration 3] [--connections 50] [--large-connections 2]
 */
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import sirv from 'sirv';
import { forkServer, medianOf, positiveInteger, stopChild } from './child.js';
import { getAddress, registerCallback, serveDirectory } from '../lib/index.js';

const SMALL_SIZE = 1024;
const LARGE_SIZE = 64 * 1024 * 1024;
const MiB = 1024 * 1024;

/** ASCII, so that autocannon's expectBody (a string comparison) checks every small response. */
const SMALL_BODY = Array.from({ length: SMALL_SIZE }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');

const SERVERS = {
  /** A: the floor. A stat per request (a static server must notice changed files), then a piped read stream. */
  'node:http': async (root: string): Promise<number> => {
    const server = http.createServer((req, res) => {
      const file = path.join(root, path.basename(req.url ?? '/'));
      stat(file).then(
        async (info) => {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': info.size });
          await pipeline(createReadStream(file), res);
        },
        () => {
          res.writeHead(404).end();
        },
      ).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  },
  /** B: the library under test, with its defaults. */
  'seattle-httpserver': async (root: string): Promise<number> => {
    const id = await registerCallback(['127.0.0.1', 0], serveDirectory({ root }));
    return getAddress(id).port;
  },
  /** C: sirv with its defaults (production mode: it indexes the directory once at start-up). */
  sirv: async (root: string): Promise<number> => {
    const handler = sirv(root);
    const server = http.createServer((req, res) => handler(req, res, () => { res.writeHead(404).end(); }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  },
};
type ServerName = keyof typeof SERVERS;
const NAMES = Object.keys(SERVERS) as ServerName[];
const [A, B, C] = NAMES as [ServerName, ServerName, ServerName];

interface Workload {
  name: 'small' | 'large';
  file: string;
  connections: number;
  /** What one round reports: req/s for the small file, MiB/s for the large one. */
  unit: string;
}

interface Round {
  server: ServerName;
  workload: Workload['name'];
  /** req/s or MiB/s, per the workload's unit. */
  value: number;
  p99: number;
  errors: number;
}

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    root: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    'large-connections': { type: 'string', default: '2' },
  },
});

if (values.serve !== undefined) {
  serveInChild(values.serve, values.root);
} else {
  main().then(
    (code) => { process.exitCode = code; },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

/** Child side: start one server on `root`, tell the parent its port, live as long as the parent does. */
function serveInChild(name: string, root: string | undefined): void {
  const start = SERVERS[name as ServerName];
  if (start === undefined || root === undefined || process.send === undefined) {
    throw new Error(`Unknown server ${name}, no --root, or not forked`);
  }
  // The IPC channel closes when the parent goes, however it goes: so do we.
  process.on('disconnect', () => process.exit(0));
  start(root).then((port) => process.send!({ port }));
}

async function main(): Promise<number> {
  const rounds = positiveInteger('rounds', values.rounds!);
  const duration = positiveInteger('duration', values.duration!);
  const workloads: Workload[] = [
    { name: 'small', file: 'small.bin', connections: positiveInteger('connections', values.connections!), unit: 'req/s' },
    { name: 'large', file: 'large.bin', connections: positiveInteger('large-connections', values['large-connections']!), unit: 'MiB/s' },
  ];

  const root = mkdtempSync(path.join(os.tmpdir(), 'seattle-bench-static-'));
  const large = randomBytes(LARGE_SIZE);
  writeFileSync(path.join(root, 'small.bin'), SMALL_BODY);
  writeFileSync(path.join(root, 'large.bin'), large);
  const largeDigest = createHash('sha256').update(large).digest('hex');

  const children: ChildProcess[] = [];
  // Whatever happens, no server outlives the benchmark by more than this.
  const deadline = setTimeout(() => {
    console.error('Benchmark took too long: stopping.');
    for (const child of children) child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    process.exit(1);
  }, (NAMES.length * workloads.length * (rounds + 1) * (duration + 5) + 60) * 1000);
  deadline.unref();

  try {
    const urls = {} as Record<ServerName, string>;
    for (const name of NAMES) {
      const { child, port } = await forkServer(__filename, ['--serve', name, '--root', root], name);
      children.push(child);
      urls[name] = `http://127.0.0.1:${port}/`;
    }
    // Figures from a server that sends the wrong bytes would mean nothing: check each once.
    for (const name of NAMES) {
      const small = await fetch(`${urls[name]}small.bin`);
      const bytes = Buffer.from(await (await fetch(`${urls[name]}large.bin`)).arrayBuffer());
      if ((await small.text()) !== SMALL_BODY || createHash('sha256').update(bytes).digest('hex') !== largeDigest) {
        throw new Error(`${name} does not serve the fixture's bytes`);
      }
    }

    console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'})`);
    console.log(
      `${rounds} rounds, ${duration} s per server and file, keep-alive; ` +
      `${SMALL_SIZE} B file with ${workloads[0]!.connections} connections, ` +
      `${LARGE_SIZE / MiB} MiB file with ${workloads[1]!.connections} connections\n`,
    );

    // A short warm-up per server and file lets V8 optimise before anything is counted.
    for (const workload of workloads) {
      for (const name of NAMES) await measure(name, urls[name], workload, 1);
    }

    const results: Round[] = [];
    // p99: of the request latencies for the small file, of whole-response times for the large one.
    console.log('round  file   server                   value  unit    p99 ms  errors');
    for (let round = 1; round <= rounds; round += 1) {
      for (const workload of workloads) {
        for (const name of NAMES) {
          const result = await measure(name, urls[name], workload, duration);
          results.push(result);
          console.log(
            `${String(round).padStart(5)}  ${workload.name.padEnd(6)} ${name.padEnd(18)} ${result.value.toFixed(0).padStart(11)}  ` +
            `${workload.unit.padEnd(6)} ${result.p99.toFixed(1).padStart(7)} ${String(result.errors).padStart(7)}`,
          );
        }
      }
    }
    return summarise(results, workloads);
  } finally {
    clearTimeout(deadline);
    await Promise.all(children.map((child) => stopChild(child)));
    rmSync(root, { recursive: true, force: true });
  }
}

async function measure(server: ServerName, base: string, workload: Workload, duration: number): Promise<Round> {
  if (workload.name === 'large') return measureLarge(server, `${base}${workload.file}`, workload.connections, duration);
  const result = await autocannon({
    url: `${base}${workload.file}`,
    connections: workload.connections,
    duration,
    pipelining: 1,
    expectBody: SMALL_BODY,
  });
  return {
    server,
    workload: workload.name,
    value: result.requests.total / result.duration,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx + result.mismatches,
  };
}

/**
 * MiB/s for the large file, counted as bytes arrive. autocannon counts a
 * response's bytes only once it is complete, and a 64 MiB response takes
 * a good part of a second: a 3 s round would be measured in whole
 * responses, a few at most. Here `connections` keep-alive connections
 * each ask for the file again and again; every chunk received inside the
 * window counts, and what is in flight when it closes is cut off.
 */
async function measureLarge(server: ServerName, url: string, connections: number, duration: number): Promise<Round> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const inFlight = new Set<http.ClientRequest>();
  const times: number[] = [];
  let bytes = 0;
  let errors = 0;
  let stopped = false;

  const fetchOnce = () => new Promise<void>((resolve) => {
    const started = performance.now();
    const request = http.get(url, { agent }, (response) => {
      if (response.statusCode !== 200) errors += 1;
      response.on('data', (chunk: Buffer) => { if (!stopped) bytes += chunk.length; });
      response.on('end', () => { if (!stopped) times.push(performance.now() - started); });
      response.on('error', () => { /* cut off at the end of the window; 'close' follows */ });
      response.on('close', () => resolve());
    });
    inFlight.add(request);
    request.on('close', () => inFlight.delete(request));
    request.on('error', () => {
      if (!stopped) errors += 1;
      resolve();
    });
  });
  const client = async () => {
    while (!stopped) await fetchOnce();
  };

  const start = performance.now();
  let end = start;
  const window = new Promise<void>((resolve) => setTimeout(() => {
    stopped = true;
    end = performance.now();
    for (const request of inFlight) request.destroy();
    resolve();
  }, duration * 1000));
  await Promise.all([window, ...Array.from({ length: connections }, client)]);
  agent.destroy();

  const sorted = times.sort((x, y) => x - y);
  return {
    server,
    workload: 'large',
    value: bytes / MiB / ((end - start) / 1000),
    p99: sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!,
    errors,
  };
}

function summarise(results: Round[], workloads: Workload[]): number {
  console.log('');
  for (const workload of workloads) {
    const of = (server: ServerName) => results.filter((r) => r.workload === workload.name && r.server === server).map((r) => r.value);
    const [a, b, c] = [of(A), of(B), of(C)];
    console.log(`${workload.name} file (${workload.unit}): ` + NAMES.map((name) => `${name} median ${medianOf(of(name)).toFixed(0)}`).join(', '));
    for (const [label, other] of [[`${B} / ${A}`, a], [`${B} / ${C}`, c]] as const) {
      const ratios = b.map((value, round) => value / other[round]!);
      const sorted = [...ratios].sort((x, y) => x - y);
      console.log(
        `  ratio ${label}: median ${medianOf(ratios).toFixed(3)} (spread ${sorted[0]!.toFixed(3)} .. ${sorted.at(-1)!.toFixed(3)}; ` +
        `rounds ${ratios.map((r) => r.toFixed(3)).join(' ')})`,
      );
    }
  }
  const errors = results.reduce((sum, round) => sum + round.errors, 0);
  if (errors > 0) {
    console.error(`${errors} failed or unexpected responses: the figures above are not trustworthy.`);
    return 1;
  }
  return 0;
}


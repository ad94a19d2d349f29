/**
 * Memory (`npm run bench:memory`, also run by `make bench`), measured in the
 * server process after a full garbage collection (bench/memory-server.ts,
 * forked with --expose-gc), for seattle-httpserver and raw node:http:
 *
 *   idle keep-alive connections  --connections (default 1,000) connections,
 *       one request each, then left idle: heap and RSS grown, per connection;
 *   heap growth  heap before and after --requests (default 1,000,000)
 *       keep-alive requests from wrk (50 connections), after a warm-up.
 *
 * seattle-httpserver's target: heap growth after 1,000,000 requests under
 * 5 MiB. `make soak` measures the same growth with failures mixed in.
 *
 *   node dist/bench/memory.js [--connections 1000] [--requests 1000000] [--markdown]
 */
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { forkServer, guardBenchmark, positiveInteger, stopChild } from './child.js';
import { describeMachine } from './machine.js';
import type { MemoryMessage, MemoryRequest } from './memory-server.js';
import { HELLO } from './scenarios.js';
import { markdownTable, textTable } from './table.js';
import { startWrk, stopAllWrk, wrkErrors } from './wrk.js';

const MiB = 1024 * 1024;
const IMPLEMENTATIONS = ['node:http', 'seattle-httpserver'] as const;
const MAX_HEAP_GROWTH_MIB = 5;
/** Connections opened at once: a listen backlog holds fewer than a thousand. */
const CONNECT_BATCH = 100;
/** How long the server gets to notice closed connections before a measurement. */
const SETTLE_MS = 5000;

type Measurement = Extract<MemoryMessage, { type: 'measure' }>;

interface Figures {
  impl: string;
  heapPerConnection: number;
  rssPerConnection: number;
  idleSockets: number;
  heapBefore: number;
  heapAfter: number;
  requests: number;
  seconds: number;
  errors: number;
}

const children = new Set<ChildProcess>();

/** The next message of `type` from the child, at most `ms` from now. */
function nextMessage<T extends MemoryMessage['type']>(child: ChildProcess, type: T, ms: number): Promise<Extract<MemoryMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no ${type} message within ${ms / 1000} s`));
    }, ms);
    // The child's exit or the benchmark's deadline ends a wait too: the timer alone must not hold the process.
    timer.unref();
    const onMessage = (message: MemoryMessage) => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as Extract<MemoryMessage, { type: T }>);
    };
    child.on('message', onMessage);
  });
}

function ask(child: ChildProcess, request: MemoryRequest): void {
  child.send(request);
}

async function measure(child: ChildProcess): Promise<Measurement> {
  const answer = nextMessage(child, 'measure', 10_000);
  ask(child, { type: 'measure' });
  return answer;
}

/** Measures once the server holds exactly `sockets` connections, or after SETTLE_MS. */
async function measureWith(child: ChildProcess, sockets: number): Promise<Measurement> {
  const until = Date.now() + SETTLE_MS;
  let measurement = await measure(child);
  while (measurement.openSockets !== sockets && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    measurement = await measure(child);
  }
  return measurement;
}

/** One request on a keep-alive connection of its own; the agent then keeps the connection, idle. */
function openIdleConnection(port: number): Promise<http.Agent> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => (body === HELLO ? resolve(agent) : reject(new Error(`unexpected answer ${body}`))));
    }).on('error', reject);
  });
}

async function idleConnections(child: ChildProcess, port: number, connections: number) {
  const before = await measureWith(child, 0);
  const agents: http.Agent[] = [];
  try {
    for (let opened = 0; opened < connections; opened += CONNECT_BATCH) {
      const batch = Math.min(CONNECT_BATCH, connections - opened);
      agents.push(...await Promise.all(Array.from({ length: batch }, () => openIdleConnection(port))));
    }
    const after = await measureWith(child, connections);
    return {
      heapPerConnection: (after.heapUsed - before.heapUsed) / connections,
      rssPerConnection: (after.rss - before.rss) / connections,
      idleSockets: after.openSockets,
    };
  } finally {
    for (const agent of agents) agent.destroy();
  }
}

/** wrk until the server has answered `requests` more (it says so over IPC), with the heap before and after. */
async function heapGrowth(child: ChildProcess, port: number, requests: number) {
  const before = await measureWith(child, 0);
  // Long enough at 2,000 req/s, a tenth of what this machine does: wrk is stopped at the count, not by this.
  const duration = Math.max(60, Math.ceil(requests / 2000));
  const reached = nextMessage(child, 'reached', duration * 1000);
  reached.catch(() => { /* wrk ended first: its result says why */ });
  ask(child, { type: 'notify', served: before.served + requests });
  const started = performance.now();
  const run = startWrk({ url: `http://127.0.0.1:${port}/`, method: 'GET', headers: {}, bodySize: 0, connections: 50, duration });
  await Promise.race([reached, run.result]);
  run.stop();
  const wrk = await run.result;
  const seconds = (performance.now() - started) / 1000;
  const after = await measureWith(child, 0);
  return { heapBefore: before.heapUsed, heapAfter: after.heapUsed, requests: after.served - before.served, seconds, errors: wrkErrors(wrk) };
}

async function measureImplementation(impl: string, connections: number, requests: number): Promise<Figures> {
  const { child, port } = await forkServer(
    `${__dirname}/memory-server.js`, ['--impl', impl, '--connections', String(connections)], impl, ['--expose-gc'],
  );
  children.add(child);
  try {
    // Code, caches and pools that appear on first use are not growth: warm up first.
    const warmUp = startWrk({ url: `http://127.0.0.1:${port}/`, method: 'GET', headers: {}, bodySize: 0, connections: 50, duration: 2 });
    await warmUp.result;
    const idle = await idleConnections(child, port, connections);
    const growth = await heapGrowth(child, port, requests);
    return { impl, ...idle, ...growth };
  } finally {
    await stopChild(child);
    children.delete(child);
  }
}

function report(figures: Figures[], connections: number, markdown: boolean): number {
  const head = [
    'server', `heap B / idle conn`, `RSS B / idle conn`, 'idle conns held', 'requests', 'req/s',
    'heap before MiB', 'heap after MiB', 'growth MiB', 'errors',
  ];
  const rows = figures.map((f) => [
    f.impl, f.heapPerConnection.toFixed(0), f.rssPerConnection.toFixed(0), `${f.idleSockets} / ${connections}`,
    String(f.requests), (f.requests / f.seconds).toFixed(0),
    (f.heapBefore / MiB).toFixed(2), (f.heapAfter / MiB).toFixed(2), ((f.heapAfter - f.heapBefore) / MiB).toFixed(2), String(f.errors),
  ]);
  console.log(textTable(head, rows));
  const seattle = figures.find((f) => f.impl === 'seattle-httpserver');
  const verdict = seattle === undefined ? undefined : (() => {
    const growth = (seattle.heapAfter - seattle.heapBefore) / MiB;
    return `seattle-httpserver heap growth after ${seattle.requests} requests: ${growth.toFixed(2)} MiB ` +
      `(target < ${MAX_HEAP_GROWTH_MIB} MiB: ${growth < MAX_HEAP_GROWTH_MIB ? 'yes' : 'NO'})`;
  })();
  if (verdict !== undefined) console.log(`\n${verdict}`);
  if (markdown) {
    console.log(`\n<!-- Markdown for bench/RESULTS.md -->\n\n${markdownTable(head, rows)}`);
    if (verdict !== undefined) console.log(`\n- ${verdict}`);
  }
  const bad = figures.filter((f) => f.errors > 0 || f.idleSockets !== connections);
  if (bad.length > 0) {
    console.error(`\n${bad.map((f) => f.impl).join(', ')}: errors, or idle connections lost: the figures above are not trustworthy.`);
    return 1;
  }
  return 0;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '1000' },
      requests: { type: 'string', default: '1000000' },
      markdown: { type: 'boolean', default: false },
    },
  });
  const connections = positiveInteger('connections', values.connections!);
  const requests = positiveInteger('requests', values.requests!);

  console.log(`command: node dist/bench/memory.js ${process.argv.slice(2).join(' ')}`.trimEnd());
  for (const line of describeMachine()) console.log(line);
  console.log(
    `Server memory after a full GC: ${connections} idle keep-alive connections (one request each), then ` +
    `${requests} keep-alive requests (wrk, 50 connections) after a 2 s warm-up; about ${Math.ceil(2 * (15 + requests / 20_000))} s.\n`,
  );

  const stopEverything = () => {
    stopAllWrk();
    for (const child of children) child.kill('SIGKILL');
  };
  const disarm = guardBenchmark(stopEverything, (IMPLEMENTATIONS.length * (60 + Math.max(60, requests / 2000)) + 60) * 1000, 'The memory benchmark took too long: stopping.');
  try {
    const figures: Figures[] = [];
    for (const impl of IMPLEMENTATIONS) figures.push(await measureImplementation(impl, connections, requests));
    return report(figures, connections, values.markdown!);
  } finally {
    disarm();
  }
}

main().then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    console.error(error);
    stopAllWrk();
    process.exitCode = 1;
  },
);

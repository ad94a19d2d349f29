/**
 * The first performance figure: how many "hello world" requests per second
 * seattle-httpserver answers, relative to raw node:http on the same machine
 * in the same run.
 *
 * Each server runs in a child process of its own; autocannon drives them
 * from this process in interleaved rounds (A, B, A, B, ...), so that drift in
 * the machine's speed touches both alike. The figure to quote is the median
 * of the per-round ratios B/A, with its spread.
 *
 *   node dist/bench/hello.js [--rounds 5] [--duration 3] [--connections 50]
 */
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { forkServer, medianOf, positiveInteger, stopChild } from './child.js';
import { registerCallback, getAddress } from '../lib/index.js';

const BODY = 'hello world\n';

/** The two servers under test, each started by `node dist/bench/hello.js --serve <name>`. */
const SERVERS = {
  /** A: the baseline, Node's own HTTP server with nothing in between. */
  'node:http': async (): Promise<number> => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': BODY.length });
      res.end(BODY);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  },
  /** B: the same answer through seattle-httpserver's request dictionary and response validation. */
  'seattle-httpserver': async (): Promise<number> => {
    const id = await registerCallback(['127.0.0.1', 0], () => ({
      statuscode: 200,
      headers: { 'Content-Type': 'text/plain' },
      message: BODY,
    }));
    return getAddress(id).port;
  },
};
type ServerName = keyof typeof SERVERS;
const NAMES = Object.keys(SERVERS) as ServerName[];

interface Round {
  name: ServerName;
  rps: number;
  p99: number;
  errors: number;
}

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
  },
});

if (values.serve !== undefined) {
  serveInChild(values.serve);
} else {
  main().then(
    (code) => { process.exitCode = code; },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

/** Child side: start one server, tell the parent its port, live as long as the parent does. */
function serveInChild(name: string): void {
  const start = SERVERS[name as ServerName];
  if (start === undefined || process.send === undefined) throw new Error(`Unknown server ${name}, or not forked`);
  // The IPC channel closes when the parent goes, however it goes: so do we.
  process.on('disconnect', () => process.exit(0));
  start().then((port) => process.send!({ port }));
}

async function main(): Promise<number> {
  const rounds = positiveInteger('rounds', values.rounds!);
  const duration = positiveInteger('duration', values.duration!);
  const connections = positiveInteger('connections', values.connections!);

  const children: ChildProcess[] = [];
  // Whatever happens, no server outlives the benchmark by more than this.
  const deadline = setTimeout(() => {
    console.error('Benchmark took too long: stopping.');
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  }, (2 * rounds * (duration + 2) + 30) * 1000);
  deadline.unref();

  try {
    const urls = {} as Record<ServerName, string>;
    for (const name of NAMES) {
      const { child, port } = await forkServer(__filename, ['--serve', name], name);
      children.push(child);
      urls[name] = `http://127.0.0.1:${port}/`;
    }
    console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'})`);
    console.log(`${rounds} rounds per server, ${duration} s each, ${connections} connections, keep-alive\n`);

    // A short warm-up per server lets V8 optimise before anything is counted.
    for (const name of NAMES) await measure(name, urls[name], 1, connections);

    const results: Round[] = [];
    console.log('round  server               req/s   p99 ms  errors');
    for (let round = 1; round <= rounds; round += 1) {
      for (const name of NAMES) {
        const result = await measure(name, urls[name], duration, connections);
        results.push(result);
        console.log(
          `${String(round).padStart(5)}  ${name.padEnd(18)} ${result.rps.toFixed(0).padStart(8)} ` +
          `${result.p99.toFixed(1).padStart(8)} ${String(result.errors).padStart(7)}`,
        );
      }
    }
    return summarise(results, rounds);
  } finally {
    clearTimeout(deadline);
    await Promise.all(children.map((child) => stopChild(child)));
  }
}

async function measure(name: ServerName, url: string, duration: number, connections: number): Promise<Round> {
  const result = await autocannon({ url, connections, duration, pipelining: 1, expectBody: BODY });
  return {
    name,
    rps: result.requests.total / result.duration,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx + result.mismatches,
  };
}

function summarise(results: Round[], rounds: number): number {
  const [a, b] = NAMES as [ServerName, ServerName];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const [first, second] = [results[2 * round]!, results[2 * round + 1]!];
    ratios.push(second.rps / first.rps);
  }
  const sorted = [...ratios].sort((x, y) => x - y);
  const median = sorted.length % 2 === 1
    ? sorted[(sorted.length - 1) / 2]!
    : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  const errors = results.reduce((sum, round) => sum + round.errors, 0);

  console.log(`\nper-round ratio ${b} / ${a}: ${ratios.map((r) => r.toFixed(3)).join(' ')}`);
  console.log(`median ratio: ${median.toFixed(3)}  (spread ${sorted[0]!.toFixed(3)} .. ${sorted.at(-1)!.toFixed(3)})`);
  for (const name of NAMES) {
    const rps = results.filter((r) => r.name === name).map((r) => r.rps);
    console.log(`${name.padEnd(18)} median ${medianOf(rps).toFixed(0)} req/s`);
  }
  if (errors > 0) {
    console.error(`${errors} failed or unexpected responses: the figures above are not trustworthy.`);
    return 1;
  }
  return 0;
}


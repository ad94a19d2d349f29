/**
 * Where a request's time goes: runs one server under V8's sampling profiler
 * (`--cpu-prof`), drives it with autocannon for a few seconds, and prints the
 * functions with the most self time, and the time per part (this library,
 * Node's HTTP stack, the garbage collector, ...).
 *
 *   node dist/bench/profile.js [--server seattle|node] [--scenario hello|echo] [--duration 5] [--top 25]
 *
 * The profile itself is kept in .bench/profile/ for Chrome DevTools.
 */
import { fork } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stopChild } from './child.js';
import { getAddress, registerCallback } from '../lib/index.js';

const HELLO = 'hello world\n';

/** The servers profiled: the library's idiomatic callback, and node:http answering the same bytes. */
const SERVERS: Record<string, Record<string, () => Promise<number>>> = {
  seattle: {
    hello: () => listenSeattle(() => ({ statuscode: 200, headers: { 'Content-Type': 'text/plain' }, message: HELLO })),
    echo: () => listenSeattle((request) => ({
      statuscode: 200,
      headers: { 'Content-Type': 'application/json' },
      message: JSON.stringify({ name: request.querydict.name, agent: request.headers['x-name'] }),
    })),
  },
  node: {
    hello: () => listenNode((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': HELLO.length });
      res.end(HELLO);
    }),
    echo: () => listenNode((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = JSON.stringify({ name: url.searchParams.get('name'), agent: req.headers['x-name'] });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    }),
  },
};

async function listenSeattle(callback: Parameters<typeof registerCallback>[1]): Promise<number> {
  return getAddress(await registerCallback(['127.0.0.1', 0], callback)).port;
}

async function listenNode(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time per function and per part of the program, from a .cpuprofile. */
function summarise(file: string, top: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[] };
  const total = profile.samples.length;
  const byFunction = new Map<string, number>();
  const byPart = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === '' ? '' : ` ${path.basename(url)}:${lineNumber + 1}`;
    const name = `${functionName || '(anonymous)'}${where}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    byPart.set(partOf(url, functionName), (byPart.get(partOf(url, functionName)) ?? 0) + hits);
  }
  const percent = (hits: number) => `${((100 * hits) / total).toFixed(1).padStart(5)}%`;
  const busy = total - (byPart.get('idle') ?? 0);
  const lines = [`${total} samples over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s; ` +
    `not idle: ${percent(busy)}`, '', 'by part (self time):'];
  for (const [part, hits] of [...byPart].sort((a, b) => b[1] - a[1])) lines.push(`  ${percent(hits)}  ${part}`);
  lines.push('', `top ${top} functions (self time):`);
  for (const [name, hits] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${percent(hits)}  ${name}`);
  return lines.join('\n');
}

function partOf(url: string, functionName: string): string {
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)' || url === '') return 'V8 and native code';
  if (url.includes('/dist/lib/')) return 'seattle-httpserver';
  if (url.startsWith('node:internal/http') || /node:_http|node:http/.test(url)) return 'node:http';
  if (url.startsWith('node:')) return 'other Node internals (net, streams, timers, ...)';
  return 'other JavaScript';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      server: { type: 'string', default: 'seattle' },
      scenario: { type: 'string', default: 'hello' },
      duration: { type: 'string', default: '5' },
      top: { type: 'string', default: '25' },
      serve: { type: 'boolean', default: false },
    },
  });
  const start = SERVERS[values.server!]?.[values.scenario!];
  if (start === undefined) throw new Error(`no server ${values.server} for scenario ${values.scenario}`);
  if (values.serve) {
    process.send!({ port: await start() });
    // The parent disconnects when the load is over: exiting then writes the profile.
    process.once('disconnect', () => process.exit(0));
    return;
  }
  const dir = path.resolve('.bench', 'profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const child = fork(__filename, ['--serve', '--server', values.server!, '--scenario', values.scenario!], {
    execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve) => child.once('message', (message: { port: number }) => resolve(message.port)));
  const url = `http://127.0.0.1:${port}/echo?name=ada`;
  // Loaded here, not at the top: the profiled child must not carry the load generator.
  const { default: autocannon } = await import('autocannon');
  const load = await autocannon({ url, connections: 50, duration: Number(values.duration), headers: { 'x-name': 'bench' } });
  await stopChild(child);
  const [file] = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error('no profile was written');
  console.log(`${values.server} / ${values.scenario}, ${values.duration} s of autocannon -c 50: ${load.requests.total} requests ` +
    `(profile: ${path.join(dir, file)})\n`);
  console.log(summarise(path.join(dir, file), Number(values.top)));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

/**
 * One address floods past `maxConnectionsPerPeer`, reconnecting the moment
 * it is refused; how promptly is another address served meanwhile? (Issue
 * 11, defect 3.) Compares seattle-httpserver (default limits) with raw
 * `node:http` (no limits, so it serves the flood instead of refusing it) in
 * one run, and, with `--lib DIR`, another build of the library (an older
 * commit's `dist/lib`), for a before/after figure.
 *
 *   node dist/bench/refusal-churn.js [--seconds 6] [--flooders 600] [--lib /path/to/dist/lib]
 *
 * Loopback only; every loop stops after `--seconds`.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { forkServer, guardBenchmark, medianOf, positiveInteger, stopChild } from './child.js';

const REQUEST = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
const PROBE_EVERY_MS = 100;
const PROBE_TIMEOUT_MS = 3000;

interface Outcome {
  label: string;
  probes: number[];
  failed: number;
  floodAnswers: number;
  floodRefusals: number;
  overflows: number;
}

if (process.argv[2] === '--server') void startServer(process.argv[3]!, process.argv[4]);
else void main();

async function startServer(kind: string, lib: string | undefined): Promise<void> {
  if (kind === 'raw') {
    const server = http.createServer((_req, res) => { res.setHeader('Content-Type', 'text/plain'); res.end('hello world\n'); });
    server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as net.AddressInfo).port }));
  } else {
    const { registerCallback, getAddress } = await import(join(lib!, 'index.js')) as typeof import('../lib/index.js');
    const id = await registerCallback(['127.0.0.1', 0], () => ({ statuscode: 200, message: 'hello world\n' }));
    process.send!({ port: getAddress(id).port });
  }
  process.on('disconnect', () => process.exit(0));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, flooders: { type: 'string' }, lib: { type: 'string' } } });
  const seconds = positiveInteger('seconds', values.seconds ?? '6');
  const flooders = positiveInteger('flooders', values.flooders ?? '600');
  const servers: Array<[string, string, string | undefined]> = [
    ['node:http (serves the flood)', 'raw', undefined],
    ['seattle-httpserver (this build)', 'seattle', join(__dirname, '..', 'lib')],
  ];
  if (values.lib !== undefined) servers.push([`seattle-httpserver (${values.lib})`, 'seattle', values.lib]);
  const children = new Set<import('node:child_process').ChildProcess>();
  const disarm = guardBenchmark(() => { for (const child of children) child.kill('SIGKILL'); }, (seconds + 20) * servers.length * 1000,
    'the refusal benchmark ran past its budget');
  const outcomes: Outcome[] = [];
  for (const [label, kind, lib] of servers) {
    const { child, port } = await forkServer(__filename, ['--server', kind, ...(lib ? [lib] : [])], label);
    children.add(child);
    outcomes.push(await flood(label, port, seconds * 1000, flooders));
    await stopChild(child);
    children.delete(child);
  }
  disarm();
  console.log(`${flooders} connections from 127.0.0.1 that reconnect when refused, for ${seconds} s; a probe from 127.0.0.2 every ${PROBE_EVERY_MS} ms\n`);
  console.log('| server | probes answered | probe p50 | probe p90 | probe max | flood answers | flood 503s | listen-queue overflows |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const outcome of outcomes) {
    const sorted = [...outcome.probes].sort((a, b) => a - b);
    const at = (q: number) => sorted.length === 0 ? '-' : `${sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(0)} ms`;
    console.log(`| ${outcome.label} | ${outcome.probes.length}/${outcome.probes.length + outcome.failed} | ` +
      `${sorted.length ? `${medianOf(sorted).toFixed(0)} ms` : '-'} | ${at(0.9)} | ${at(1)} | ${outcome.floodAnswers} | ${outcome.floodRefusals} | ${outcome.overflows} |`);
  }
}

async function flood(label: string, port: number, durationMs: number, flooders: number): Promise<Outcome> {
  const outcome: Outcome = { label, probes: [], failed: 0, floodAnswers: 0, floodRefusals: 0, overflows: 0 };
  const overflowsBefore = listenOverflows();
  const started = performance.now();
  const running = () => performance.now() - started < durationMs;
  const floodLoop = async () => {
    while (running()) await floodConnection(port, running, outcome);
  };
  const probeLoop = async () => {
    while (running()) {
      const sent = performance.now();
      const ok = await probe(port);
      if (ok) outcome.probes.push(performance.now() - sent); else outcome.failed += 1;
      const wait = PROBE_EVERY_MS - (performance.now() - sent);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };
  await Promise.all([...Array.from({ length: flooders }, floodLoop), probeLoop()]);
  outcome.overflows = listenOverflows() - overflowsBefore;
  return outcome;
}

/** One keep-alive connection asking again after each answer, until refused, closed or the time is up. */
function floodConnection(port: number, running: () => boolean, outcome: Outcome): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1' });
    let pending = '';
    socket.setEncoding('latin1');
    socket.on('error', () => {});
    socket.on('close', () => resolve());
    socket.on('connect', () => socket.write(REQUEST));
    socket.on('data', (chunk: string) => {
      pending += chunk;
      // Each answer is small and complete in one chunk or two: count status lines, ask again.
      for (let end = pending.indexOf('hello world\n'); end !== -1; end = pending.indexOf('hello world\n')) {
        pending = pending.slice(end + 12);
        outcome.floodAnswers += 1;
        if (running()) socket.write(REQUEST); else socket.destroy();
      }
      if (pending.startsWith('HTTP/1.1 503')) {
        outcome.floodRefusals += 1;
        socket.destroy();
      }
    });
  });
}

/** A fresh connection from another address: true when it is answered 200 within PROBE_TIMEOUT_MS. */
function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ port, host: '127.0.0.1', localAddress: '127.0.0.2', path: '/', agent: false, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume().on('end', () => resolve(res.statusCode === 200));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

/** The kernel's count of connections dropped because a listen queue was full (all sockets). */
function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const names = lines.find((line) => line.startsWith('TcpExt:'))!.split(' ');
  const values = lines.filter((line) => line.startsWith('TcpExt:'))[1]!.split(' ');
  return Number(values[names.indexOf('ListenOverflows')]);
}

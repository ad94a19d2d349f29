/**
 * The server side of bench/memory.ts, forked with --expose-gc: a hello
 * server (raw node:http or seattle-httpserver) that answers over IPC how
 * much memory it holds after a full garbage collection, and tells when it
 * has answered a given number of requests.
 *
 *   node --expose-gc dist/bench/memory-server.js --impl seattle-httpserver --connections 1000
 *
 * Both keep idle connections for 2 minutes (the measurement must see them
 * all), and seattle-httpserver admits --connections of them from one
 * address; every other option is the default.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { getAddress, registerCallback } from '../lib/index.js';
import { memoryAfterGc, positiveInteger } from './child.js';
import { HELLO } from './scenarios.js';

const IDLE_MS = 120_000;

/** What the parent asks. */
export type MemoryRequest = { type: 'measure' } | { type: 'notify'; served: number };

/** What the child tells: its port once listening, measurements, and when a request count is reached. */
export type MemoryMessage =
  | { type: 'listening'; port: number }
  | { type: 'measure'; heapUsed: number; rss: number; openSockets: number; served: number }
  | { type: 'reached'; served: number };

let served = 0;
let notifyAt = Infinity;

/** Counted in the answer itself, so that the parent can stop the load at an exact count. */
function count(): void {
  served += 1;
  if (served === notifyAt) process.send!({ type: 'reached', served } satisfies MemoryMessage);
}

async function listen(impl: string, connections: number): Promise<number> {
  if (impl === 'node:http') {
    const server = http.createServer((_req, res) => {
      count();
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': HELLO.length });
      res.end(HELLO);
    });
    server.keepAliveTimeout = IDLE_MS;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  }
  if (impl === 'seattle-httpserver') {
    const id = await registerCallback(['127.0.0.1', 0], () => {
      count();
      return { statuscode: 200, headers: { 'Content-Type': 'text/plain' }, message: HELLO };
    }, { keepAliveTimeout: IDLE_MS, maxConnectionsPerPeer: 0, maxConnections: connections + 100 });
    return getAddress(id).port;
  }
  throw new Error(`Unknown --impl ${impl}`);
}

/** Memory after a full GC, with what this server counted. */
async function measure(): Promise<MemoryMessage> {
  return {
    ...(await memoryAfterGc()),
    type: 'measure',
    served,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { impl: { type: 'string' }, connections: { type: 'string', default: '1000' } } });
  if (process.send === undefined) throw new Error('memory-server is started by bench/memory.js, over IPC');
  const port = await listen(values.impl ?? '', positiveInteger('connections', values.connections!));
  // The IPC channel closes when the parent goes, however it goes: so do we.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: MemoryRequest) => {
    if (message.type === 'measure') measure().then((answer) => process.send!(answer));
    if (message.type === 'notify') {
      notifyAt = message.served;
      if (served >= notifyAt) process.send!({ type: 'reached', served } satisfies MemoryMessage);
    }
  });
  process.send({ type: 'listening', port } satisfies MemoryMessage);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

/**
 * The servers bench/suite.ts measures, one per implementation and
 * scenario, each forked as a child of its own:
 *
 *   node dist/bench/suite-servers.js --impl seattle-httpserver --scenario echo
 *
 * The child tells the parent its port over IPC and exits when the parent
 * goes. The raw node:http servers are what a careful hand-written server
 * does, and send the same status, headers and body bytes as
 * seattle-httpserver; Fastify's are idiomatic Fastify (its Content-Type
 * gains a `; charset=utf-8`).
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { getAddress, registerCallback, type Callback } from '../lib/index.js';
import {
  HELLO, SCENARIOS, STREAM_CHUNK, STREAM_CHUNKS, type Implementation, type ScenarioName,
} from './scenarios.js';

type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

function* streamChunks(): Generator<Buffer> {
  for (let i = 0; i < STREAM_CHUNKS; i += 1) yield STREAM_CHUNK;
}

/** The query string's `name`, the way a hand-written server reads it (no full URL parse). */
function queryName(url: string): string | null {
  const mark = url.indexOf('?');
  return mark === -1 ? null : new URLSearchParams(url.slice(mark + 1)).get('name');
}

const RAW: Record<ScenarioName, Listener> = {
  hello: (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': HELLO.length });
    res.end(HELLO);
  },
  echo: (req, res) => {
    const body = JSON.stringify({ name: queryName(req.url ?? ''), header: req.headers['x-name'] });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  },
  post: (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { body += chunk; });
    req.on('end', () => {
      const answer = String(body.length);
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': answer.length });
      res.end(answer);
    });
  },
  stream: (_req, res) => {
    // No Content-Length: chunked, as seattle-httpserver frames a streamed message.
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    let sent = 0;
    // Write until the socket's buffer is full, go on at 'drain': Node's backpressure, with nothing in between.
    // A client that goes away never drains: the response is destroyed and the listener with it.
    const writeSome = () => {
      while (sent < STREAM_CHUNKS) {
        sent += 1;
        if (!res.write(STREAM_CHUNK)) {
          res.once('drain', writeSome);
          return;
        }
      }
      res.end();
    };
    writeSome();
  },
};

/** Idiomatic callbacks: what the README teaches, nothing tuned for the benchmark. */
const SEATTLE: Record<ScenarioName, Callback> = {
  hello: () => ({ statuscode: 200, headers: { 'Content-Type': 'text/plain' }, message: HELLO }),
  echo: (request) => ({
    statuscode: 200,
    headers: { 'Content-Type': 'application/json' },
    message: JSON.stringify({ name: request.querydict.name, header: request.headers['x-name'] }),
  }),
  post: async (request) => {
    const body = await request.datastream.text();
    return { statuscode: 200, headers: { 'Content-Type': 'text/plain' }, message: String(body.length) };
  },
  stream: () => ({
    statuscode: 200,
    headers: { 'Content-Type': 'application/octet-stream' },
    message: Readable.from(streamChunks()),
  }),
};

async function listenRaw(scenario: ScenarioName): Promise<number> {
  const server = http.createServer(RAW[scenario]);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

async function listenSeattle(scenario: ScenarioName): Promise<number> {
  const id = await registerCallback(['127.0.0.1', 0], SEATTLE[scenario]);
  return getAddress(id).port;
}

async function listenFastify(scenario: ScenarioName): Promise<number> {
  const app = Fastify({ logger: false });
  if (scenario === 'hello') {
    app.get('/', async () => HELLO);
  } else if (scenario === 'echo') {
    app.get<{ Querystring: { name?: string } }>('/echo', async (request) => (
      { name: request.query.name, header: request.headers['x-name'] }
    ));
  } else {
    throw new Error(`Fastify is measured on hello and echo only, not ${scenario}`);
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as { port: number }).port;
}

const LISTEN: Record<Implementation, (scenario: ScenarioName) => Promise<number>> = {
  'node:http': listenRaw,
  'seattle-httpserver': listenSeattle,
  fastify: listenFastify,
};

function main(): void {
  const { values } = parseArgs({ options: { impl: { type: 'string' }, scenario: { type: 'string' } } });
  const listen = LISTEN[values.impl as Implementation];
  const scenario = values.scenario as ScenarioName;
  if (listen === undefined || !(scenario in SCENARIOS) || process.send === undefined) {
    throw new Error(`Unknown --impl ${values.impl} or --scenario ${values.scenario}, or not forked by bench/suite.js`);
  }
  // The IPC channel closes when the parent goes, however it goes: so do we.
  process.on('disconnect', () => process.exit(0));
  listen(scenario).then((port) => process.send!({ port }), (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

if (require.main === module) main();

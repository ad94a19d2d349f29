/**
 * The workloads of bench/suite.ts, shared by the servers that answer them
 * (bench/suite-servers.ts) and the side that sends them with wrk and checks
 * the answers once before measuring.
 */

export const HELLO = 'hello world\n';

/** The echo scenario's request: a query parameter and a header, both read by every server. */
export const ECHO_NAME = 'Ada Lovelace';
export const ECHO_HEADER = 'Grace Hopper';
export const ECHO_ANSWER = JSON.stringify({ name: ECHO_NAME, header: ECHO_HEADER });

export const POST_SIZE = 1024;

/** One 64 KiB chunk, sent 1,024 times: the 64 MiB answer costs no memory of its own. */
export const STREAM_CHUNK = Buffer.alloc(64 * 1024, 'seattle-httpserver stream\n');
export const STREAM_CHUNKS = 1024;
export const STREAM_SIZE = STREAM_CHUNK.length * STREAM_CHUNKS;

export type ScenarioName = 'hello' | 'echo' | 'post' | 'stream';
export type Implementation = 'node:http' | 'seattle-httpserver' | 'fastify';

export interface Scenario {
  name: ScenarioName;
  title: string;
  /** Path and query that wrk asks for. */
  path: string;
  method: 'GET' | 'POST';
  /** Headers wrk adds (`-H`). */
  headers: Record<string, string>;
  /** Bytes of request body ('a' repeated, built by bench/wrk.lua); 0 for none. */
  bodySize: number;
  connections: number;
  /** What a round's throughput counts: requests, or MiB received (a 64 MiB answer is too big to count whole). */
  unit: 'req/s' | 'MiB/s';
  /** The target for the median throughput ratio against raw node:http. */
  target: number;
  /** The answer every implementation must give, checked once before any round. */
  expected: { contentType: string; size: number; body?: string };
}

export const SCENARIOS: Record<ScenarioName, Scenario> = {
  hello: {
    name: 'hello',
    title: 'hello world (12-byte text)',
    path: '/',
    method: 'GET',
    headers: {},
    bodySize: 0,
    connections: 50,
    unit: 'req/s',
    target: 0.95,
    expected: { contentType: 'text/plain', size: HELLO.length, body: HELLO },
  },
  echo: {
    name: 'echo',
    title: 'echo: a query parameter and a header, answered as JSON',
    path: `/echo?name=${encodeURIComponent(ECHO_NAME)}`,
    method: 'GET',
    headers: { 'X-Name': ECHO_HEADER },
    bodySize: 0,
    connections: 50,
    unit: 'req/s',
    target: 0.92,
    expected: { contentType: 'application/json', size: ECHO_ANSWER.length, body: ECHO_ANSWER },
  },
  post: {
    name: 'post',
    title: 'POST of 1 KiB, read whole as text, its length answered',
    path: '/upload',
    method: 'POST',
    headers: { 'Content-Type': 'text/plain' },
    bodySize: POST_SIZE,
    connections: 50,
    unit: 'req/s',
    target: 0.90,
    expected: { contentType: 'text/plain', size: String(POST_SIZE).length, body: String(POST_SIZE) },
  },
  stream: {
    name: 'stream',
    title: '64 MiB streamed answer, in 64 KiB chunks (throughput)',
    path: '/stream',
    method: 'GET',
    headers: {},
    bodySize: 0,
    connections: 4,
    unit: 'MiB/s',
    target: 0.95,
    expected: { contentType: 'application/octet-stream', size: STREAM_SIZE },
  },
};

export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

/** The 1 KiB body wrk sends, as the checks before the rounds send it too. */
export function postBody(): string {
  return 'a'.repeat(POST_SIZE);
}

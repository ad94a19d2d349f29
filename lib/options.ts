import { reportToStderr } from './report.js';
import { queryOptions, type QueryOptions } from './query.js';
import {
  expectBoolean, expectDefaultHeaders, expectFunction, expectInteger, expectKnownKeys, expectOneOf, expectPlainObject,
} from './arguments.js';
import { ArgumentTypeError, ValueError, describe } from './errors.js';
import { resolveTrace, type TraceSettings } from './trace/settings.js';
import type { HttpRequest, LogEntry, OutgoingHeaders } from './types.js';
import type { PemSource } from './tls-files.js';

// Reading the certificate files is tls-files.ts's concern; the server finds it here, with the options.
export { loadTls, type PemSource } from './tls-files.js';

export type CorsMode = 'off' | 'on' | 'auto';

/** The third argument of `registerCallback`. Every field is optional. */
export interface ServerOptions {
  /** Largest body the whole-body reads (`text()`, `json()`, `form()`, `read()` with no size) accept, in bytes. Default 1 MiB. */
  maxBodySize?: number;
  /** Largest request head (request line and headers), in bytes; larger ones get 431. Default 16 KiB. */
  maxHeaderSize?: number;
  /** Most header lines in a request; more get 431 (never a silent cut). Default 100. */
  maxHeaderCount?: number;
  /** Longest request target, in bytes; longer ones get 414. Default 8 KiB. */
  maxUrlLength?: number;
  /** Time to receive the request head, in ms. Default 10 000. */
  headersTimeout?: number;
  /** Time to receive the whole request, body included, in ms; 0 disables. Default 120 000. */
  requestTimeout?: number;
  /** Time to receive a request body, in ms, extended by 1 s per KiB received (so at least 1 KiB/s after it); 0 disables. Default 10 000. */
  bodyTimeout?: number;
  /** Longest a response may wait for a client that stops reading it, in ms; 0 disables. Default 10 000. */
  sendTimeout?: number;
  /** How long an idle keep-alive connection stays open, in ms. Default 5 000. */
  keepAliveTimeout?: number;
  /** Time the callback has to settle before the client gets 503, in ms; 0 disables. Default 30 000. */
  callbackTimeout?: number;
  /** Open connections at once; more are answered 503 and closed. Default 1 000. */
  maxConnections?: number;
  /** Open connections from one IP address at once; 0 disables. Default 256. */
  maxConnectionsPerPeer?: number;
  /** Requests of one connection handed to the callback at once; later pipelined ones wait their turn. Default 16. */
  maxPipelinedRequests?: number;
  /** Requests served on one keep-alive connection before it is closed; 0 disables. Default 1 000. */
  maxRequestsPerConnection?: number;
  /** Serve HTTPS with this certificate and key. */
  tls?: { cert: PemSource; key: PemSource };
  /** Headers added to every response (the callback's own headers win). */
  headers?: OutgoingHeaders;
  /** `'on'`: CORS headers on every response; `'auto'`: when the request has `Origin`. Default `'off'`. */
  cors?: CorsMode;
  /** A log line per request: `true` prints to stdout, a function receives it. Default `false`. */
  log?: boolean | ((line: string, entry: LogEntry) => void);
  /** Receives callback errors and rejected responses. Default: one line on stderr. */
  onError?: (error: Error, request?: HttpRequest) => void;
  /** Show the error in the body of a 500 (as Seattle did). Default `false`. */
  exposeErrors?: boolean;
  /** Options passed to `qs.parse` for `querydict` and `form()`. */
  query?: QueryOptions;
  /** Print each exchange: `true` the request and response dictionaries, `'wire'` also the raw bytes. Default false. */
  trace?: boolean | 'wire' | TraceOptions;
  /**
   * Answer HTTP/0.9 request lines (`GET /path`, no version) 0.9 style, the body alone, with the
   * callback seeing `version: '0.9'`. Default `false`: they get 400, as in Seattle's httpserver.
   */
  http09?: boolean;
}

/** The object form of the `trace` option. */
export interface TraceOptions {
  /** Also print the bytes that came in and went out, escaped, as a transcript. Default false. */
  wire?: boolean;
  /** Where the text goes: a writable stream or a function receiving each block of text. Default process.stderr. */
  output?: NodeJS.WritableStream | ((text: string) => void);
  /** ANSI colours. Default: when `output` is a stream whose `hasColors()` says yes (this honours NO_COLOR/FORCE_COLOR). */
  color?: boolean;
}

export interface ResolvedOptions {
  maxBodySize: number;
  maxHeaderSize: number;
  maxHeaderCount: number;
  maxUrlLength: number;
  headersTimeout: number;
  requestTimeout: number;
  bodyTimeout: number;
  sendTimeout: number;
  keepAliveTimeout: number;
  callbackTimeout: number;
  maxConnections: number;
  maxConnectionsPerPeer: number;
  maxPipelinedRequests: number;
  maxRequestsPerConnection: number;
  tls: { cert: PemSource; key: PemSource } | undefined;
  headers: Array<[string, string | number | readonly string[]]>;
  cors: CorsMode;
  log: ((line: string, entry: LogEntry) => void) | undefined;
  onError: (error: Error, request?: HttpRequest) => void;
  exposeErrors: boolean;
  query: QueryOptions;
  /** `undefined` when tracing is off: nothing is wrapped or tapped then. */
  trace: TraceSettings | undefined;
  http09: boolean;
}

export const DEFAULTS = Object.freeze({
  maxBodySize: 1024 * 1024,
  maxHeaderSize: 16 * 1024,
  maxHeaderCount: 100,
  maxUrlLength: 8 * 1024,
  headersTimeout: 10_000,
  requestTimeout: 120_000,
  bodyTimeout: 10_000,
  sendTimeout: 10_000,
  keepAliveTimeout: 5_000,
  callbackTimeout: 30_000,
  maxConnections: 1_000,
  maxConnectionsPerPeer: 256,
  maxPipelinedRequests: 16,
  maxRequestsPerConnection: 1_000,
});

const KNOWN = [
  'maxBodySize', 'maxHeaderSize', 'maxHeaderCount', 'maxUrlLength', 'headersTimeout', 'requestTimeout',
  'bodyTimeout', 'sendTimeout', 'keepAliveTimeout', 'callbackTimeout', 'maxConnections',
  'maxConnectionsPerPeer', 'maxPipelinedRequests', 'maxRequestsPerConnection', 'tls', 'headers', 'cors', 'log',
  'onError', 'exposeErrors', 'query', 'trace', 'http09',
] as const;

const MAX_TIMEOUT = 2 ** 31 - 1; // setTimeout's own ceiling

/** Validates the options argument and fills in the defaults. Throws the contract's typed errors. */
export function resolveOptions(input: unknown): ResolvedOptions {
  const options = input === undefined ? {} : expectPlainObject('options', input);
  expectKnownKeys('The "options" argument', options, KNOWN);
  const pick = <T>(key: string, check: (name: string, value: unknown) => T, fallback: T): T =>
    options[key] === undefined ? fallback : check(`options.${key}`, options[key]);
  const size = (name: string, value: unknown) => expectInteger(name, value, 1, Number.MAX_SAFE_INTEGER);
  const time = (name: string, value: unknown) => expectInteger(name, value, 0, MAX_TIMEOUT);
  const count = (name: string, value: unknown) => expectInteger(name, value, 0, Number.MAX_SAFE_INTEGER);

  const resolved: ResolvedOptions = {
    maxBodySize: pick('maxBodySize', size, DEFAULTS.maxBodySize),
    maxHeaderSize: pick('maxHeaderSize', size, DEFAULTS.maxHeaderSize),
    maxHeaderCount: pick('maxHeaderCount', size, DEFAULTS.maxHeaderCount),
    maxUrlLength: pick('maxUrlLength', size, DEFAULTS.maxUrlLength),
    headersTimeout: pick('headersTimeout', time, DEFAULTS.headersTimeout),
    requestTimeout: pick('requestTimeout', time, DEFAULTS.requestTimeout),
    bodyTimeout: pick('bodyTimeout', time, DEFAULTS.bodyTimeout),
    sendTimeout: pick('sendTimeout', time, DEFAULTS.sendTimeout),
    keepAliveTimeout: pick('keepAliveTimeout', time, DEFAULTS.keepAliveTimeout),
    callbackTimeout: pick('callbackTimeout', time, DEFAULTS.callbackTimeout),
    maxConnections: pick('maxConnections', (n, v) => expectInteger(n, v, 1, Number.MAX_SAFE_INTEGER), DEFAULTS.maxConnections),
    maxConnectionsPerPeer: pick('maxConnectionsPerPeer', count, DEFAULTS.maxConnectionsPerPeer),
    maxPipelinedRequests: pick('maxPipelinedRequests', size, DEFAULTS.maxPipelinedRequests),
    maxRequestsPerConnection: pick('maxRequestsPerConnection', count, DEFAULTS.maxRequestsPerConnection),
    tls: pick('tls', checkTls, undefined),
    headers: pick('headers', expectDefaultHeaders, []),
    cors: pick('cors', (n, v) => expectOneOf(n, v, ['off', 'on', 'auto'] as const), 'off'),
    log: pick('log', checkLog, undefined),
    onError: pick('onError', (n, v) => expectFunction<ResolvedOptions['onError']>(n, v), reportToStderr),
    exposeErrors: pick('exposeErrors', expectBoolean, false),
    query: queryOptions(pick('query', (n, v) => expectPlainObject(n, v) as QueryOptions, undefined)),
    trace: pick('trace', resolveTrace, undefined),
    http09: pick('http09', expectBoolean, false),
  };
  if (resolved.requestTimeout !== 0 && resolved.headersTimeout > resolved.requestTimeout) {
    throw new ValueError(
      `The "options.headersTimeout" (${resolved.headersTimeout}) must not exceed "options.requestTimeout" (${resolved.requestTimeout}).`,
      'ERR_OUT_OF_RANGE',
    );
  }
  return resolved;
}

function checkTls(name: string, value: unknown): { cert: PemSource; key: PemSource } {
  const tls = expectPlainObject(name, value);
  for (const part of ['cert', 'key'] as const) {
    const source = tls[part];
    if (typeof source !== 'string' && !Buffer.isBuffer(source)) {
      throw new ArgumentTypeError(
        `The "${name}.${part}" option must be PEM text or a file path. Received ${describe(source)}`,
      );
    }
  }
  return { cert: tls.cert as PemSource, key: tls.key as PemSource };
}


function checkLog(name: string, value: unknown): ResolvedOptions['log'] {
  if (value === false) return undefined;
  if (value === true) return (line) => { process.stdout.write(`${line}\n`); };
  if (typeof value === 'function') return value as ResolvedOptions['log'];
  throw new ArgumentTypeError(`The "${name}" option must be a boolean or a function. Received ${describe(value)}`);
}

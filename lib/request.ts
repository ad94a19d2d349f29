import type { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { DataStream } from './datastream.js';
import { createHeaders, headerPairs, type HeaderDict } from './headers.js';
import { parseQuery, type QueryOptions } from './query.js';
import type { HttpRequest, RequestVersion } from './types.js';

/**
 * What `buildRequest` reads of a parsed request. Node's `IncomingMessage`
 * is one, and is also the body's Readable; `invoke` builds one without a
 * socket. A type only: the server's hot path pays nothing for it.
 */
export interface RequestMessage extends Readable {
  readonly url?: string | undefined;
  readonly method?: string | undefined;
  readonly httpVersion: string;
  readonly rawHeaders: string[];
  readonly rawTrailers?: string[];
  readonly complete?: boolean;
  /** Lower-case lookup of the joined headers; only `content-length` is read here. */
  readonly headers: { readonly 'content-length'?: string | undefined };
  readonly socket: { readonly remoteAddress?: string | undefined; readonly remotePort?: number | undefined } | null;
}

/** What `buildRequest` needs besides the parsed request. */
export interface RequestContext {
  httpdid: number;
  scheme: 'http' | 'https';
  query: QueryOptions;
  maxBodySize: number;
  /** Sends `100 Continue` when the client asked for it; called on the first body read. */
  onFirstRead: () => void;
}

interface RequestState {
  readonly message: RequestMessage;
  readonly context: RequestContext;
  controller: AbortController | undefined;
  abortReason: Error | undefined;
  body: DataStream | undefined;
}

/** Marks a lazy field that has not been computed yet. */
const UNSET: unknown = Symbol('not computed yet');
/** The key under which the dictionary's proxy hands out its target (module-private). */
const TARGET = Symbol('request');

/**
 * The Seattle request dictionary. The ten fields are own enumerable
 * properties, so spreading, `Object.keys` and `JSON.stringify` see a plain
 * dictionary; the costly ones (`querydict`, `headers`, `datastream`) are
 * computed on first read and then stay as ordinary data properties.
 *
 * Why a Proxy: own accessor properties (the obvious way to compute a field
 * on first read) put every request object in V8's slow dictionary mode,
 * which cost about 1 µs per request, more than the rest of the dictionary.
 * Here each field is a plain data property from the start, the lazy ones
 * holding a marker, and one handler shared by every request (no closure per
 * request) computes a marked field the first time anything reads or
 * describes it.
 */
class SeattleRequest {
  readonly #state: RequestState;
  declare verb: string;
  declare path: string;
  declare querystr: string | null;
  declare querydict: Record<string, unknown>;
  declare version: RequestVersion;
  declare datastream: DataStream;
  declare headers: HeaderDict;
  declare httpdid: number;
  declare remoteipstr: string;
  declare remoteportnum: number;

  constructor(message: RequestMessage, context: RequestContext) {
    this.#state = { message, context, controller: undefined, abortReason: undefined, body: undefined };
    const target = message.url ?? '/';
    const mark = target.indexOf('?');
    // Assignment order is enumeration order: keep Seattle's field order.
    this.verb = message.method ?? 'GET';
    this.path = mark === -1 ? target : target.slice(0, mark);
    this.querystr = mark === -1 ? null : target.slice(mark + 1);
    this.querydict = UNSET as Record<string, unknown>;
    this.version = message.httpVersion as RequestVersion;
    this.datastream = UNSET as DataStream;
    this.headers = UNSET as HeaderDict;
    this.httpdid = context.httpdid;
    const socket = message.socket;
    this.remoteipstr = plainAddress(socket?.remoteAddress);
    this.remoteportnum = socket?.remotePort ?? 0;
  }

  get signal(): AbortSignal {
    const state = this.#state;
    if (state.controller === undefined) {
      state.controller = new AbortController();
      if (state.abortReason !== undefined) state.controller.abort(state.abortReason);
    }
    return state.controller.signal;
  }

  get scheme(): 'http' | 'https' {
    return this.#state.context.scheme;
  }

  get rawheaders(): Array<[string, string]> {
    return headerPairs(this.#state.message.rawHeaders);
  }

  /** Shows the Seattle dictionary, with every lazy field evaluated. */
  [inspect.custom](depth: number, options: object, show: typeof inspect): string {
    const plain: Record<string, unknown> = {};
    for (const key of Object.keys(this)) plain[key] = (this as unknown as Record<string, unknown>)[key];
    return show(plain, { ...options, depth });
  }

  /** Computes the lazy field `key` of `request` (marked UNSET) and stores it as a data property. */
  static compute(request: SeattleRequest, key: 'querydict' | 'headers' | 'datastream'): unknown {
    const state = request.#state;
    const value = key === 'querydict' ? queryDictOf(state) : key === 'headers' ? createHeaders(state.message.rawHeaders) : dataStreamOf(state);
    request[key] = value as never;
    return value;
  }

  static bodyOf(request: SeattleRequest): DataStream | undefined {
    return request.#state.body;
  }

  static abort(request: SeattleRequest, reason: Error): void {
    const state = request.#state;
    if (state.abortReason !== undefined) return;
    state.abortReason = reason;
    state.controller?.abort(reason);
  }
}

function queryDictOf(state: RequestState): Record<string, unknown> {
  const target = state.message.url ?? '';
  const mark = target.indexOf('?');
  return parseQuery(mark === -1 ? null : target.slice(mark + 1), state.context.query);
}

const DIGITS = /^\d+$/;

function dataStreamOf(state: RequestState): DataStream {
  const length = state.message.headers['content-length'];
  return state.body = new DataStream({
    stream: state.message,
    // llhttp accepts lengths up to 2^64 - 1. Past 2^53 the number is inexact, but it is only ever
    // compared with limits far below that, so a huge announced body is still refused before it is sent.
    contentLength: length !== undefined && DIGITS.test(length) ? Number(length) : undefined,
    maxBodySize: state.context.maxBodySize,
    query: state.context.query,
    onFirstRead: state.context.onFirstRead,
  });
}

type LazyKey = 'querydict' | 'headers' | 'datastream';

/** One handler for every request: reading (or describing, as spreading does) a marked field computes it. */
const HANDLER: ProxyHandler<SeattleRequest> = {
  get(target, key) {
    if (key === TARGET) return target;
    const value = (target as unknown as Record<PropertyKey, unknown>)[key];
    return value === UNSET ? SeattleRequest.compute(target, key as LazyKey) : value;
  },
  getOwnPropertyDescriptor(target, key) {
    if ((target as unknown as Record<PropertyKey, unknown>)[key] === UNSET) SeattleRequest.compute(target, key as LazyKey);
    return Reflect.getOwnPropertyDescriptor(target, key);
  },
};

/** Builds the request dictionary for one parsed request. Cheap: lazy fields are parsed when read. */
export function buildRequest(message: RequestMessage, context: RequestContext): HttpRequest {
  return new Proxy(new SeattleRequest(message, context), HANDLER) as unknown as HttpRequest;
}

/** Aborts `request.signal` (now or when it is first read). */
export function abortRequest(request: HttpRequest, reason: Error): void {
  SeattleRequest.abort(targetOf(request), reason);
}

/** The request's body reader, if the callback ever asked for it. */
export function bodyOf(request: HttpRequest): DataStream | undefined {
  return SeattleRequest.bodyOf(targetOf(request));
}

/** The object behind a request dictionary's proxy (what its private state belongs to). */
function targetOf(request: HttpRequest): SeattleRequest {
  return (request as unknown as Record<symbol, SeattleRequest>)[TARGET]!;
}

/** `::ffff:127.0.0.1` is shown as `127.0.0.1`, as a reader of an IPv4 log expects. */
export function plainAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

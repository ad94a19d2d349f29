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

/**
 * The Seattle request dictionary. The ten fields are own enumerable
 * properties, so spreading, `Object.keys` and `JSON.stringify` see a plain
 * dictionary; the costly ones (`querydict`, `headers`, `datastream`) are
 * computed on first read and then become ordinary data properties.
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
    Object.defineProperty(this, 'querydict', LAZY_QUERYDICT);
    this.version = message.httpVersion as RequestVersion;
    Object.defineProperty(this, 'datastream', LAZY_DATASTREAM);
    Object.defineProperty(this, 'headers', LAZY_HEADERS);
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

  static lazy(name: string, compute: (state: RequestState) => unknown): PropertyDescriptor {
    return {
      enumerable: true,
      configurable: true,
      get(this: SeattleRequest) {
        const value = compute(this.#state);
        Object.defineProperty(this, name, { value, enumerable: true, writable: true, configurable: true });
        return value;
      },
      set(this: SeattleRequest, value: unknown) {
        Object.defineProperty(this, name, { value, enumerable: true, writable: true, configurable: true });
      },
    };
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

// Shared descriptors: defining a lazy field costs no closure per request.
const LAZY_QUERYDICT = SeattleRequest.lazy('querydict', (state) => {
  const target = state.message.url ?? '';
  const mark = target.indexOf('?');
  return parseQuery(mark === -1 ? null : target.slice(mark + 1), state.context.query);
});
const LAZY_HEADERS = SeattleRequest.lazy('headers', (state) => createHeaders(state.message.rawHeaders));
const LAZY_DATASTREAM = SeattleRequest.lazy('datastream', (state) => {
  const length = state.message.headers['content-length'];
  const contentLength = length === undefined ? undefined : Number(length);
  return state.body = new DataStream({
    stream: state.message,
    contentLength: Number.isSafeInteger(contentLength) ? contentLength : undefined,
    maxBodySize: state.context.maxBodySize,
    query: state.context.query,
    onFirstRead: state.context.onFirstRead,
  });
});

/** Builds the request dictionary for one parsed request. Cheap: lazy fields are parsed when read. */
export function buildRequest(message: RequestMessage, context: RequestContext): HttpRequest {
  return new SeattleRequest(message, context) as unknown as HttpRequest;
}

/** Aborts `request.signal` (now or when it is first read). */
export function abortRequest(request: HttpRequest, reason: Error): void {
  SeattleRequest.abort(request as unknown as SeattleRequest, reason);
}

/** The request's body reader, if the callback ever asked for it. */
export function bodyOf(request: HttpRequest): DataStream | undefined {
  return SeattleRequest.bodyOf(request as unknown as SeattleRequest);
}

/** `::ffff:127.0.0.1` is shown as `127.0.0.1`, as a reader of an IPv4 log expects. */
function plainAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

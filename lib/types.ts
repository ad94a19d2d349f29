import type { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { DataStream } from './datastream.js';
import type { HeaderDict } from './headers.js';

export type { HeaderDict } from './headers.js';

/** The HTTP version of a request as Seattle spells it. */
export type RequestVersion = '0.9' | '1.0' | '1.1' | '2.0';

/** The versions a response may ask for. */
export type ResponseVersion = '0.9' | '1.0' | '1.1';

/**
 * The dictionary handed to the callback. The ten enumerable fields are the
 * Seattle ones; `signal`, `scheme` and `rawheaders` are extensions that
 * stay out of `console.log(request)` and `JSON.stringify(request)`.
 */
export interface HttpRequest {
  verb: string;
  path: string;
  querystr: string | null;
  querydict: Record<string, unknown>;
  version: RequestVersion;
  datastream: DataStream;
  headers: HeaderDict;
  httpdid: number;
  remoteipstr: string;
  remoteportnum: number;
  /** Aborts when the client goes away before the response is complete, or the listener is stopped. */
  readonly signal: AbortSignal;
  readonly scheme: 'http' | 'https';
  /** The request headers as `[name, value]` pairs, in the order they arrived. */
  readonly rawheaders: ReadonlyArray<readonly [string, string]>;
}

/** Seattle's file-like object: `read(size)` until it returns an empty string or buffer. */
export interface FileLike {
  read(size?: number): string | Uint8Array | Promise<string | Uint8Array>;
  close?(): unknown;
}

export type ResponseMessage =
  | string
  | Uint8Array
  | Readable
  | ReadableStream
  | AsyncIterable<string | Uint8Array>
  | FileLike
  | null
  | undefined;

export type OutgoingHeaderValue = string | number | readonly string[];
export type OutgoingHeaders = Record<string, OutgoingHeaderValue>;

/** The dictionary a callback returns. */
export interface HttpResponse {
  /** An integer from 200 to 599. */
  statuscode: number;
  /** Default: the standard reason phrase. */
  statusmsg?: string;
  /** Default: the request's version. */
  version?: ResponseVersion;
  headers?: OutgoingHeaders;
  message?: ResponseMessage;
}

export type Callback = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/** What the `log` option receives for each request, besides the formatted line. */
export interface LogEntry {
  httpdid: number;
  remoteipstr: string;
  verb: string;
  target: string;
  version: string;
  statuscode: number;
  /** Body bytes written, or `undefined` when the connection went away first. */
  bytes: number | undefined;
  durationMs: number;
}

import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { inspect, stripVTControlCharacters, type InspectOptions } from 'node:util';
import { isThenable } from '../callback-answer.js';
import { isError, readSafely, safeString, statusOf } from '../errors.js';
import type { Callback, HttpRequest } from '../types.js';
import { CYAN, RED, formatPeer, type Transcript } from './transcript.js';

/** The response fields in Seattle's order. */
const RESPONSE_FIELDS = ['statuscode', 'statusmsg', 'version', 'headers', 'message'];
/** A string message longer than this is cut in the trace (never on the wire). */
const MESSAGE_SHOWN = 300;
/** A field that fits on one line of this many columns stays on one line; a longer object is spread out. */
const LINE_WIDTH = 80;

/**
 * Wraps a callback so that each exchange is printed: the request
 * dictionary just before the callback sees it, the response dictionary
 * when the callback returns or its promise settles. A synchronous callback
 * stays synchronous (its value is passed on as is, never as a promise), and
 * a throw or a rejection is printed and passed on unchanged.
 */
export function traceCallback(callback: Callback, transcript: Transcript): Callback {
  return (request) => {
    const number = transcript.nextRequest();
    transcript.print(() => formatRequest(transcript, number, request));
    const started = performance.now();
    let result: unknown;
    try {
      result = callback(request);
    } catch (error) {
      transcript.print(() => formatFailure(transcript, number, started, 'threw', error));
      throw error;
    }
    if (!isThenable(result)) {
      transcript.print(() => formatResponse(transcript, number, started, result));
      return result as ReturnType<Callback>;
    }
    return Promise.resolve(result).then(
      (value) => {
        transcript.print(() => formatResponse(transcript, number, started, value));
        return value;
      },
      (error: unknown) => {
        transcript.print(() => formatFailure(transcript, number, started, 'rejected with', error));
        throw error;
      },
    ) as ReturnType<Callback>;
  };
}

function formatRequest(transcript: Transcript, number: number, request: HttpRequest): string {
  const target = request.querystr === null ? request.path : `${request.path}?${request.querystr}`;
  const from = formatPeer(request.remoteipstr, request.remoteportnum);
  const shown = (key: string): string => {
    // The body summary comes from the head alone: the trace must leave every byte of it to the callback.
    if (key === 'datastream') return transcript.paint(CYAN, bodySummary(request));
    const value = (request as unknown as Record<string, unknown>)[key];
    return showField(transcript, key, key === 'headers' ? { ...(value as object) } : value);
  };
  return transcript.headline(`request ${number}`, `${request.verb} ${target} from ${from}`) +
    dictionary(Object.keys(request).map((key) => [key, shown(key)]));
}

function bodySummary(request: HttpRequest): string {
  if (request.headers['transfer-encoding'] !== undefined) return '<body: chunked, length unknown, not read yet>';
  const length = request.headers['content-length'];
  if (length === undefined || length === '0') return '<no body>';
  return `<body: ${length} ${length === '1' ? 'byte' : 'bytes'}, not read yet>`;
}

function formatResponse(transcript: Transcript, number: number, started: number, value: unknown): string {
  return transcript.headline(`response ${number}`, `after ${elapsed(started)} ms`) + showResponse(transcript, value);
}

function formatFailure(transcript: Transcript, number: number, started: number, how: string, error: unknown): string {
  const status = statusOf(error);
  const line = `callback ${how} ${isError(error) ? describeError(error) : show(transcript, error)}` +
    (status === undefined ? '' : ` (status ${status})`);
  return transcript.headline(`response ${number}`, `after ${elapsed(started)} ms`) + `${transcript.paint(RED, line)}\n`;
}

/** `Error: boom`, read without trusting the error's getters. */
function describeError(error: unknown): string {
  return isError(error)
    ? `${safeString(readSafely(error, 'name'))}: ${safeString(readSafely(error, 'message'))}`
    : safeString(error);
}

/**
 * A response dictionary field by field, or, when the callback returned
 * something that is not a dictionary at all, that value as inspect shows it:
 * the student sees what was returned, not what the validator made of it.
 */
function showResponse(transcript: Transcript, value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${show(transcript, value)}\n`;
  let keys: string[];
  try {
    keys = Object.keys(value);
  } catch {
    // A Proxy whose traps throw: inspect shows its target without calling them.
    return `${show(transcript, value)}\n`;
  }
  // A valid dictionary reads in Seattle's order; one with a stray key exactly as returned, slip included.
  const ordered = keys.every((key) => RESPONSE_FIELDS.includes(key))
    ? RESPONSE_FIELDS.filter((key) => keys.includes(key))
    : keys;
  return dictionary(ordered.map((key) => {
    let field: unknown;
    try {
      field = (value as Record<string, unknown>)[key];
    } catch (error) {
      return [key, transcript.paint(RED, `<reading it threw ${describeError(error)}>`)];
    }
    return [key, key === 'message' ? showMessage(transcript, field) : showField(transcript, key, field)];
  }));
}

/** Bodies are summed up, never dumped: bytes and streams by kind, long text cut with a note of what was left out. */
function showMessage(transcript: Transcript, message: unknown): string {
  if (typeof message === 'string') return show(transcript, message, { maxStringLength: MESSAGE_SHOWN });
  const kind = messageKind(message);
  return kind === undefined ? show(transcript, message) : transcript.paint(CYAN, `<${kind}>`);
}

function messageKind(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  try {
    if (message instanceof Uint8Array) {
      const name = Buffer.isBuffer(message) ? 'Buffer' : message.constructor.name;
      return `${name}: ${message.byteLength} ${message.byteLength === 1 ? 'byte' : 'bytes'}`;
    }
    if (message instanceof Readable || typeof readSafely(message, '_readableState') === 'object') return 'stream';
    if (message instanceof globalThis.ReadableStream) return 'web stream';
    if (typeof readSafely(message, Symbol.asyncIterator) === 'function') return 'async iterable';
    if (typeof readSafely(message, 'read') === 'function') return 'file-like object';
  } catch {
    // A Proxy that refuses even instanceof: inspect shows it as it is.
  }
  return undefined;
}

/** The top level one field per line, as a student would write the object literal. */
function dictionary(fields: Array<[string, string]>): string {
  if (fields.length === 0) return '{}\n';
  return `{\n${fields.map(([key, text]) => `  ${propertyName(key)}: ${text}`).join(',\n')}\n}\n`;
}

function propertyName(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : inspect(key);
}

/** A field's value: on one line when that line fits, else an object spread over lines indented under its key. */
function showField(transcript: Transcript, key: string, value: unknown): string {
  const oneLine = show(transcript, value);
  const width = `  ${propertyName(key)}: ${stripVTControlCharacters(oneLine)},`.length;
  if (typeof value !== 'object' || value === null || width <= LINE_WIDTH) return oneLine;
  return show(transcript, value, { breakLength: LINE_WIDTH - 4 }).replace(/\n/g, '\n  ');
}

/** One value on one line; strings (header values above all) whole unless told otherwise. */
function show(transcript: Transcript, value: unknown, options: InspectOptions = {}): string {
  return inspect(value, {
    colors: transcript.color, breakLength: Infinity, depth: 4, maxStringLength: Infinity, ...options,
  });
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

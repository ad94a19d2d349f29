import { STATUS_CODES } from 'node:http';

/**
 * A value that has the right type but is outside what is allowed
 * (a port above 65535, a negative timeout, an unknown `cors` mode).
 * Named after Seattle's `ValueError`; it extends `RangeError` so that
 * code written for Node's own argument errors keeps working.
 */
export class ValueError extends RangeError {
  readonly code: 'ERR_OUT_OF_RANGE' | 'ERR_INVALID_ARG_VALUE';

  constructor(message: string, code: 'ERR_OUT_OF_RANGE' | 'ERR_INVALID_ARG_VALUE' = 'ERR_INVALID_ARG_VALUE') {
    super(message);
    this.name = 'ValueError';
    this.code = code;
  }
}

/** An id that `registerCallback` never handed out, or that was already stopped. */
export class KeyError extends Error {
  readonly code = 'ERR_UNKNOWN_CALLBACK_ID';

  constructor(message: string) {
    super(message);
    this.name = 'KeyError';
  }
}

/** A `TypeError` carrying Node's stable code for a wrong argument type. */
export class ArgumentTypeError extends TypeError {
  readonly code = 'ERR_INVALID_ARG_TYPE';

  constructor(message: string) {
    super(message);
    // Users catch it as a TypeError; the class name is an implementation detail.
    this.name = 'TypeError';
  }
}

export interface HttpErrorOptions {
  /** Headers sent with the error response (e.g. `Allow`, `WWW-Authenticate`). */
  headers?: Record<string, string | number | readonly string[]>;
  /** Whether `message` may be shown to the client. Default: `status < 500`. */
  expose?: boolean;
  cause?: unknown;
}

/**
 * Throw (or reject with) an `HttpError` from a callback to answer with that
 * status. The message is the response body for 4xx; 5xx bodies stay generic
 * unless `expose: true` is given, so internals never leak by accident.
 *
 * @example
 * if (!request.headers.authorization) throw new HttpError(401, 'Log in first');
 */
export class HttpError extends Error {
  readonly status: number;
  readonly statusCode: number;
  readonly expose: boolean;
  readonly headers: Record<string, string | number | readonly string[]>;
  readonly code: string;

  constructor(status: number, message?: string, options: HttpErrorOptions = {}) {
    if (typeof status !== 'number' || !Number.isInteger(status)) {
      throw new ArgumentTypeError(`The "status" argument must be an integer. Received ${describe(status)}`);
    }
    if (status < 400 || status > 599) {
      throw new ValueError(
        `The "status" argument must be an integer from 400 to 599. Received ${describe(status)}`,
        'ERR_OUT_OF_RANGE',
      );
    }
    super(message ?? STATUS_CODES[status] ?? `HTTP ${status}`, { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.statusCode = status;
    this.expose = options.expose ?? status < 500;
    this.headers = options.headers ?? {};
    this.code = `ERR_HTTP_${status}`;
  }
}

/**
 * A response object the callback returned that must not reach the wire.
 * Reported to `onError`; the client gets a 500.
 */
export class ResponseError extends Error {
  readonly code = 'ERR_INVALID_RESPONSE';

  constructor(message: string) {
    super(message);
    this.name = 'ResponseError';
  }
}

/** `describe(value)` renders a received value the way Node's argument errors do. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    if (Array.isArray(value)) return `an array of length ${value.length}`;
    const name = (value as object).constructor?.name;
    return name && name !== 'Object' ? `an instance of ${name}` : 'an object';
  }
  if (typeof value === 'string') {
    const shown = value.length > 28 ? `${value.slice(0, 25)}...` : value;
    return `type string (${JSON.stringify(shown)})`;
  }
  if (typeof value === 'bigint') return `type bigint (${value}n)`;
  return `type ${typeof value} (${String(value)})`;
}

/**
 * `String(value)` that never throws: a callback may throw anything, including an
 * object without a prototype, which `String()` cannot convert.
 */
export function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    // Fall back to a description of the value.
  }
  try {
    return describe(value);
  } catch {
    return 'a value that cannot be shown';
  }
}

/**
 * Reads `key` of anything a callback threw or returned, never throwing: the
 * value may be a Proxy whose traps throw, a revoked Proxy, or an object with
 * a throwing getter.
 */
export function readSafely(value: unknown, key: PropertyKey): unknown {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  try {
    return (value as Record<PropertyKey, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** Whether `value` is an Error, for values whose prototype chain may throw when asked. */
export function isError(value: unknown): value is Error {
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

/** Anything thrown, as an Error to report: Errors as they are, other values wrapped with a printable description. */
export function asError(value: unknown): Error {
  return isError(value) ? value : new Error(`Non-error value thrown: ${safeString(value)}`);
}

/** The status an error thrown by a callback asks for, following the http-errors convention. */
export function statusOf(error: unknown): number | undefined {
  const candidate = readSafely(error, 'status') ?? readSafely(error, 'statusCode');
  return typeof candidate === 'number' && Number.isInteger(candidate) && candidate >= 400 && candidate <= 599
    ? candidate
    : undefined;
}

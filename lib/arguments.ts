import { validateHeaderName, validateHeaderValue } from 'node:http';
import { ArgumentTypeError, ValueError, describe } from './errors.js';

/**
 * Checks for the arguments of exported functions. Each one throws the typed
 * error the contract promises, with a message that names the argument and
 * what was received.
 */

export function expectInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ArgumentTypeError(`The "${name}" argument must be an integer. Received ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new ValueError(
      `The "${name}" argument must be >= ${min} and <= ${max}. Received ${value}`,
      'ERR_OUT_OF_RANGE',
    );
  }
  return value;
}

export function expectString(name: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new ArgumentTypeError(`The "${name}" argument must be of type string. Received ${describe(value)}`);
  }
  return value;
}

export function expectBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new ArgumentTypeError(`The "${name}" argument must be of type boolean. Received ${describe(value)}`);
  }
  return value;
}

export function expectFunction<T extends (...args: never[]) => unknown>(name: string, value: unknown): T {
  if (typeof value !== 'function') {
    throw new ArgumentTypeError(`The "${name}" argument must be a function. Received ${describe(value)}`);
  }
  return value as T;
}

export function expectPlainObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ArgumentTypeError(`The "${name}" argument must be an object. Received ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

export function expectOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  const text = expectString(name, value);
  if (!(allowed as readonly string[]).includes(text)) {
    throw new ValueError(
      `The "${name}" argument must be one of ${allowed.map((a) => `'${a}'`).join(', ')}. Received '${text}'`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  return text as T;
}

/** The closest name in `known`, when `name` looks like a slip of it. */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = Math.max(2, Math.floor(name.length / 3));
  return bestDistance <= tolerance ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Refuses a key of `object` that is not in `known`, with a did-you-mean hint; `what` names the object in the message. */
export function expectKnownKeys(what: string, object: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const hint = didYouMean(key, known);
    throw new ValueError(`${what} has an unknown option "${key}".${hint ? ` Did you mean "${hint}"?` : ''}`);
  }
}

/** Headers the library frames itself: one value for every response would be wrong for all bodies but one. */
const FRAMING_HEADERS = ['content-length', 'transfer-encoding'];

/**
 * Headers given once for every response (the `headers` option of a listener
 * or of `serveDirectory`): valid names and values, strings, numbers or
 * arrays of them, and never a framing header.
 */
export function expectDefaultHeaders(name: string, value: unknown): Array<[string, string | number | readonly string[]]> {
  const headers = expectPlainObject(name, value);
  const list: Array<[string, string | number | readonly string[]]> = [];
  for (const [key, header] of Object.entries(headers)) {
    if (FRAMING_HEADERS.includes(key.toLowerCase())) {
      throw new ValueError(`The "${name}" option cannot set "${key}": the library frames each response itself.`);
    }
    const values = Array.isArray(header) ? header : [header];
    for (const item of values) {
      if (typeof item !== 'string' && typeof item !== 'number') {
        throw new ArgumentTypeError(
          `The "${name}['${key}']" option must be a string, a number or an array of strings. Received ${describe(item)}`,
        );
      }
      try {
        validateHeaderName(key);
        validateHeaderValue(key, String(item));
      } catch (error) {
        throw new ValueError(`The "${name}" option has an invalid header "${key}": ${(error as Error).message}`);
      }
    }
    list.push([key, header as string | number | readonly string[]]);
  }
  return list;
}

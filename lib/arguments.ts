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

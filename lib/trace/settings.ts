import { didYouMean, expectBoolean, expectKnownKeys } from '../arguments.js';
import { ArgumentTypeError, ValueError, describe } from '../errors.js';
import type { TraceOptions } from '../options.js';

/** The `trace` option once checked: what to show, where, and whether in colour. */
export interface TraceSettings {
  readonly wire: boolean;
  readonly color: boolean;
  /** Writes one block of text. It may throw: the transcript catches it, serving goes on. */
  readonly write: (text: string) => void;
}

const KNOWN = ['wire', 'output', 'color'] as const;

/**
 * Checks the `trace` option: `false` turns tracing off (`undefined`, so the
 * listener wraps and taps nothing), `true` and `'wire'` are short for
 * `{}` and `{ wire: true }`.
 */
export function resolveTrace(name: string, value: unknown): TraceSettings | undefined {
  if (value === false) return undefined;
  if (value === true) return settings(name, {});
  if (value === 'wire') return settings(name, { wire: true });
  if (typeof value === 'string') {
    const hint = didYouMean(value, ['wire']);
    throw new ValueError(
      `The "${name}" option must be true, false, 'wire' or an object. Received '${value}'.${hint ? ` Did you mean '${hint}'?` : ''}`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const options = value as Record<string, unknown>;
    expectKnownKeys(`The "${name}" object`, options, KNOWN);
    return settings(name, options);
  }
  throw new ArgumentTypeError(`The "${name}" option must be a boolean, 'wire' or an object. Received ${describe(value)}`);
}

function settings(name: string, options: Record<string, unknown>): TraceSettings {
  const wire = options.wire === undefined ? false : expectBoolean(`${name}.wire`, options.wire);
  const output = options.output === undefined ? process.stderr : checkOutput(`${name}.output`, options.output);
  const color = options.color === undefined ? hasColors(output) : expectBoolean(`${name}.color`, options.color);
  const write = typeof output === 'function'
    ? output
    // A stream the user ended must not get a write-after-end error (an 'error' event no one may be listening to).
    : (text: string) => { if (output.writable !== false) output.write(text); };
  return { wire, color, write };
}

function checkOutput(name: string, value: unknown): NonNullable<TraceOptions['output']> {
  if (typeof value === 'function') return value as (text: string) => void;
  if (typeof value === 'object' && value !== null && typeof (value as NodeJS.WritableStream).write === 'function') {
    return value as NodeJS.WritableStream;
  }
  throw new ArgumentTypeError(`The "${name}" option must be a writable stream or a function. Received ${describe(value)}`);
}

/** A terminal's own verdict (it reads NO_COLOR, FORCE_COLOR and TERM); a pipe, a file or a function gets none. */
function hasColors(output: NonNullable<TraceOptions['output']>): boolean {
  const stream = output as { hasColors?: () => boolean };
  if (typeof stream.hasColors !== 'function') return false;
  try {
    return stream.hasColors() === true;
  } catch {
    return false;
  }
}

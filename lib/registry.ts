import { ArgumentTypeError, KeyError, describe } from './errors.js';
import { expectFunction, expectInteger, expectPlainObject, expectString } from './arguments.js';
import { resolveOptions, type ServerOptions } from './options.js';
import { startListener, type Listener } from './server.js';
import type { Callback } from './types.js';

/**
 * The module state: every listener this process has registered and not yet
 * stopped. The package's ESM entry re-exports this CommonJS module, so
 * `import` and `require` share this one map.
 */
const listeners = new Map<number, Listener>();
let lastId = 0;

/** Options of `stopCallback`. */
export interface StopOptions {
  /** How long requests in flight may take to finish, in ms; 0 cuts them now. Default 5 000. */
  timeout?: number;
}

const DEFAULT_STOP_TIMEOUT = 5_000;

/**
 * Starts a listener on `[host, port]` that answers every request with what
 * `callback` returns. Resolves to the listener's id once the socket is
 * listening (port 0 asks the OS for a free port; see `getAddress`).
 *
 * @example
 * const id = await registerCallback(['127.0.0.1', 8080], (request) => ({
 *   statuscode: 200,
 *   message: `hello from ${request.path}\n`,
 * }));
 */
export async function registerCallback(
  address: readonly [string, number],
  callback: Callback,
  options?: ServerOptions,
): Promise<number> {
  if (!Array.isArray(address) || address.length !== 2) {
    throw new ArgumentTypeError(
      `The "address" argument must be an array [host, port]. Received ${describe(address)}`,
    );
  }
  const host = expectString('address[0] (host)', address[0]);
  const port = expectInteger('address[1] (port)', address[1], 0, 65535);
  expectFunction('callback', callback);
  const resolved = resolveOptions(options);

  const id = ++lastId; // taken before listening so that a failed bind never hands the id out later
  const listener = await startListener(host, port, callback, resolved, id);
  listeners.set(id, listener);
  return id;
}

/**
 * Stops the listener `id`: no new connections, idle keep-alive connections
 * closed at once, requests in flight given `options.timeout` ms to finish.
 * Resolves when the port is free and no connection is left.
 */
export async function stopCallback(id: number, options?: StopOptions): Promise<void> {
  const listener = lookup(id);
  let timeout = DEFAULT_STOP_TIMEOUT;
  if (options !== undefined) {
    const given = expectPlainObject('options', options);
    if (given.timeout !== undefined) timeout = expectInteger('options.timeout', given.timeout, 0, 2 ** 31 - 1);
  }
  listeners.delete(id);
  await listener.stop(timeout);
}

/** The address listener `id` is bound to: the way to learn the port after asking for port 0. */
export function getAddress(id: number): { host: string; port: number } {
  const { host, port } = lookup(id).address;
  return { host, port };
}

/** The ids of the listeners that are running, oldest first. */
export function listCallbacks(): number[] {
  return [...listeners.keys()];
}

/** Stops every listener (for a test suite's `after` hook). */
export async function stopAllCallbacks(options?: StopOptions): Promise<void> {
  await Promise.all(listCallbacks().map((id) => stopCallback(id, options)));
}

function lookup(id: number): Listener {
  if (typeof id !== 'number' || !Number.isInteger(id)) {
    throw new ArgumentTypeError(`The "id" argument must be an integer. Received ${describe(id)}`);
  }
  const listener = listeners.get(id);
  if (listener === undefined) {
    throw new KeyError(`No listener with id ${id}: it was never registered or has already been stopped.`);
  }
  return listener;
}

/** Seattle's spelling of `registerCallback`. */
export const httpserver_registercallback = registerCallback;
/** Seattle's spelling of `stopCallback`. */
export const httpserver_stopcallback = stopCallback;

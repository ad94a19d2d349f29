/**
 * The ESM entry point. It re-exports the CommonJS build instead of being a
 * second build, so `import` and `require` share one registry of listeners
 * (no dual-package hazard).
 */
export {
  registerCallback,
  stopCallback,
  getAddress,
  listCallbacks,
  stopAllCallbacks,
  httpserver_registercallback,
  httpserver_stopcallback,
  HttpError,
  KeyError,
  ValueError,
  text,
  html,
  json,
  redirect,
  sendFile,
  serveDirectory,
  DataStream,
  invoke,
} from './index.js';
export type * from './index.js';

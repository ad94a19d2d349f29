/**
 * seattle-httpserver: one function is an HTTP server.
 * This file only re-exports; each name lives in the file named after it.
 */
export {
  registerCallback,
  stopCallback,
  getAddress,
  listCallbacks,
  stopAllCallbacks,
  httpserver_registercallback,
  httpserver_stopcallback,
} from './registry.js';
export type { StopOptions } from './registry.js';
export { HttpError, KeyError, ValueError } from './errors.js';
export type { HttpErrorOptions } from './errors.js';
export { text, html, json, redirect, sendFile } from './helpers.js';
export { DataStream } from './datastream.js';
export { invoke } from './invoke.js';
export type { InvokeRequest, InvokeResponse } from './invoke.js';
export { serveDirectory } from './static/serve-directory.js';
export type { ServeDirectoryOptions, StaticCallback } from './static/serve-directory.js';
export type { ServerOptions, CorsMode, PemSource, TraceOptions } from './options.js';
export type {
  Callback, FileLike, HeaderDict, HttpRequest, HttpResponse, LogEntry, OutgoingHeaders,
  OutgoingHeaderValue, RequestVersion, ResponseMessage, ResponseVersion,
} from './types.js';

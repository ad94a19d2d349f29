import { asError, isError, safeString } from './errors.js';
import type { HttpRequest, LogEntry } from './types.js';

/**
 * The default `onError`: one line on stderr naming the listener, the request
 * and the reason, so that a broken callback is visible without a stack dump
 * per request.
 */
export function reportToStderr(error: Error, request?: HttpRequest): void {
  const where = request ? ` [httpdid ${request.httpdid}] ${request.verb} ${request.path}` : '';
  const reason = `${error.name}: ${error.message}`.replace(/[\r\n]+/g, ' ');
  process.stderr.write(`seattle-httpserver${where}: ${reason}\n`);
}

/** Calls the user's `onError` without letting a throwing reporter take the server down. */
export function safelyReport(
  onError: (error: Error, request?: HttpRequest) => void,
  error: unknown,
  request?: HttpRequest,
): void {
  try {
    onError(asError(error), request);
  } catch (reporterError) {
    const reason = isError(reporterError) ? safeString(reporterError.message) : safeString(reporterError);
    reportToStderr(new Error(`onError threw: ${reason}`), request);
  }
}

/** A Common Log Format-like line: who, when, what, status, bytes, time. */
export function formatLogLine(entry: LogEntry, at: Date = new Date()): string {
  const bytes = entry.bytes === undefined ? '-' : String(entry.bytes);
  return `${entry.remoteipstr} [${at.toISOString()}] "${entry.verb} ${entry.target} HTTP/${entry.version}" ` +
    `${entry.statuscode} ${bytes} ${entry.durationMs.toFixed(1)}ms`;
}

import { safeString } from '../errors.js';
import { plainAddress } from '../request.js';
import type { TraceSettings } from './settings.js';

/**
 * The one place a listener's trace goes out: both views print through it,
 * so their blocks never cut into each other, and request and connection
 * numbers are counted per listener. Nothing here ever throws: neither a
 * value that cannot be shown nor an output that fails may break serving.
 */
export class Transcript {
  readonly color: boolean;
  readonly #write: (text: string) => void;
  #requests = 0;
  #connections = 0;
  /** Set by the wire view: ends a line of bytes it left open, so that a block starts on a line of its own. */
  interrupt: (() => string) | undefined;

  constructor(settings: TraceSettings) {
    this.color = settings.color;
    this.#write = settings.write;
  }

  nextRequest(): number {
    return ++this.#requests;
  }

  nextConnection(): number {
    return ++this.#connections;
  }

  /** Prints the block `render` makes, after whatever line of bytes is still open. */
  print(render: () => string): void {
    let text = this.#ended();
    try {
      text += render();
    } catch (error) {
      text += `(the trace cannot show this: ${safeString(error)})\n`;
    }
    this.write(text);
  }

  /** Writes text as is; an output that throws loses this block, nothing more. */
  write(text: string): void {
    if (text === '') return;
    try {
      this.#write(text);
    } catch {
      // The trace is a window on the server, never a reason for it to fail.
    }
  }

  #ended(): string {
    try {
      return this.interrupt?.() ?? '';
    } catch {
      return '';
    }
  }

  /** `── label ── detail`, the line that opens each block. */
  headline(label: string, detail?: string): string {
    const rule = this.paint(DIM, '──');
    return `${rule} ${this.paint(BOLD, label)}${detail === undefined ? '' : ` ${rule} ${detail}`}\n`;
  }

  paint(code: Style, text: string): string {
    return this.color ? `\x1b[${code[0]}m${text}\x1b[${code[1]}m` : text;
  }
}

export type Style = readonly [open: number, close: number];
export const BOLD: Style = [1, 22];
export const DIM: Style = [2, 22];
export const GREEN: Style = [32, 39];
export const CYAN: Style = [36, 39];
export const RED: Style = [31, 39];

/** `127.0.0.1:50412`, `[::1]:50412`. */
export function formatPeer(address: string, port: number): string {
  const plain = plainAddress(address);
  return plain.includes(':') ? `[${plain}]:${port}` : `${plain}:${port}`;
}

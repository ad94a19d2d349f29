import type { Readable } from 'node:stream';
import { inspect } from 'node:util';
import getRawBody from 'raw-body';
import { createHeaders, type HeaderDict } from './headers.js';
import { parseQuery, type QueryOptions } from './query.js';
import { expectInteger } from './arguments.js';
import { HttpError } from './errors.js';

const EMPTY = Buffer.alloc(0);

/** What the request listener tells a body about its request. */
export interface BodySource {
  /** The request as Node parsed it (an `IncomingMessage`). */
  stream: Readable & { rawTrailers?: string[]; complete?: boolean };
  /** `Content-Length`, or `undefined` for a chunked (or absent) length. */
  contentLength: number | undefined;
  maxBodySize: number;
  query: QueryOptions;
  /** Called once, before the first byte is asked for (sends `100 Continue`). */
  onFirstRead: () => void;
}

/**
 * The request body as Seattle's `datastream`: a file-like `read(size)`, plus
 * the whole-body readers of the Fetch API (`text`, `json`, `form`) and async
 * iteration. Nothing is read from the socket until one of them is called,
 * which is also when an `Expect: 100-continue` client is told to send.
 */
export class DataStream implements AsyncIterable<Buffer> {
  readonly #source: BodySource;
  #started = false;
  #bytesRead = 0;

  constructor(source: BodySource) {
    this.#source = source;
  }

  /** The underlying Node Readable. Touching it counts as starting to read. */
  get stream(): Readable {
    this.#start();
    return this.#source.stream;
  }

  /** Bytes handed out so far by `read`, iteration and the whole-body readers. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** True once the body has been read to its end. */
  get ended(): boolean {
    return this.#source.stream.readableEnded;
  }

  /**
   * Up to `size` bytes; an empty Buffer at the end of the body. With no size,
   * the whole rest of the body (bounded by `maxBodySize`).
   */
  async read(size?: number): Promise<Buffer> {
    if (size === undefined) return this.#readWhole();
    expectInteger('size', size, 1, Number.MAX_SAFE_INTEGER);
    this.#start();
    const stream = this.#source.stream;
    for (;;) {
      let chunk = stream.read() as Buffer | null;
      if (chunk !== null) {
        if (chunk.length > size) {
          stream.unshift(chunk.subarray(size));
          chunk = chunk.subarray(0, size);
        }
        this.#bytesRead += chunk.length;
        return chunk;
      }
      if (stream.readableEnded) return EMPTY;
      await whenReadable(stream);
    }
  }

  /** The whole body decoded as text. */
  async text(encoding: BufferEncoding = 'utf8'): Promise<string> {
    return (await this.#readWhole(encoding)) as unknown as string;
  }

  /** The whole body parsed as JSON; 400 when it is not JSON. */
  async json(): Promise<unknown> {
    const text = await this.text();
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new HttpError(400, `Invalid JSON in request body: ${(error as Error).message}`, { cause: error });
    }
  }

  /** The whole body parsed as `application/x-www-form-urlencoded`, like `querydict`. */
  async form(): Promise<Record<string, unknown>> {
    return parseQuery(await this.text(), this.#source.query);
  }

  /** Reads what is left of the body and returns its chunked trailers (`{}` when there are none). */
  async getTrailers(): Promise<HeaderDict> {
    for await (const chunk of this) void chunk;
    return createHeaders(this.#source.stream.rawTrailers ?? []);
  }

  /** `console.log(request)` shows how far the body has been read, not the stream's internals. */
  [inspect.custom](): string {
    return `DataStream { bytesRead: ${this.#bytesRead}, ended: ${this.ended} }`;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    for (;;) {
      const chunk = await this.read(64 * 1024);
      if (chunk.length === 0) return;
      yield chunk;
    }
  }

  /**
   * After the response: let Node discard a small unread remainder so that the
   * connection can carry the next request. Returns false when the remainder
   * is unknown or too large to be worth waiting for, so the caller closes.
   */
  drainable(limit: number): boolean {
    const stream = this.#source.stream;
    if (stream.readableEnded || stream.complete) return true;
    const { contentLength } = this.#source;
    return contentLength !== undefined && contentLength - this.#bytesRead <= limit;
  }

  /** Discards whatever is left of the body (see `drainable`). */
  drain(): void {
    const stream = this.#source.stream;
    if (stream.readableEnded) return;
    stream.removeAllListeners('readable');
    stream.removeAllListeners('data');
    stream.resume();
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#source.onFirstRead();
  }

  async #readWhole(encoding?: BufferEncoding): Promise<Buffer> {
    const { stream, contentLength, maxBodySize } = this.#source;
    // Refuse an announced oversize body before `100 Continue` asks the client to send it.
    if (contentLength !== undefined && contentLength > maxBodySize) {
      throw tooLarge(maxBodySize);
    }
    this.#start();
    if (stream.readableEnded) return (encoding ? '' : EMPTY) as Buffer;
    const pending = getRawBody(stream, {
      length: this.#bytesRead === 0 ? contentLength : undefined,
      limit: Math.max(0, maxBodySize - this.#bytesRead),
      encoding: encoding ?? null,
    } as getRawBody.Options);
    // A stream that `read(size)` paused stays paused for new 'data' listeners.
    stream.resume();
    try {
      const body = (await pending) as Buffer | string;
      this.#bytesRead += typeof body === 'string' ? Buffer.byteLength(body, encoding) : body.length;
      return body as Buffer;
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status === 413) throw tooLarge(maxBodySize, error);
      if (typeof status === 'number' && status !== 400) {
        throw new HttpError(status, (error as Error).message, { cause: error });
      }
      throw error;
    }
  }
}

function tooLarge(limit: number, cause?: unknown): HttpError {
  return new HttpError(413, `Request body is larger than the limit of ${limit} bytes`, { cause });
}

/** Resolves when `stream` has data or has ended; rejects when it fails or closes early. */
function whenReadable(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.destroyed && !stream.readableEnded) {
      reject(abortedError());
      return;
    }
    const cleanup = () => {
      stream.off('readable', onReady);
      stream.off('end', onReady);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onReady = () => { cleanup(); resolve(); };
    const onError = (error: Error) => { cleanup(); reject(error); };
    const onClose = () => {
      cleanup();
      if (stream.readableEnded) resolve(); else reject(abortedError());
    };
    stream.on('readable', onReady);
    stream.on('end', onReady);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

function abortedError(): Error {
  // status 400 like raw-body's 'request aborted': a client fault, not the callback's, so not reported.
  return Object.assign(new Error('The client closed the connection before the body was complete'), {
    code: 'ECONNRESET', status: 400, expose: false,
  });
}

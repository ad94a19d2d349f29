/** The part of autocannon's API the benchmarks use (the package ships no types). */
declare module 'autocannon' {
  interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p99: number;
  }

  /** What the response parser reports once a response head is complete. */
  interface ResponseHead {
    statusCode: number;
    /** False when the response announced that the server closes the connection after it. */
    shouldKeepAlive: boolean;
  }

  /** One connection's client, as `setupClient` receives it. */
  interface Client {
    on(event: 'headers', listener: (head: ResponseHead) => void): this;
  }

  interface Options {
    url: string;
    headers?: Record<string, string>;
    connections?: number;
    duration?: number;
    /** Requests to send in all; takes precedence over `duration`. */
    amount?: number;
    pipelining?: number;
    timeout?: number;
    expectBody?: string;
    setupClient?: (client: Client) => void;
  }

  interface Result {
    /** `total` counts answered requests; `sent` those written. */
    requests: Histogram & { sent: number };
    latency: Histogram;
    duration: number;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    statusCodeStats: Record<string, { count: number }>;
  }

  interface Instance extends Promise<Result> {
    stop(): void;
    on(event: 'reqError', listener: (error: Error & { code?: string }) => void): this;
  }

  function autocannon(options: Options): Instance;
  export = autocannon;
}

/**
 * The benchmark suite (`npm run bench`, `make bench`): seattle-httpserver
 * and Fastify against an equivalent hand-written node:http server, in the
 * same run, on the scenarios of bench/scenarios.ts.
 *
 * Each pair (A = raw node:http, B = the candidate) runs as two child
 * processes started once for all of the pair's rounds; wrk loads them in
 * interleaved rounds (A then B, then B then A, ...), so that drift in the
 * machine's speed touches both alike. Two figures per round:
 *   throughput  B / A, requests (or MiB) per second;
 *   CPU         A / B, the server process's user + system time per request
 *               (or per MiB), read from /proc/PID/stat around each wrk run.
 * Both read "higher is better for B". CPU time is work done, which
 * contention on a shared machine disturbs less than throughput; raw
 * node:http against itself (A/A) shows how much noise is left.
 *
 *   node dist/bench/suite.js [--rounds 10] [--duration 3] [--scenario hello ...] [--markdown]
 */
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { forkServer, guardBenchmark, positiveInteger, stopChild } from './child.js';
import { CLOCK_TICKS, cpuSeconds, describeMachine } from './machine.js';
import { SCENARIOS, SCENARIO_NAMES, postBody, type Implementation, type Scenario, type ScenarioName } from './scenarios.js';
import {
  printPairEnd, printPairStart, printRound, printSummary, type Pair, type PairResult, type Sample,
} from './suite-report.js';
import { runWrk, stopAllWrk, wrkErrors } from './wrk.js';

const MiB = 1024 * 1024;
const WARM_UP_SECONDS = 3;
/** Forking, the answer checks and stopping, per pair: for the time estimate. */
const PAIR_OVERHEAD_SECONDS = 3;

/** The A/A calibration first: it tells how far to trust the rest. */
const PAIRS: Pair[] = [
  { scenario: 'hello', a: 'node:http', b: 'node:http' },
  { scenario: 'hello', a: 'node:http', b: 'seattle-httpserver' },
  { scenario: 'hello', a: 'node:http', b: 'fastify' },
  { scenario: 'echo', a: 'node:http', b: 'seattle-httpserver' },
  { scenario: 'echo', a: 'node:http', b: 'fastify' },
  { scenario: 'post', a: 'node:http', b: 'seattle-httpserver' },
  { scenario: 'stream', a: 'node:http', b: 'seattle-httpserver' },
];

const SERVER_SCRIPT = `${__dirname}/suite-servers.js`;
const children = new Set<ChildProcess>();

function readSettings() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '10' },
      duration: { type: 'string', default: '3' },
      scenario: { type: 'string', multiple: true },
      markdown: { type: 'boolean', default: false },
    },
  });
  const scenarios = values.scenario ?? SCENARIO_NAMES;
  for (const name of scenarios) {
    if (!SCENARIO_NAMES.includes(name as ScenarioName)) {
      throw new Error(`--scenario must be one of ${SCENARIO_NAMES.join(', ')}, got ${name}`);
    }
  }
  return {
    rounds: positiveInteger('rounds', values.rounds!),
    duration: positiveInteger('duration', values.duration!),
    scenarios: scenarios as ScenarioName[],
    markdown: values.markdown!,
  };
}

async function main(): Promise<number> {
  const settings = readSettings();
  const pairs = PAIRS.filter((pair) => settings.scenarios.includes(pair.scenario));
  const perPair = 2 * WARM_UP_SECONDS + 2 * settings.rounds * settings.duration + PAIR_OVERHEAD_SECONDS;
  const estimate = pairs.length * perPair;

  console.log(`command: node dist/bench/suite.js ${process.argv.slice(2).join(' ')}`.trimEnd());
  for (const line of describeMachine()) console.log(line);
  console.log(
    `${pairs.length} pairs x ${settings.rounds} interleaved rounds x 2 runs of ${settings.duration} s, wrk -t 1 --latency, ` +
    `keep-alive, 127.0.0.1; about ${Math.round(estimate / 60)} min (${estimate} s).`,
  );
  console.log(
    `CPU: the server process's utime + stime from /proc/PID/stat, in ticks of ${1000 / CLOCK_TICKS} ms: ` +
    'a run of tens of thousands of requests keeps that resolution near 1%.\n',
  );

  const stopEverything = () => {
    stopAllWrk();
    for (const child of children) child.kill('SIGKILL');
  };
  const disarm = guardBenchmark(stopEverything, (2 * estimate + 60) * 1000, 'The benchmark took twice its estimate: stopping.');

  try {
    const results: PairResult[] = [];
    for (const pair of pairs) {
      const result = await measurePair(pair, settings.rounds, settings.duration);
      printPairEnd(result);
      results.push(result);
    }
    return printSummary(results, settings.markdown);
  } finally {
    disarm();
    await Promise.all([...children].map((child) => stopChild(child)));
  }
}

async function startServer(impl: Implementation, scenario: ScenarioName): Promise<{ child: ChildProcess; url: string }> {
  const { child, port } = await forkServer(SERVER_SCRIPT, ['--impl', impl, '--scenario', scenario], `${impl} (${scenario})`);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return { child, url: `http://127.0.0.1:${port}${SCENARIOS[scenario].path}` };
}

async function measurePair(pair: Pair, rounds: number, duration: number): Promise<PairResult> {
  const scenario = SCENARIOS[pair.scenario];
  const a = await startServer(pair.a, pair.scenario);
  const b = await startServer(pair.b, pair.scenario);
  try {
    // Figures from a server that answers wrongly would mean nothing: check each once.
    await checkAnswer(pair.a, a.url, scenario);
    await checkAnswer(pair.b, b.url, scenario);
    // A short run each lets V8 optimise before anything is counted.
    await measure(a.child, a.url, scenario, WARM_UP_SECONDS);
    await measure(b.child, b.url, scenario, WARM_UP_SECONDS);

    const result: PairResult = { pair, scenario, rounds: [] };
    printPairStart(pair, scenario);
    for (let round = 1; round <= rounds; round += 1) {
      const aFirst = round % 2 === 1;
      const first = await measure(aFirst ? a.child : b.child, aFirst ? a.url : b.url, scenario, duration);
      const second = await measure(aFirst ? b.child : a.child, aFirst ? b.url : a.url, scenario, duration);
      result.rounds.push({
        round,
        order: aFirst ? 'A,B' : 'B,A',
        a: aFirst ? first : second,
        b: aFirst ? second : first,
      });
      printRound(scenario, result.rounds.at(-1)!);
    }
    return result;
  } finally {
    await Promise.all([stopChild(a.child), stopChild(b.child)]);
  }
}

/** One wrk run against one server, with the server's CPU time read just before and just after. */
async function measure(child: ChildProcess, url: string, scenario: Scenario, duration: number): Promise<Sample> {
  const before = cpuSeconds(child.pid!);
  const wrk = await runWrk({
    url,
    method: scenario.method,
    headers: scenario.headers,
    bodySize: scenario.bodySize,
    connections: scenario.connections,
    duration,
  });
  const cpu = cpuSeconds(child.pid!) - before;
  const seconds = wrk.durationUs / 1e6;
  // Per MiB for the stream: wrk counts a 64 MiB answer only once whole, a few per second at most.
  const work = scenario.unit === 'MiB/s' ? wrk.bytes / MiB : wrk.requests;
  return {
    value: work / seconds,
    cpuPerUnit: work === 0 ? NaN : (cpu * 1e6) / work,
    p99Ms: wrk.p99Us / 1000,
    requests: wrk.requests,
    errors: wrkErrors(wrk),
  };
}

async function checkAnswer(impl: Implementation, url: string, scenario: Scenario): Promise<void> {
  const response = await fetch(url, {
    method: scenario.method,
    headers: scenario.headers,
    ...(scenario.bodySize > 0 ? { body: postBody() } : {}),
  });
  const body = Buffer.from(await response.arrayBuffer());
  const { contentType, size, body: text } = scenario.expected;
  const problems = [
    response.status !== 200 && `status ${response.status}`,
    !(response.headers.get('content-type') ?? '').startsWith(contentType) && `Content-Type ${response.headers.get('content-type')}`,
    body.length !== size && `${body.length} bytes instead of ${size}`,
    text !== undefined && body.toString() !== text && `body ${JSON.stringify(body.toString().slice(0, 80))}`,
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`${impl} answers ${scenario.name} wrongly: ${problems.join(', ')}`);
}

main().then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);

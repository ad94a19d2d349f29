/** bench/suite.ts's output: a table per pair as its rounds end, then the summary and the targets. */
import type { Implementation, Scenario, ScenarioName } from './scenarios.js';
import { markdownTable, ratioText, summarise, textTable, type Row } from './table.js';

/** A = raw node:http, B = the candidate (raw node:http again for the A/A calibration). */
export interface Pair {
  scenario: ScenarioName;
  a: Implementation;
  b: Implementation;
}

/** One wrk run against one server. */
export interface Sample {
  /** req/s, or MiB/s for the stream. */
  value: number;
  /** Server CPU µs per request, or per MiB for the stream. */
  cpuPerUnit: number;
  p99Ms: number;
  requests: number;
  errors: number;
}

export interface PairResult {
  pair: Pair;
  scenario: Scenario;
  rounds: Array<{ round: number; order: 'A,B' | 'B,A'; a: Sample; b: Sample }>;
}

/** A/A and A/B ratios, both "higher is better for B". */
const throughputRatios = (result: PairResult) => result.rounds.map(({ a, b }) => b.value / a.value);
const cpuRatios = (result: PairResult) => result.rounds.map(({ a, b }) => a.cpuPerUnit / b.cpuPerUnit);
const isCalibration = (result: PairResult) => result.pair.a === result.pair.b;
const cpuUnit = (scenario: Scenario) => (scenario.unit === 'MiB/s' ? 'µs/MiB' : 'µs/req');

function pairLabel(pair: Pair): string {
  return pair.a === pair.b ? `${pair.a} vs itself (A/A)` : `${pair.b} vs ${pair.a}`;
}

export type RoundResult = PairResult['rounds'][number];

function roundsHead(scenario: Scenario): Row {
  const { unit } = scenario;
  const cpu = cpuUnit(scenario);
  return [
    'round', 'order', `A ${unit}`, 'A p99 ms', `A CPU ${cpu}`, `B ${unit}`, 'B p99 ms', `B CPU ${cpu}`,
    'B/A thr', 'A/B CPU', 'errors',
  ];
}

function roundRow({ round, order, a, b }: RoundResult): Row {
  return [
    String(round), order,
    a.value.toFixed(0), a.p99Ms.toFixed(1), a.cpuPerUnit.toFixed(1),
    b.value.toFixed(0), b.p99Ms.toFixed(1), b.cpuPerUnit.toFixed(1),
    (b.value / a.value).toFixed(3), (a.cpuPerUnit / b.cpuPerUnit).toFixed(3),
    String(a.errors + b.errors),
  ];
}

function pairTitle(pair: Pair, scenario: Scenario): string {
  return `${scenario.name}: ${pairLabel(pair)} — ${scenario.title}; ${scenario.connections} connections ` +
    `(A = ${pair.a}, B = ${pair.b})`;
}

/** The rounds' table is printed a row at a time, as each round ends: columns as wide as their heads. */
export function printPairStart(pair: Pair, scenario: Scenario): void {
  console.log(`${pairTitle(pair, scenario)}\n${textTable(roundsHead(scenario), [], 2)}`);
}

export function printRound(scenario: Scenario, round: RoundResult): void {
  const head = roundsHead(scenario);
  console.log(textTable(head, [roundRow(round)], 2).split('\n')[1]);
}

export function printPairEnd(result: PairResult): void {
  console.log(`median B/A throughput ${ratioText(throughputRatios(result))}, A/B CPU ${ratioText(cpuRatios(result))}\n`);
}

function summaryTable(results: PairResult[]): { head: Row; rows: Row[] } {
  const head = [
    'scenario', 'B vs A', 'A median', 'B median', 'B/A throughput (min–max)', 'A CPU', 'B CPU', 'A/B CPU (min–max)', 'target', 'met (thr / CPU)',
  ];
  const rows = results.map((result) => {
    const { scenario } = result;
    const through = summarise(throughputRatios(result)).median;
    const cpu = summarise(cpuRatios(result)).median;
    const calibration = isCalibration(result);
    // The calibration's target is a band around 1; Fastify's rows are a reference, their target is in the verdicts.
    const target = calibration ? '0.97–1.03' : result.pair.b === 'fastify' ? '—' : `≥ ${scenario.target.toFixed(2)}`;
    const met = calibration
      ? `${inBand(through)} / ${inBand(cpu)}`
      : result.pair.b === 'fastify' ? '—' : `${yes(through >= scenario.target)} / ${yes(cpu >= scenario.target)}`;
    return [
      scenario.name, pairLabel(result.pair),
      `${summarise(result.rounds.map((r) => r.a.value)).median.toFixed(0)} ${scenario.unit}`,
      `${summarise(result.rounds.map((r) => r.b.value)).median.toFixed(0)} ${scenario.unit}`,
      ratioText(throughputRatios(result)),
      `${summarise(result.rounds.map((r) => r.a.cpuPerUnit)).median.toFixed(1)} ${cpuUnit(scenario)}`,
      `${summarise(result.rounds.map((r) => r.b.cpuPerUnit)).median.toFixed(1)} ${cpuUnit(scenario)}`,
      ratioText(cpuRatios(result)),
      target, met,
    ];
  });
  return { head, rows };
}

const yes = (ok: boolean) => (ok ? 'yes' : 'NO');
const inBand = (ratio: number) => yes(ratio >= 0.97 && ratio <= 1.03);

/** seattle-httpserver against Fastify, each through its own pair with raw node:http: the quotient of the medians. */
function fastifyVerdicts(results: PairResult[]): string[] {
  const lines: string[] = [];
  for (const scenario of ['hello', 'echo']) {
    const find = (b: string) => results.find((r) => r.pair.scenario === scenario && r.pair.b === b);
    const seattle = find('seattle-httpserver');
    const fastify = find('fastify');
    if (seattle === undefined || fastify === undefined) continue;
    const through = summarise(throughputRatios(seattle)).median / summarise(throughputRatios(fastify)).median;
    const cpu = summarise(cpuRatios(seattle)).median / summarise(cpuRatios(fastify)).median;
    lines.push(
      `${scenario}: seattle-httpserver / Fastify = ${through.toFixed(3)} throughput, ${cpu.toFixed(3)} CPU ` +
      `(each the quotient of the two medians against raw node:http): ahead of Fastify ${yes(through > 1)} / ${yes(cpu > 1)}`,
    );
  }
  return lines;
}

function targetVerdicts(results: PairResult[]): string[] {
  return results.map((result) => {
    const through = summarise(throughputRatios(result)).median;
    const cpu = summarise(cpuRatios(result)).median;
    if (isCalibration(result)) {
      return `calibration, ${result.scenario.name} A/A: CPU ratio ${cpu.toFixed(3)}, throughput ratio ${through.toFixed(3)} ` +
        `(within 0.97–1.03: ${inBand(cpu)} / ${inBand(through)})`;
    }
    if (result.pair.b === 'fastify') return undefined;
    const story = (through >= result.scenario.target) === (cpu >= result.scenario.target)
      ? 'same side of the target'
      : 'opposite sides of the target';
    return `${result.scenario.name}: target ≥ ${result.scenario.target.toFixed(2)}: throughput ${through.toFixed(3)} ` +
      `${yes(through >= result.scenario.target)}, CPU ${cpu.toFixed(3)} ${yes(cpu >= result.scenario.target)} (${story})`;
  }).filter((line): line is string => line !== undefined);
}

/** Prints the summary; 1 when any run had errors, so that its figures are not quoted. */
export function printSummary(results: PairResult[], markdown: boolean): number {
  const summary = summaryTable(results);
  console.log('Summary: medians of the per-round ratios, spread (min–max); higher is better for B in both ratios.');
  console.log(textTable(summary.head, summary.rows, 2));
  console.log('');
  for (const line of [...targetVerdicts(results), ...fastifyVerdicts(results)]) console.log(line);

  if (markdown) {
    console.log('\n<!-- Markdown for bench/RESULTS.md -->\n');
    console.log(markdownTable(summary.head, summary.rows, 2));
    console.log('');
    for (const line of [...targetVerdicts(results), ...fastifyVerdicts(results)]) console.log(`- ${line}`);
    for (const result of results) {
      const table = markdownTable(roundsHead(result.scenario), result.rounds.map(roundRow), 2);
      console.log(`\n${pairTitle(result.pair, result.scenario)}\n\n${table}`);
    }
  }

  const errors = results.flatMap((result) => result.rounds).reduce((sum, r) => sum + r.a.errors + r.b.errors, 0);
  if (errors > 0) {
    console.error(`\n${errors} socket errors or non-2xx answers: the figures above are not trustworthy.`);
    return 1;
  }
  return 0;
}

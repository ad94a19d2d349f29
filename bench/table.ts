/** The benchmarks' tables, as aligned text for the terminal or as Markdown for bench/RESULTS.md. */
import { medianOf } from './child.js';

export type Row = ReadonlyArray<string>;

/** Columns padded to their widest cell: the first `leftColumns` (labels) left-aligned, the others (numbers) right-aligned. */
export function textTable(head: Row, rows: Row[], leftColumns = 1): string {
  const widths = head.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: Row) => row
    .map((cell, column) => (column < leftColumns ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
    .join('  ')
    .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export function markdownTable(head: Row, rows: Row[], leftColumns = 1): string {
  const line = (row: Row) => `| ${row.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
  const rule = `| ${head.map((_, column) => (column < leftColumns ? '---' : '---:')).join(' | ')} |`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}

/** The median, and the spread as min–max. */
export function summarise(values: number[]): { median: number; min: number; max: number } {
  return { median: medianOf(values), min: Math.min(...values), max: Math.max(...values) };
}

export function ratioText(values: number[]): string {
  const { median, min, max } = summarise(values);
  return `${median.toFixed(3)} (${min.toFixed(2)}–${max.toFixed(2)})`;
}

/**
 * What the benchmarks read from the machine: a server child's CPU time, from
 * the outside (/proc/PID/stat, so that the server runs no measuring code of
 * its own), and a description of the machine for the top of the output.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { wrkVersion } from './wrk.js';

/** Clock ticks per second, the unit of /proc/PID/stat's times (100 almost everywhere). */
export const CLOCK_TICKS = readClockTicks();

function readClockTicks(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

/**
 * User + system CPU time of process `pid` so far, in seconds, all its
 * threads included (V8's GC helpers and libuv's pool work for the server
 * too). Resolution: one clock tick.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name, field 2, is in parentheses and may hold spaces: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`Unreadable /proc/${pid}/stat: ${stat}`);
  return ticks / CLOCK_TICKS;
}

export function describeMachine(): string[] {
  const cpus = os.cpus();
  return [
    `machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `${os.type()} ${os.release()}, load average ${os.loadavg().map((load) => load.toFixed(2)).join(' ')}`,
    `node ${process.version}, ${wrkVersion()}`,
  ];
}

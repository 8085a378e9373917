import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import type { BenchSection } from './index.js';

/**
 * TUI figures, measured on the real program in a real terminal (tmux):
 * - firstFrameMs: process start to the first full frame (the program logs process.uptime() when
 *   it draws its first frame), median of 5 starts; firstFrameSeenMs: spawn until tmux shows it.
 * - idleRssMb: resident memory after 30 s idle on the Dashboard, with the collector off
 *   (market.collect.enabled: false): the interface alone.
 * - idleCpuPercent: CPU time used over those 30 s, as a share of one core.
 * - collectingIdleRssMb / collectingIdleCpuPercent: the same with the default configuration, where
 *   the interface collects market.collect's 5 symbols from launch (live klines and their 30-day
 *   backfill, here from the local exchange running in the same process).
 */
const IDLE_SECONDS = Number(process.env.ATM_BENCH_IDLE_SECONDS ?? 30);

function tmux(socket: string, args: string[]): string {
  const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

function clockTicksPerSecond(): number {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return Number(r.stdout.trim()) || 100;
}

async function startOnce(keepRunning: boolean, config?: string): Promise<{ firstFrameMs: number; seenMs: number; pid: number; stop(): void }> {
  const home = mkdtempSync(join(tmpdir(), 'atm-bench-'));
  if (config !== undefined) writeFileSync(join(home, 'config.yaml'), config);
  const socket = `atm-bench-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
  const root = packageRoot();
  const cmd = `cd '${root}' && exec env TERM=xterm-256color node bin/atm.js --home '${home}'`;
  const started = performance.now();
  tmux(socket, ['-f', '/dev/null', 'new-session', '-d', '-s', 'b', '-x', '160', '-y', '45', cmd]);
  let seenMs = 0;
  await waitFor(() => {
    const screen = tmux(socket, ['capture-pane', '-p', '-t', 'b']);
    if (screen.includes('Worker pools') && /UTC/.test(screen)) {
      seenMs = performance.now() - started;
      return true;
    }
    return false;
  }, 15_000, 'the first frame');
  const logFile = join(home, 'atm.log');
  let firstFrameMs = NaN;
  let pid = 0;
  await waitFor(() => {
    try {
      const line = readFileSync(logFile, 'utf8').split('\n').find((l) => l.includes('"firstFrameMs"'));
      if (!line) return false;
      const obj = JSON.parse(line);
      firstFrameMs = obj.firstFrameMs;
      pid = obj.pid;
      return true;
    } catch {
      return false;
    }
  }, 5000, 'the first-frame log line');
  const stop = () => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    rmSync(home, { recursive: true, force: true });
  };
  if (!keepRunning) stop();
  return { firstFrameMs, seenMs, pid, stop };
}

/**
 * Resident memory and CPU share of process `pid` over a quiet window on the Dashboard, after 2 s
 * for start-up to settle (JIT, lazy pages).
 */
async function idleFigures(pid: number): Promise<{ rssMb: number; cpuPercent: number; seconds: number }> {
  await new Promise((r) => setTimeout(r, 2000));
  const ticks0 = cpuTicks(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const ticks1 = cpuTicks(pid);
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = (ticks1 - ticks0) / clockTicksPerSecond();
  return { rssMb: Math.round((rssBytes(pid) / 1024 / 1024) * 10) / 10, cpuPercent: Math.round((cpuSeconds / seconds) * 100 * 100) / 100, seconds };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export const section: BenchSection = {
  name: 'tui',
  async run() {
    const firstFrames: number[] = [];
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      const run = await startOnce(false);
      firstFrames.push(run.firstFrameMs);
      seen.push(run.seenMs);
    }
    const idle = await startOnce(true);
    firstFrames.push(idle.firstFrameMs);
    seen.push(idle.seenMs);
    let collecting: { rssMb: number; cpuPercent: number; seconds: number };
    try {
      collecting = await idleFigures(idle.pid);
    } finally {
      idle.stop();
    }
    // the same without the collector (market.collect.enabled: false): the interface alone
    const quiet = await startOnce(true, 'market:\n  collect:\n    enabled: false\n');
    let alone: { rssMb: number; cpuPercent: number; seconds: number };
    try {
      alone = await idleFigures(quiet.pid);
    } finally {
      quiet.stop();
    }
    return {
      firstFrameMs: Math.round(median(firstFrames)),
      firstFrameMsRuns: firstFrames,
      firstFrameSeenMs: Math.round(median(seen)),
      idleSeconds: Math.round(alone.seconds),
      idleRssMb: alone.rssMb,
      idleCpuPercent: alone.cpuPercent,
      collectingIdleRssMb: collecting.rssMb,
      collectingIdleCpuPercent: collecting.cpuPercent,
      targets: { firstFrameMs: 1500, idleRssMb: 120, idleCpuPercent: 1 },
    };
  },
};

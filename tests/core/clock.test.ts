import { execFileSync, spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RealClock, SimulatedClock, sleep } from '../../src/core/clock.js';

/**
 * RealClock timers and the process lifetime. A back-off is a timer that something awaits: if the
 * timer does not keep the event loop alive, Node ends a command-line process in the middle of the
 * wait, with exit status 13 and no output (issue 8, defect 1). Only a real process shows it.
 */
describe('RealClock timers keep a process alive unless they are background timers', () => {
  const clockModule = pathToFileURL(resolve('dist/core/clock.js')).href;
  const run = (body: string) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', `import { RealClock, sleep } from ${JSON.stringify(clockModule)};\nconst clock = new RealClock();\n${body}`], { encoding: 'utf8' });

  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
  });

  it('a top-level await on a timer (a back-off) finishes and the process exits 0', () => {
    const r = run(`await new Promise((resolve) => clock.setTimer(50, resolve));\nprocess.stdout.write('after the wait');`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('after the wait');
    expect(r.status).toBe(0);
  });

  it('sleep() keeps the process alive too', () => {
    const r = run(`await sleep(clock, 50);\nprocess.stdout.write('slept');`);
    expect(r.stdout).toBe('slept');
    expect(r.status).toBe(0);
  });

  it('a background timer (a watchdog) lets the process end', () => {
    const r = run(`clock.setTimer(60_000, () => process.stdout.write('fired'), { background: true });\nprocess.stdout.write('done');`);
    expect(r.stdout).toBe('done');
    expect(r.status).toBe(0);
  });

  it('a cancelled timer does not fire and does not hold the process', () => {
    const r = run(`const cancel = clock.setTimer(60_000, () => process.stdout.write('fired'));\ncancel();\nprocess.stdout.write('done');`);
    expect(r.stdout).toBe('done');
    expect(r.status).toBe(0);
  });
});

describe('sleep', () => {
  it('resolves when the clock passes the time', async () => {
    const clock = new SimulatedClock(0);
    let done = false;
    const p = sleep(clock, 1000).then(() => (done = true));
    clock.advanceBy(999);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advanceBy(1);
    await p;
    expect(done).toBe(true);
  });

  it('rejects with the signal reason on abort and cancels its timer', async () => {
    const clock = new SimulatedClock(0);
    const controller = new AbortController();
    const p = sleep(clock, 1000, controller.signal);
    expect(clock.pendingTimers).toBe(1);
    controller.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(clock.pendingTimers).toBe(0);
    await expect(sleep(clock, 10, controller.signal)).rejects.toThrow('stop');
  });

  it('works on the real clock', async () => {
    await expect(sleep(new RealClock(), 1)).resolves.toBeUndefined();
  });
});

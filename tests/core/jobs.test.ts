import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/core/bus.js';
import { FINISHED_KEPT, FINISHED_KEPT_MS, Jobs } from '../../src/core/jobs.js';

describe('Jobs: the list behind the Dashboard and the Market page', () => {
  it('keeps progress, an ETA from the rate so far, and the result or error of finished jobs, newest first', () => {
    let now = 1_000_000;
    const bus = new EventBus();
    const states: string[] = [];
    bus.on('job.state', (e) => states.push(`${e.label}:${e.state}`));
    const jobs = new Jobs(bus, () => now);
    const a = jobs.start('import');
    const b = jobs.start('download');
    expect(jobs.list().map((j) => j.label)).toEqual(['download', 'import']);
    expect(jobs.list()[1].etaMs).toBeUndefined(); // no progress yet: no estimate
    now += 10_000;
    a.progress(25, 100); // a quarter in 10 s: 30 s left
    expect(jobs.list().find((j) => j.id === a.id)).toMatchObject({ state: 'running', done: 25, total: 100, etaMs: 30_000 });
    a.done('4 files');
    b.fail(new Error('no route'));
    expect(jobs.list().map((j) => [j.label, j.state, j.result ?? j.error])).toEqual([['download', 'failed', 'no route'], ['import', 'done', '4 files']]);
    expect(jobs.list()[1].etaMs).toBeUndefined();
    expect(jobs.running()).toEqual([]);
    expect(states).toEqual(['import:running', 'download:running', 'import:done', 'download:failed']);
    // finished jobs leave the list after a while
    now += FINISHED_KEPT_MS + 1;
    expect(jobs.list()).toEqual([]);
  });

  it('cancel(id) aborts the job\'s signal; the job ends itself; at most FINISHED_KEPT finished ones stay', () => {
    const jobs = new Jobs(new EventBus(), () => 0);
    const job = jobs.start('long');
    expect(jobs.cancel(job.id)).toBe(true);
    expect(job.signal.aborted).toBe(true);
    expect(jobs.list()[0].state).toBe('running'); // until the job sees the signal and stops
    job.cancel();
    expect(jobs.list()[0].state).toBe('cancelled');
    expect(jobs.cancel(job.id)).toBe(false);
    for (let i = 0; i < FINISHED_KEPT + 5; i++) jobs.start(`j${i}`).done();
    const running = jobs.start('still running');
    const list = jobs.list();
    expect(list.filter((j) => j.state !== 'running').length).toBe(FINISHED_KEPT);
    expect(list[0].id).toBe(running.id);
    expect(list[1].label).toBe(`j${FINISHED_KEPT + 4}`);
  });
});

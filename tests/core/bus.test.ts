import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/core/bus.js';
import { SimulatedClock } from '../../src/core/clock.js';

describe('EventBus', () => {
  it('delivers synchronously, in subscription order, with typed payloads', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.on('log.level', (p) => seen.push(`a:${p.level}`));
    bus.on('log.level', (p) => seen.push(`b:${p.level}`));
    bus.emit('log.level', { level: 'debug' });
    expect(seen).toEqual(['a:debug', 'b:debug']);
  });

  it('unsubscribes, and once() fires a single time', () => {
    const bus = new EventBus();
    let count = 0;
    let onceCount = 0;
    const off = bus.on('notify', () => count++);
    bus.once('notify', () => onceCount++);
    bus.emit('notify', { kind: 'trade', message: 'x' });
    off();
    bus.emit('notify', { kind: 'trade', message: 'y' });
    expect(count).toBe(1);
    expect(onceCount).toBe(1);
    expect(bus.listenerCount('notify')).toBe(0);
  });

  it('keeps delivering when a handler throws, and reports the error', () => {
    const errors: unknown[] = [];
    const bus = new EventBus(undefined, (_name, error) => errors.push(error));
    const seen: number[] = [];
    bus.on('notify', () => {
      throw new Error('boom');
    });
    bus.on('notify', () => seen.push(1));
    bus.emit('notify', { kind: 'error', message: 'x' });
    expect(seen).toEqual([1]);
    expect((errors[0] as Error).message).toBe('boom');
  });

  it('measures the event rate over a window without any timer', () => {
    let now = 0;
    const bus = new EventBus(() => now);
    for (let i = 0; i < 50; i++) {
      now = i * 100; // 10 events per second for 5 s
      bus.emit('log.level', { level: 'info' });
    }
    expect(bus.rate(5000)).toBeCloseTo(10, 0);
    now += 10_000;
    expect(bus.rate(5000)).toBe(0);
    expect(bus.emitted).toBe(50);
  });

  it('lets a handler unsubscribe itself during delivery without skipping others', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    const off = bus.on('notify', () => {
      seen.push('first');
      off();
    });
    bus.on('notify', () => seen.push('second'));
    bus.emit('notify', { kind: 'trade', message: '' });
    bus.emit('notify', { kind: 'trade', message: '' });
    expect(seen).toEqual(['first', 'second', 'second']);
  });
});

describe('SimulatedClock', () => {
  it('fires timers in due order only when advanced', () => {
    const clock = new SimulatedClock(1000);
    const fired: string[] = [];
    clock.setTimer(300, () => fired.push('c'));
    clock.setTimer(100, () => fired.push('a'));
    const cancel = clock.setTimer(200, () => fired.push('b'));
    cancel();
    clock.advanceBy(150);
    expect(fired).toEqual(['a']);
    expect(clock.now()).toBe(1150);
    clock.advanceTo(2000);
    expect(fired).toEqual(['a', 'c']);
    expect(() => clock.advanceTo(10)).toThrow(RangeError);
  });
});

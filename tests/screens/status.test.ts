import { describe, expect, it } from 'vitest';
import { fitStatus, type StatusSegment } from '../../src/screens/status.js';
import { visibleColumns, tableRow, type Column } from '../../src/screens/widgets.js';

const line = (segments: StatusSegment[], room: number) => fitStatus(segments, room).map((p) => p.separator + p.text).join('');

describe('status bar fitting', () => {
  const segments: StatusSegment[] = [
    { text: 'exchange: offline', priority: 1 },
    { text: 'workers a:0/1 s:0/1', priority: 5 },
    { text: 'a run a temporary analysis', group: 'hints', priority: 3 },
    { text: '/ filter symbols', group: 'hints', priority: 3 },
    { text: '? help', group: 'hints', priority: 0 },
  ];

  it('keeps everything when there is room, hints joined by two spaces', () => {
    expect(line(segments, 200)).toBe(' exchange: offline │ workers a:0/1 s:0/1 │ a run a temporary analysis  / filter symbols  ? help');
  });

  it('drops whole segments by priority and never cuts a hint mid-word; ? help always stays', () => {
    for (const room of [70, 50, 40, 30, 8]) {
      const text = line(segments, room);
      expect(text.length).toBeLessThanOrEqual(room);
      expect(text).toContain('? help');
      for (const s of segments) {
        // a segment is there whole or not at all
        const start = s.text.slice(0, 3);
        if (text.includes(start)) expect(text).toContain(s.text);
      }
    }
    expect(line(segments, 50)).toBe(' exchange: offline │ / filter symbols  ? help');
    expect(line(segments, 20)).toBe(' ? help');
  });

  it('a message is cut to the room the higher-priority segments leave, hints dropped first', () => {
    const withToast: StatusSegment[] = [...segments.slice(0, 2), { text: 'order rejected: -2019 margin is insufficient', priority: 1, cuttable: true }, segments[4]];
    expect(line(withToast, 80)).toBe(' exchange: offline │ order rejected: -2019 margin is insufficient │ ? help');
    const narrow = line(withToast, 40);
    expect(narrow).toMatch(/^ exchange: offline │ order rej.* │ \? help$/);
    expect(narrow.length).toBe(40);
  });
});

describe('table columns by priority', () => {
  const columns: Column[] = [{ width: 6, priority: 0 }, { width: 10, priority: 2 }, { width: 4, align: 'right', priority: 1 }];
  it('drops the highest priority numbers first and keeps the order', () => {
    expect(visibleColumns(columns, 30)).toEqual([0, 1, 2]);
    expect(visibleColumns(columns, 12)).toEqual([0, 2]);
    expect(visibleColumns(columns, 6)).toEqual([0]);
    expect(tableRow(columns, [0, 2], ['symbol', 'ignored', '7'])).toBe('symbol    7');
  });
});

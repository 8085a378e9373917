import { fit, textWidth } from './widgets.js';

/** One piece of the status bar. */
export interface StatusSegment {
  text: string;
  /** 0 always shows (a cuttable one cut to the room left); higher numbers drop first. */
  priority: number;
  /** Segments of one group (the key hints) are separated by two spaces, groups by ' │ '. */
  group?: string;
  /** Whether its text may be cut to fit (a message); hints and figures are kept whole or dropped. */
  cuttable?: boolean;
  role?: string;
}

export interface PlacedSegment {
  text: string;
  separator: string;
  role?: string;
}

/** Lays out the kept segments in their original order, with `widths` overriding text widths. */
function place(segments: readonly StatusSegment[], kept: Set<number>, cut: Map<number, number>): { placed: PlacedSegment[]; used: number } {
  const placed: PlacedSegment[] = [];
  let used = 0;
  let previous: StatusSegment | undefined;
  segments.forEach((s, i) => {
    if (!kept.has(i)) return;
    const separator = !previous ? ' ' : s.group !== undefined && s.group === previous.group ? '  ' : ' │ ';
    const text = cut.has(i) ? fit(s.text, cut.get(i)!) : s.text;
    used += textWidth(separator) + textWidth(text);
    placed.push({ text, separator, role: s.role });
    previous = s;
  });
  return { placed, used };
}

/**
 * Chooses which segments fit in `room` cells: whole segments by priority (lowest number first,
 * then in order), shown in their original order. Nothing is cut mid-word except a cuttable
 * segment (a message), which takes the room left by the segments of its own and higher
 * priority, and is dropped only when fewer than 4 cells are left.
 */
export function fitStatus(segments: readonly StatusSegment[], room: number): PlacedSegment[] {
  const rank = (i: number) => segments[i].priority * 2 + (segments[i].cuttable ? 1 : 0);
  const order = segments.map((_, i) => i).sort((a, b) => rank(a) - rank(b) || a - b);
  const kept = new Set<number>();
  const cut = new Map<number, number>();
  for (const i of order) {
    kept.add(i);
    if (place(segments, kept, cut).used <= room) continue;
    if (segments[i].cuttable) {
      cut.set(i, 0);
      const left = room - place(segments, kept, cut).used;
      if (left >= 4) {
        cut.set(i, left);
        continue;
      }
      cut.delete(i);
    }
    kept.delete(i);
  }
  return place(segments, kept, cut).placed;
}

import { PassThrough, Writable } from 'node:stream';
import type { Widgets } from 'blessed';
import { createScreen } from '../../src/screens/tui.js';

/** A writable that looks like a TTY of the given size to blessed, and drops the bytes. */
class FakeTty extends Writable {
  isTTY = true;
  constructor(public columns: number, public rows: number) {
    super();
  }
  override _write(_chunk: unknown, _enc: BufferEncoding, done: () => void): void {
    done();
  }
  getWindowSize(): [number, number] {
    return [this.columns, this.rows];
  }
}

export interface HeadlessScreen {
  screen: Widgets.Screen;
  input: PassThrough & { isTTY?: boolean; setRawMode?: (mode: boolean) => void };
  /** The rendered screen as text lines (call after screen.render()). */
  text(): string[];
  /** Sends keys as a terminal would (e.g. '?', '\t', '\x1b[Z' for Shift-Tab, '\r' for Enter). */
  type(data: string): void;
  destroy(): void;
}

/** A real blessed screen rendering into memory, for headless screen tests. */
export function headlessScreen(columns = 120, rows = 40): HeadlessScreen {
  const input = new PassThrough() as HeadlessScreen['input'];
  input.isTTY = true;
  input.setRawMode = () => {};
  const output = new FakeTty(columns, rows);
  const screen = createScreen({ input, output, env: { TERM: 'xterm-256color' } });
  return {
    screen,
    input,
    // blessed (fullUnicode) stores a '\x03' placeholder in the cell after a double-width character.
    text: () => (screen as any).lines.map((line: [number, string][]) => line.map((cell) => cell[1]).join('').replace(/\x03/g, '')),
    type: (data: string) => {
      input.write(data);
    },
    destroy: () => screen.destroy(),
  };
}

export { waitFor } from './wait.js';

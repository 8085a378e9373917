import { afterEach, describe, expect, it } from 'vitest';
import { ShellHarness } from '../../helpers/shell.js';

/**
 * The once-a-second tick redraws only the boxes whose text changed. Setting a box's text blanks
 * its area at once in blessed, so a tick that set the same text left the Exchange box blank (after
 * connecting, after a resize) until something forced a full redraw.
 */
describe('Dashboard Exchange box across ticks and resizes (headless)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  /** Runs the shell's once-a-second redraw now (what its timer does), without a full render. */
  const tick = () => (h.shell as unknown as { tickRender(): void }).tickRender();
  /** The screen as drawn so far (no full render first, unlike h.text()). */
  const drawn = () => h.hs.text().join('\n');

  it('stays drawn through ticks, before and after a resize', async () => {
    h = await new ShellHarness().start({ width: 120, height: 40 });
    expect(drawn()).toContain('not connected');
    tick();
    tick();
    expect(drawn()).toContain('┌─ Exchange');
    expect(drawn()).toContain('not connected');
    const output = (h.hs.screen.program as unknown as { output: NodeJS.WriteStream & { columns: number; rows: number } }).output;
    output.columns = 100;
    output.rows = 30;
    output.emit('resize');
    await h.until(/^.{100}$/m); // the resize has reached blessed
    for (let i = 0; i < 3; i++) {
      tick();
      expect(drawn(), `tick ${i}`).toContain('┌─ Exchange');
      expect(drawn(), `tick ${i}`).toContain('not connected');
    }
  });
});

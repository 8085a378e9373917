import { afterEach, describe, expect, it } from 'vitest';
import { ShellHarness } from './../helpers/shell.js';

describe('palette messages follow the language (headless)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  const run = (command: string) => {
    h.press(':');
    h.press(command);
    return h.press('\r');
  };

  it(':lang xx in Korean, then :lang en: the usage message is shown in English, not left in Korean', async () => {
    h = await new ShellHarness().start({ width: 160, height: 40 });
    run('lang ko');
    await h.until('[1 대시보드]');
    let screen = run('lang xx');
    expect(screen).toContain('사용법: lang <en|ko>');
    screen = run('lang en');
    screen = await h.until('[1 Dashboard]');
    expect(screen).not.toContain('사용법');
    // the message still shows (it has not expired), now in English
    expect(screen).toContain('usage: lang <en|ko>');
  });
});

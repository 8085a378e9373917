import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compose } from '../../../src/main/compose.js';
import { Shell } from '../../../src/screens/shell.js';
import { headlessScreen } from '../../helpers/screen.js';
import { tempHome } from '../../helpers/app.js';

describe('Dashboard Exchange block', () => {
  it('shows websocket rate, lag, reconnects and the order book state of the connected exchange', async () => {
    const tmp = tempHome();
    writeFileSync(join(tmp.home, 'config.yaml'), 'exchange:\n  mode: sim\n');
    const { app, parts } = await compose({ home: tmp.home, logSync: true });
    const hs = headlessScreen(160, 40);
    const shell = new Shell(app, hs.screen, { onExit: () => undefined });
    try {
      shell.renderNow();
      expect(hs.text().join('\n')).toContain('not connected');
      const port = await parts.exchange.start();
      const handle = port.orderBook('BTCUSDT');
      await handle.ready();
      for (const page of (shell as any).pages.values()) page.update();
      shell.renderNow();
      const text = hs.text().join('\n');
      expect(text).toContain('Exchange');
      expect(text).toMatch(/local \(simulated\) · \d+ msg\/s · lag \d+ ms/);
      expect(text).toMatch(/BTCUSDT live \d+\.\d\/\d+\.\d resyncs 0/);
      handle.unsubscribe();
    } finally {
      shell.dispose(); // its one-second tick reads the database: stop it before the app closes it
      hs.destroy();
      await app.close();
      tmp.cleanup();
    }
  });
});

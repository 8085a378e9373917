import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type AppOptions } from '../../src/core/app.js';

/** A fresh data directory under the system temp dir. */
export function tempHome(prefix = 'atm-test-'): { home: string; cleanup(): void } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** Opens a real App (real SQLite, real logging) in a temp data directory. */
export async function openTestApp(options: Partial<AppOptions> = {}): Promise<{ app: App; home: string; cleanup(): Promise<void> }> {
  const tmp = tempHome();
  const app = await App.open({ home: tmp.home, logSync: true, ...options });
  return {
    app,
    home: tmp.home,
    cleanup: async () => {
      await app.close();
      tmp.cleanup();
    },
  };
}

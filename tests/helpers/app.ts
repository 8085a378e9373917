import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App, AppOptions } from '../../src/core/app.js';
import { compose, type Composition } from '../../src/main/compose.js';

/** A fresh data directory under the system temp dir. */
export function tempHome(prefix = 'atm-test-'): { home: string; cleanup(): void } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/**
 * Opens a real App (real SQLite, real logging, real worker pools) in a temp data directory,
 * built by the composition root. `parts` reaches below the facade, for tests only.
 */
export async function openTestApp(
  options: Partial<AppOptions> = {},
): Promise<{ app: App; parts: Composition['parts']; home: string; cleanup(): Promise<void> }> {
  const tmp = tempHome();
  const { app, parts } = await compose({ home: tmp.home, logSync: true, ...options });
  return {
    app,
    parts,
    home: tmp.home,
    cleanup: async () => {
      await app.close();
      tmp.cleanup();
    },
  };
}

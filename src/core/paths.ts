import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The data directory: `--home`, else `$ATM_HOME`, else `$XDG_DATA_HOME/atm`, else
 * `~/.local/share/atm`. It holds the database, the log file and the user configuration.
 */
export function resolveHome(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.ATM_HOME) return resolve(env.ATM_HOME);
  const xdg = env.XDG_DATA_HOME && env.XDG_DATA_HOME.length > 0 ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(xdg, 'atm');
}

export interface HomePaths {
  home: string;
  database: string;
  logFile: string;
  userConfig: string;
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    database: join(home, 'atm.sqlite'),
    logFile: join(home, 'atm.log'),
    userConfig: join(home, 'config.yaml'),
  };
}

let cachedRoot: string | undefined;

/** The package root (the folder holding package.json), found from this file's location. */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('atm: cannot find the package root (package.json)');
    dir = parent;
  }
  cachedRoot = dir;
  return dir;
}

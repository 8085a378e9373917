import type { App } from '../../core/app.js';
import { EXIT_STATUS } from '../../core/errors.js';
import { DeepDataService } from '../../core/market/deepService.js';
import { listArchiveFiles } from '../../core/market/importer.js';

/**
 * `atm data import` with deep archive files (`SYMBOL-aggTrades-DATE`, `SYMBOL-bookDepth-DATE`):
 * those go to the deep store (app.market.deep), the rest on to the kline and funding importers.
 * Returns the paths left for them.
 */
export function importDeepFiles(app: App, paths: string[], options: { symbol?: string; json?: boolean }): { rest: string[]; imported: boolean } {
  const deep: string[] = [];
  const rest: string[] = [];
  for (const path of paths) {
    let listed: string[];
    try {
      listed = listArchiveFiles([path]);
    } catch {
      rest.push(path); // the kline import reports the bad path
      continue;
    }
    const own = listed.filter((f) => DeepDataService.isDeepFile(f));
    if (own.length === 0) rest.push(path);
    else {
      deep.push(...own);
      rest.push(...listed.filter((f) => !DeepDataService.isDeepFile(f)));
    }
  }
  if (deep.length === 0) return { rest, imported: false };
  const summary = app.market.deep.importArchives(deep, { symbol: options.symbol });
  if (summary.failed > 0) process.exitCode = EXIT_STATUS.user;
  if (options.json) {
    process.stdout.write(JSON.stringify({ deep: summary }, null, 2) + '\n');
    return { rest, imported: true };
  }
  const t = app.t;
  const lines: string[] = [];
  for (const f of summary.files) {
    const name = f.entry ? `${f.file} (${f.entry})` : f.file;
    if (f.error) lines.push(t('data.importFailed', { file: name, error: f.error }));
    else lines.push(t(`deep.importFile.${f.kind}`, { file: name, rows: f.rows, inserted: f.inserted, duplicates: f.duplicates, checksum: f.checksum === 'ok' ? t('data.checksumOk') : t('data.checksumAbsent') }));
  }
  lines.push(t('deep.importTotal', { files: summary.files.length - summary.failed, rows: summary.rows, inserted: summary.inserted, duplicates: summary.duplicates }));
  process.stdout.write(lines.join('\n') + '\n');
  return { rest, imported: true };
}

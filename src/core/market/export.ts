import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { ARCHIVE_COLUMNS } from './archive.js';
import { alignOpenTime, archiveIntervalName, closeTime, nextOpenTime, formatDecimal, type Interval, type Klines } from './klines.js';

/**
 * `atm data export`: klines written back out in Binance's archive layout: one file per UTC month
 * (`SYMBOL-interval-YYYY-MM`) or day (`SYMBOL-interval-YYYY-MM-DD`), a CSV with the header row,
 * zipped with a sibling `.CHECKSUM` (sha256sum format) unless plain CSV is asked for. Numbers are
 * written in their shortest exact form (`3101.0` comes back as `3101`): the same float64 values
 * on re-import.
 */
export interface ExportOptions {
  period?: 'monthly' | 'daily';
  /** Plain .csv instead of .zip + .CHECKSUM. */
  csv?: boolean;
}

export function klinesToCsv(k: Klines, interval: Interval, start = 0, end = k.length, header = true): string {
  const lines: string[] = header ? [ARCHIVE_COLUMNS.join(',')] : [];
  for (let i = start; i < end; i++) {
    const t = k.openTime[i];
    lines.push(
      `${t},${formatDecimal(k.open[i])},${formatDecimal(k.high[i])},${formatDecimal(k.low[i])},${formatDecimal(k.close[i])},` +
        `${formatDecimal(k.volume[i])},${closeTime(t, interval)},${formatDecimal(k.quoteVolume[i])},${k.trades[i]},` +
        `${formatDecimal(k.takerBuyVolume[i])},${formatDecimal(k.takerBuyQuoteVolume[i])},0`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Writes the files; returns their paths (zips, not their checksums). */
export function exportArchive(k: Klines, symbol: string, interval: Interval, dir: string, options: ExportOptions = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const daily = options.period === 'daily';
  const files: string[] = [];
  let i = 0;
  while (i < k.length) {
    const label = new Date(k.openTime[i]).toISOString().slice(0, daily ? 10 : 7);
    const periodEnd = daily ? alignOpenTime(k.openTime[i], '1d') + 86_400_000 : nextOpenTime(alignOpenTime(k.openTime[i], '1M'), '1M');
    let j = i;
    while (j < k.length && k.openTime[j] < periodEnd) j++;
    const base = `${symbol}-${archiveIntervalName(interval)}-${label}`;
    const csv = klinesToCsv(k, interval, i, j);
    if (options.csv) {
      const path = join(dir, `${base}.csv`);
      writeFileSync(path, csv);
      files.push(path);
    } else {
      const zip = zipSync({ [`${base}.csv`]: Buffer.from(csv) });
      const path = join(dir, `${base}.zip`);
      writeFileSync(path, zip);
      writeFileSync(`${path}.CHECKSUM`, `${createHash('sha256').update(zip).digest('hex')}  ${base}.zip\n`);
      files.push(path);
    }
    i = j;
  }
  return files;
}

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { ARCHIVE_COLUMNS } from './archive.js';
import { alignOpenTime, archiveIntervalName, closeTime, nextOpenTime, formatDecimal, type Interval, type Klines } from './klines.js';

/**
 * `atm data export`: klines written back out in Binance's archive layout: one file per UTC month
 * (`SYMBOL-interval-YYYY-MM`) or day (`SYMBOL-interval-YYYY-MM-DD`), a CSV with the header row,
 * zipped with a sibling `.CHECKSUM` (sha256sum format) unless plain CSV is asked for.
 *
 * Binance writes each decimal column of a symbol with a fixed number of decimals (its tick or
 * step size: FILUSDT prices `3.563`, volumes `3101.0`; NEARUSDT prices `4.0520`, volumes `30222`).
 * The stored float64 values keep the number but not the trailing zeros, so each column is written
 * with the most decimals any of its values needs in the exported range: the text Binance wrote,
 * and the same float64 values on re-import. A column whose every value ends in a zero Binance
 * printed (NEARUSDT 2024-11 prices are all `x.xxx0`) cannot be told from its values: the import
 * records the decimals each file printed with the series (`app.market.archiveDecimals`, migration
 * 0006), and `atm data export` passes them in `options.decimals`.
 */
export interface ExportOptions {
  period?: 'monthly' | 'daily';
  /** Plain .csv instead of .zip + .CHECKSUM. */
  csv?: boolean;
  /** Decimals per column where known from the source archive (the rest are found from the values). */
  decimals?: Partial<ColumnDecimals>;
}

/** The decimal columns of an archive row, in file order (openTime, closeTime and trades are integers). */
const DECIMAL_FIELDS = ['open', 'high', 'low', 'close', 'volume', 'quoteVolume', 'takerBuyVolume', 'takerBuyQuoteVolume'] as const;
type DecimalField = (typeof DECIMAL_FIELDS)[number];
export type ColumnDecimals = Record<DecimalField, number>;

/** Decimals in the shortest exact text of `value` (3101 → 0, 4.052 → 3). */
function decimalsOf(value: number): number {
  const s = formatDecimal(value);
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** Per decimal column, the most decimals any value in [start, end) needs (at most 12). */
export function columnDecimals(k: Klines, start = 0, end = k.length): ColumnDecimals {
  const out = {} as ColumnDecimals;
  for (const f of DECIMAL_FIELDS) {
    const values = k[f];
    let d = 0;
    for (let i = start; i < end && d < 12; i++) {
      const v = values[i];
      // most values have few decimals: test the cheap cases before building the text
      if (d >= 1 && Number.isInteger(v * 10 ** d)) continue;
      d = Math.max(d, Math.min(12, decimalsOf(v)));
    }
    out[f] = d;
  }
  return out;
}

/** `value` with `decimals` decimals: exact for a value parsed from text with that many. */
function fixed(value: number, decimals: number): string {
  const s = value.toFixed(decimals);
  return Number(s) === value ? s : formatDecimal(value);
}

export function klinesToCsv(k: Klines, interval: Interval, start = 0, end = k.length, header = true, decimals = columnDecimals(k, start, end)): string {
  const lines: string[] = header ? [ARCHIVE_COLUMNS.join(',')] : [];
  const d = decimals;
  for (let i = start; i < end; i++) {
    const t = k.openTime[i];
    lines.push(
      `${t},${fixed(k.open[i], d.open)},${fixed(k.high[i], d.high)},${fixed(k.low[i], d.low)},${fixed(k.close[i], d.close)},` +
        `${fixed(k.volume[i], d.volume)},${closeTime(t, interval)},${fixed(k.quoteVolume[i], d.quoteVolume)},${k.trades[i]},` +
        `${fixed(k.takerBuyVolume[i], d.takerBuyVolume)},${fixed(k.takerBuyQuoteVolume[i], d.takerBuyQuoteVolume)},0`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Writes the files; returns their paths (zips, not their checksums). */
export function exportArchive(k: Klines, symbol: string, interval: Interval, dir: string, options: ExportOptions = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const daily = options.period === 'daily';
  // one format for every file of the series: per column, the most of what the values need and
  // what the source archive printed (rows from elsewhere may carry more decimals than the archive)
  const decimals = columnDecimals(k);
  for (const f of DECIMAL_FIELDS) decimals[f] = Math.max(decimals[f], options.decimals?.[f] ?? 0);
  const files: string[] = [];
  let i = 0;
  while (i < k.length) {
    const label = new Date(k.openTime[i]).toISOString().slice(0, daily ? 10 : 7);
    const periodEnd = daily ? alignOpenTime(k.openTime[i], '1d') + 86_400_000 : nextOpenTime(alignOpenTime(k.openTime[i], '1M'), '1M');
    let j = i;
    while (j < k.length && k.openTime[j] < periodEnd) j++;
    const base = `${symbol}-${archiveIntervalName(interval)}-${label}`;
    const csv = klinesToCsv(k, interval, i, j, true, decimals);
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

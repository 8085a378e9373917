import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { ARCHIVE_COLUMNS } from '../../../src/core/market/archive.js';
import { closeTime, formatDecimal, type Interval, type Kline, type Klines, klinesFromRows, nextOpenTime } from '../../../src/core/market/klines.js';
import { seededUniform } from '../../../src/core/random.js';

/** Deterministic PRNG (the program's one seeded generator). */
export const rng = seededUniform;

/**
 * Synthetic klines with Binance-like short decimals: prices on a 0.001 tick, volumes with one
 * decimal, quote volumes with four. Consistent OHLC (low <= open, close <= high).
 */
export function makeRows(start: number, count: number, interval: Interval = '1m', seed = 1, price = 3.5): Kline[] {
  const r = rng(seed);
  const rows: Kline[] = [];
  let ticks = Math.round(price * 1000);
  let t = start;
  for (let i = 0; i < count; i++) {
    const open = ticks;
    ticks = Math.max(100, ticks + Math.round((r() - 0.5) * 8));
    const close = ticks;
    const high = Math.max(open, close) + Math.floor(r() * 4);
    const low = Math.min(open, close) - Math.floor(r() * 4);
    const volTenths = Math.floor(r() * 200_000);
    const takerTenths = Math.floor(volTenths * r());
    const mid = (high + low) / 2;
    const quote = Math.round((volTenths / 10) * (mid / 1000) * 10_000); // 4 decimals
    const takerQuote = Math.floor(quote * (takerTenths / Math.max(1, volTenths)));
    rows.push({
      openTime: t,
      open: open / 1000,
      high: high / 1000,
      low: low / 1000,
      close: close / 1000,
      volume: volTenths / 10,
      quoteVolume: quote / 10_000,
      trades: Math.floor(r() * 500),
      takerBuyVolume: takerTenths / 10,
      takerBuyQuoteVolume: takerQuote / 10_000,
    });
    t = nextOpenTime(t, interval);
  }
  return rows;
}

export function makeKlines(start: number, count: number, interval: Interval = '1m', seed = 1): Klines {
  return klinesFromRows(makeRows(start, count, interval, seed));
}

/** Archive CSV text (header optional), exactly Binance's column order. */
export function toCsv(rows: readonly Kline[], interval: Interval, header: boolean, eol = '\n'): string {
  const lines = rows.map((k) =>
    [
      k.openTime,
      formatDecimal(k.open),
      formatDecimal(k.high),
      formatDecimal(k.low),
      formatDecimal(k.close),
      formatDecimal(k.volume),
      closeTime(k.openTime, interval),
      formatDecimal(k.quoteVolume),
      k.trades,
      formatDecimal(k.takerBuyVolume),
      formatDecimal(k.takerBuyQuoteVolume),
      '0',
    ].join(','),
  );
  return (header ? ARCHIVE_COLUMNS.join(',') + eol : '') + lines.join(eol) + eol;
}

/** Writes `<dir>/<base>.zip` holding `<base>.csv`, plus `<base>.zip.CHECKSUM` when asked. */
export function writeZip(dir: string, base: string, csv: string, checksum = true): string {
  const zip = zipSync({ [`${base}.csv`]: Buffer.from(csv) });
  const path = join(dir, `${base}.zip`);
  writeFileSync(path, zip);
  if (checksum) writeFileSync(`${path}.CHECKSUM`, `${createHash('sha256').update(zip).digest('hex')}  ${base}.zip\n`);
  return path;
}

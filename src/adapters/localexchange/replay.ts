import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { unzipSync } from 'fflate';
import type { SimSymbol } from './symbols.js';

/**
 * Kline replay for the local exchange: 1m klines from Binance archive files
 * (`<SYMBOL>-1m-<date>.csv` or `.zip`, with or without the header row, as downloaded from
 * data.binance.vision) found in a directory (searched recursively, two levels deep). The market
 * generator then follows each minute's path open → high/low → low/high → close, with trade
 * counts from the archive, so trades, the book and the klines stay consistent.
 */
export interface ReplaySeries {
  length: number;
  t: Float64Array;
  o: Float64Array;
  h: Float64Array;
  l: Float64Array;
  c: Float64Array;
  v: Float64Array;
  n: Float64Array;
}

export interface ReplaySource {
  symbols: string[];
  series(symbol: string): ReplaySeries | undefined;
  /** Keeps the listed symbols that have data and adds unlisted ones with a spec guessed from the data. */
  apply(specs: SimSymbol[]): SimSymbol[];
}

const FILE_RE = /^([A-Z0-9]+)-1m-\d{4}-\d{2}[0-9_-]*\.(csv|zip)$/;

function listFiles(dir: string, depth = 0): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory() && depth < 3) out.push(...listFiles(path, depth + 1));
    else if (FILE_RE.test(name)) out.push(path);
  }
  return out;
}

function csvText(path: string): string {
  const buf = readFileSync(path);
  if (path.endsWith('.zip')) {
    const files = unzipSync(new Uint8Array(buf));
    const first = Object.values(files)[0];
    return first ? Buffer.from(first).toString('utf8') : '';
  }
  return buf.toString('utf8');
}

export async function loadReplay(dir: string): Promise<ReplaySource> {
  const bySymbol = new Map<string, Map<number, number[]>>();
  const decimals = new Map<string, number>();
  for (const path of listFiles(dir)) {
    const symbol = FILE_RE.exec(basename(path))![1];
    let rows = bySymbol.get(symbol);
    if (!rows) {
      rows = new Map();
      bySymbol.set(symbol, rows);
    }
    for (const line of csvText(path).split('\n')) {
      const f = line.split(',');
      if (f.length < 9 || !/^\d+$/.test(f[0])) continue; // header or blank
      const t = Number(f[0]);
      rows.set(t, [t, +f[1], +f[2], +f[3], +f[4], +f[5], +f[8]]);
      // the archive writes prices with the contract's precision ("100.50"); take the widest
      let d = decimals.get(symbol) ?? 0;
      for (let k = 1; k <= 4; k++) d = Math.max(d, (f[k].split('.')[1] ?? '').length);
      decimals.set(symbol, Math.min(8, d));
    }
  }
  const series = new Map<string, ReplaySeries>();
  for (const [symbol, rows] of bySymbol) {
    const sorted = [...rows.values()].sort((a, b) => a[0] - b[0]);
    const n = sorted.length;
    const s: ReplaySeries = { length: n, t: new Float64Array(n), o: new Float64Array(n), h: new Float64Array(n), l: new Float64Array(n), c: new Float64Array(n), v: new Float64Array(n), n: new Float64Array(n) };
    sorted.forEach((r, i) => {
      s.t[i] = r[0]; s.o[i] = r[1]; s.h[i] = r[2]; s.l[i] = r[3]; s.c[i] = r[4]; s.v[i] = r[5]; s.n[i] = r[6];
    });
    if (n > 0) series.set(symbol, s);
  }
  if (series.size === 0) throw new Error(`no 1m kline archive files (SYMBOL-1m-YYYY-MM-DD.csv|zip) found in ${dir}`);
  return replaySource(series, decimals);
}

/** Decimals of the prices of a series (from their shortest text form), at most 8. */
function priceDecimals(s: ReplaySeries): number {
  let d = 0;
  for (let i = 0; i < Math.min(s.length, 500); i++) {
    for (const v of [s.o[i], s.h[i], s.l[i], s.c[i]]) {
      const text = String(v);
      const frac = text.includes('.') ? text.split('.')[1].length : 0;
      if (frac > d) d = frac;
    }
  }
  return Math.min(8, d);
}

/**
 * A replay source from 1m series already in memory (e.g. loaded from the atm database by the
 * `exchange-sim` command). `decimals` gives each symbol's price decimals when known.
 */
export function replaySource(series: Map<string, ReplaySeries>, decimals = new Map<string, number>()): ReplaySource {
  if (series.size === 0) throw new Error('no 1m klines to replay');
  return {
    symbols: [...series.keys()],
    series: (symbol) => series.get(symbol),
    apply(specs) {
      const out: SimSymbol[] = [];
      for (const [symbol, s] of series) {
        const known = specs.find((x) => x.symbol === symbol);
        const d = decimals.get(symbol) ?? priceDecimals(s);
        const price = s.c[0];
        out.push(known ?? {
          symbol, baseAsset: symbol.replace(/USDT$/, ''), tickSize: d === 0 ? '1' : `0.${'0'.repeat(d - 1)}1`, stepSize: '0.001', priceDecimals: d,
          qtyDecimals: 3, minQty: '0.001', maxQty: '1000000', marketMaxQty: '100000', minNotional: '5', startPrice: price, annualVol: 0.6,
          tradeRate: 10, tradeSize: Math.max(0.001, 100 / price), onboardDate: s.t[0],
        });
      }
      return out;
    },
  };
}

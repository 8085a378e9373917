import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ReplaySeries, ReplaySource } from '../adapters/localexchange/replay.js';
import { UserError } from '../core/errors.js';

/**
 * `--data` may name an atm data directory (or its atm.sqlite): then the 1m klines stored there
 * are replayed (the last 30 days per symbol at most). Returns undefined for an archive directory.
 */
export async function replayFromDatabase(data: string, symbols: string[] | undefined, historyDays: number): Promise<ReplaySource | undefined> {
  const file = existsSync(data) && statSync(data).isDirectory() ? join(data, 'atm.sqlite') : data;
  if (!file.endsWith('.sqlite') || !existsSync(file)) return undefined;
  const { openDatabase } = await import('../db/database.js');
  const { KlineStore } = await import('../db/klineStore.js');
  const { replaySource } = await import('../adapters/localexchange/replay.js');
  const db = openDatabase(file, { readonly: true });
  try {
    const store = new KlineStore(db);
    const series = new Map<string, ReplaySeries>();
    for (const info of store.series()) {
      if (info.interval !== '1m' || (symbols && !symbols.includes(info.symbol))) continue;
      const last = store.lastOpenTime(info.symbol, '1m');
      if (last === undefined) continue;
      const k = store.loadRange(info.symbol, '1m', last - Math.max(30, historyDays * 2) * 86_400_000, last);
      if (k.length < 2) continue;
      series.set(info.symbol, { length: k.length, t: k.openTime, o: k.open, h: k.high, l: k.low, c: k.close, v: k.volume, n: k.trades });
    }
    if (series.size === 0) throw new UserError(`--data ${data}: the database holds no 1m klines${symbols ? ` of ${symbols.join(', ')}` : ''}`);
    return replaySource(series);
  } finally {
    await db.close();
  }
}

export interface SimOptions {
  port: string;
  host?: string;
  data?: string;
  seed?: string;
  speed?: string;
  faults?: string;
  apiKey?: string;
  apiSecret?: string;
  usdt?: string;
  symbols?: string;
  history?: string;
}

function int(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UserError(`--${name} ${JSON.stringify(value)} is not valid: an integer from ${min} to ${max}`);
  return n;
}

/**
 * Composes and starts the standalone local exchange of `atm exchange-sim` (a program of its own,
 * not the App): validates the options, reads a replay source when `--data` names a data
 * directory, starts the server. Returns what to print and how to stop it.
 */
export async function startExchangeSim(options: SimOptions): Promise<{ banner: string[]; close(): Promise<void> }> {
  const { LocalExchange, DEMO_API_KEY, DEMO_API_SECRET } = await import('../adapters/localexchange/server.js');
  const { parseFaultSpec, FaultSpecError } = await import('../adapters/localexchange/faults.js');
  const { SIM_SYMBOLS, generatedSymbol } = await import('../adapters/localexchange/symbols.js');
  const port = int('port', options.port, 0, 65_535);
  const seed = int('seed', options.seed ?? '1', -2_147_483_648, 2_147_483_647);
  const speed = Number(options.speed ?? '1');
  if (!(speed > 0 && speed <= 1_000_000)) throw new UserError(`--speed ${JSON.stringify(options.speed)} is not valid: a number above 0 and at most 1000000`);
  const history = Number(options.history ?? '3');
  if (!(history >= 0 && history <= 60)) throw new UserError(`--history ${JSON.stringify(options.history)} is not valid: days from 0 to 60`);
  if ((options.apiKey === undefined) !== (options.apiSecret === undefined)) throw new UserError('--api-key and --api-secret go together');
  if (options.usdt !== undefined && !/^\d+(\.\d+)?$/.test(options.usdt)) throw new UserError(`--usdt ${JSON.stringify(options.usdt)} is not a decimal amount`);
  if (options.faults) {
    try {
      parseFaultSpec(options.faults);
    } catch (error) {
      if (error instanceof FaultSpecError) throw new UserError(`--faults: ${error.message}`);
      throw error;
    }
  }
  const symbols = options.symbols?.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  for (const s of symbols ?? []) {
    if (!options.data && !SIM_SYMBOLS.some((x) => x.symbol === s) && !generatedSymbol(s)) throw new UserError(`--symbols: ${s} is not listed; available: ${SIM_SYMBOLS.map((x) => x.symbol).join(', ')}, or any <NAME>USDT (generated)`);
  }
  const replay = options.data ? await replayFromDatabase(options.data, symbols, history) : undefined;
  const apiKey = options.apiKey ?? DEMO_API_KEY;
  const apiSecret = options.apiSecret ?? DEMO_API_SECRET;
  let ex;
  try {
    ex = await LocalExchange.start({
      port, seed, speed, faults: options.faults, dataDir: replay ? undefined : options.data, replay, symbols, historyDays: history,
      accounts: [{ apiKey, apiSecret, usdt: options.usdt }],
      log: (line) => process.stderr.write(line + '\n'),
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new UserError(`--port ${port}: the port is in use`);
    if (options.data && e.code === 'ENOENT') throw new UserError(`--data ${options.data}: no such directory`);
    if (options.data && e instanceof Error && /no 1m kline archive files/.test(e.message)) throw new UserError(`--data: ${e.message}`);
    throw error;
  }
  const lines = [
    `local exchange (Binance USD-M compatible) listening`,
    `  REST        ${ex.url}          (e.g. ${ex.url}/fapi/v1/exchangeInfo)`,
    `  websocket   ${ex.wsUrl}/public|/market|/private  and legacy /ws, /stream`,
    `  symbols     ${[...ex.markets.keys()].join(', ')}`,
    `  market      ${options.data ? `replay of ${replay ? 'the klines stored in ' : ''}${options.data}` : `generator, seed ${seed}`}, speed ${speed}`,
    `  faults      ${ex.faults.spec || 'none'}`,
    `  account     ${options.usdt ?? '100000'} USDT`,
  ];
  if (options.apiKey === undefined) lines.push(`  API key     ${DEMO_API_KEY}`, `  API secret  ${DEMO_API_SECRET}   (demo pair; pass --api-key/--api-secret for your own)`);
  else lines.push(`  API key     ${apiKey}   (secret as given)`);
  lines.push('press Ctrl-C to stop');
  return { banner: lines, close: () => ex.close() };
}

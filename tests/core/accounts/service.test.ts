import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BacktestResult } from '../../../src/core/backtest/engine.js';
import { parseBacktestConfig, EXAMPLE_CONFIG } from '../../../src/core/backtest/config.js';
import { UserError } from '../../../src/core/errors.js';
import { openTestApp } from '../../helpers/app.js';

const SECRET = 'Sup3rS3cretHmacValue-0123456789';
const POSITIONS = `positions:
  - symbol: BTCUSDT
    interval: 15m
    leverage: 3
    strategy:
      name: sma-cross
      params: { fast: 5, slow: 20 }
    control: { assumedRatio: 0.5 }
`;

async function failure(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('app.accounts', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function open(readonly = false) {
    const t = await openTestApp({ readonly });
    cleanups.push(t.cleanup);
    return t;
  }

  it('creates virtual and actual accounts, refusing bad names and balances', async () => {
    const { app } = await open();
    const paper = app.accounts.create('paper', 'virtual', { balance: '2500.5' });
    expect(paper.settings.account.initialBalance).toBe('2500.5');
    expect(app.accounts.create('live', 'testnet').kind).toBe('testnet');
    expect(app.accounts.list().map((v) => [v.account.name, v.wallet])).toEqual([['paper', '2500.5'], ['live', undefined]]);
    expect((await failure(() => app.accounts.create('bad name', 'virtual'))).message).toContain('account name "bad name" is not valid');
    expect((await failure(() => app.accounts.create('x', 'virtual', { balance: '-1' }))).message).toContain('balance "-1" is not valid');
    expect((await failure(() => app.accounts.create('y', 'binance', { balance: '5' }))).message).toContain('--balance is for virtual accounts');
    expect((await failure(() => app.accounts.get('nobody'))).message).toBe('there is no account named "nobody" (atm account list shows them)');
  });

  it('configures from the positions part of a file, keeping the initial balance, and names the line of a bad parameter', async () => {
    const { app, home } = await open();
    app.accounts.create('paper', 'virtual', { balance: '777' });
    const file = join(home, 'positions.yaml');
    writeFileSync(file, POSITIONS);
    const configured = await app.accounts.configure('paper', file);
    expect(configured.settings.positions.map((p) => [p.symbol, p.interval, p.leverage, p.strategy.params])).toEqual([['BTCUSDT', '15m', 3, { fast: 5, slow: 20 }]]);
    expect(configured.settings.account.initialBalance).toBe('777');
    expect(configured.settings.source).toBe(`file ${file}`);

    const full = join(home, 'full.yaml');
    writeFileSync(full, EXAMPLE_CONFIG);
    const fromFull = await app.accounts.configure('paper', full);
    expect(fromFull.settings.positions.map((p) => p.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(fromFull.settings.account).toMatchObject({ initialBalance: '777', slippageBps: 1 });

    writeFileSync(file, POSITIONS.replace('fast: 5', 'fast: -5'));
    const error = await failure(() => app.accounts.configure('paper', file));
    expect((error as UserError).kind).toBe('user');
    expect(error.message).toMatch(new RegExp(`^${file}:7: 'positions.0.strategy.params.fast'`));
    expect(app.accounts.plan('paper').map((l) => l.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
  });

  it("copies a saved simulation's positions", async () => {
    const { app, parts } = await open();
    app.accounts.create('paper', 'virtual');
    const config = parseBacktestConfig(EXAMPLE_CONFIG, 'example').config;
    const result = { summary: {}, trades: [], fills: [], balance: { time: [], wallet: [], equity: [] } } as unknown as BacktestResult;
    const id = parts.simulations.save({ name: 'my run', config, result, startedAt: 1, finishedAt: 2 });
    const account = await app.accounts.fromSimulation('paper', id);
    expect(account.settings.positions).toEqual(config.positions);
    expect(account.settings.source).toBe(`simulation #${id} (my run)`);
    expect((await failure(() => app.accounts.fromSimulation('paper', 999))).message).toContain('there is no saved simulation #999');
  });

  it('stores credentials encrypted, decrypts them only with the passphrase, and keeps the secret out of the log and errors', async () => {
    const { app, parts } = await open();
    app.accounts.create('live', 'testnet');
    app.accounts.create('paper', 'virtual');
    const activated = app.accounts.activate('live', { apiKey: 'myApiKey0042', apiSecret: SECRET, passphrase: 'pass phrase' });
    expect(activated.credentials).toEqual({ stored: true, apiKeyHint: '0042', keyType: 'hmac' });
    expect(parts.accounts.encryptedSecret(activated.id)).toMatch(/^atm-secret:v1:/);
    expect(app.accounts.credentials('live', 'pass phrase').secret()).toBe(SECRET);
    const wrong = await failure(() => app.accounts.credentials('live', 'nope'));
    expect(wrong.message).toBe('cannot decrypt the secret of account live: wrong passphrase, or the encrypted secret was changed');
    expect((await failure(() => app.accounts.activate('paper', { apiKey: 'k123', apiSecret: SECRET, passphrase: 'p' }))).message).toContain('is virtual');
    app.reportError('test', wrong);
    const log = readFileSync(app.paths.logFile, 'utf8');
    expect(log).toContain('account live activated (key …0042)');
    expect(log).not.toContain(SECRET);
    expect(JSON.stringify(app.accounts.list())).not.toContain(SECRET);
    expect(JSON.stringify(app.accounts.changes('live'))).not.toContain(SECRET);
  });

  it('refuses activation and automation with --readonly, and automation without positions or credentials', async () => {
    const ro = (await open(true)).app;
    ro.accounts.create('live', 'binance');
    expect((await failure(() => ro.accounts.activate('live', { apiKey: 'k123', apiSecret: SECRET, passphrase: 'p' }))).message).toBe('read-only mode (--readonly): accounts cannot be activated');
    expect((await failure(() => ro.accounts.setAutomation('live', true))).message).toBe('read-only mode (--readonly): automated trading cannot be turned on');
    expect(ro.accounts.setAutomation('live', false).settings.automation).toBe('off');

    const { app, home } = await open();
    app.accounts.create('live', 'binance');
    expect((await failure(() => app.accounts.setAutomation('live', true))).message).toContain('has no positions');
    const file = join(home, 'p.yaml');
    writeFileSync(file, POSITIONS);
    await app.accounts.configure('live', file);
    expect((await failure(() => app.accounts.setAutomation('live', true))).message).toBe('account "live" is not activated: atm account activate live');
    app.accounts.activate('live', { apiKey: 'k1234', apiSecret: SECRET, passphrase: 'p' });
    expect(app.accounts.setAutomation('live', true).settings.automation).toBe('on');
    expect((await failure(() => app.accounts.configure('live', file))).message).toContain('turn automation off before changing its positions');
  });

  it('merges risk limits, refusing values out of range', async () => {
    const { app } = await open();
    app.accounts.create('paper', 'virtual');
    app.accounts.setRisk('paper', { maxDrawdown: 0.2, dailyLossLimit: 0.05 });
    expect(app.accounts.setRisk('paper', { maxLeverage: 5, dailyLossLimit: null }).settings.risk).toEqual({ maxDrawdown: 0.2, maxLeverage: 5 });
    expect((await failure(() => app.accounts.setRisk('paper', { maxDrawdown: 1.5 }))).message).toBe('the risk limits are not valid: maxDrawdown: must be at most 1');
  });

  it('exports the trade log as CSV to the exports folder and refuses removal while a trader holds the lease', async () => {
    const { app, parts } = await open();
    const a = app.accounts.create('paper', 'virtual');
    app.accounts.appendTrade('paper', { time: Date.UTC(2026, 0, 2, 3, 4, 5), symbol: 'BTCUSDT', side: 'BUY', positionSide: 'BOTH', orderType: 'MARKET', price: '42000.1', quantity: '0.002', fee: '0.042', feeAsset: 'USDT', realizedPnl: '0', reason: 'enter, "long"' });
    const { file, trades } = app.accounts.exportTradesCsv('paper');
    expect(trades).toBe(1);
    expect(file.startsWith(join(app.paths.home, 'exports', 'paper-trades-'))).toBe(true);
    expect(readFileSync(file, 'utf8').split('\n')).toEqual([
      'time,symbol,side,positionSide,orderType,price,quantity,fee,feeAsset,realizedPnl,orderId,clientOrderId,reason',
      '2026-01-02T03:04:05.000Z,BTCUSDT,BUY,BOTH,MARKET,42000.1,0.002,0.042,USDT,0,,,"enter, ""long"""',
      '',
    ]);
    const lease = parts.leases.acquire(`trader:${a.id}`, { label: 'atm trade --account paper' });
    expect(app.accounts.get('paper').trader).toMatchObject({ pid: process.pid, label: 'atm trade --account paper' });
    expect((await failure(() => app.accounts.remove('paper'))).message).toMatch(/^account "paper" is traded by atm trade --account paper \(pid \d+ on .+\); stop it before the account can be removed$/);
    lease.release();
    app.accounts.remove('paper');
    expect(app.accounts.list()).toEqual([]);
  });
});

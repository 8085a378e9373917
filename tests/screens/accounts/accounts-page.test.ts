import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG, parseBacktestConfig } from '../../../src/core/backtest/config.js';
import type { BacktestResult } from '../../../src/core/backtest/engine.js';
import { LeaseStore } from '../../../src/db/leaseStore.js';
import { ShellHarness } from '../../helpers/shell.js';

const SECRET = 'TuiSecretHmac-0123456789abcdefXYZ';

describe('Accounts page (headless, real database)', () => {
  let h: ShellHarness;
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    await h.dispose();
  });

  it('creates a virtual account from its form and lists it with its wallet', async () => {
    h = await new ShellHarness().start({ width: 140, height: 36 });
    let screen = h.press('2');
    expect(screen).toContain('no accounts: a adds one');
    screen = h.press('a');
    expect(screen).toContain('New account (Esc cancels)');
    h.press('paper');
    h.press('\x1b[B'); // down: kind (virtual)
    h.press('\x1b[B'); // down: balance
    h.press('\x15'); // Ctrl-U clears the default
    h.press('2500');
    screen = h.press('\r');
    expect(screen).toContain('account paper added');
    expect(screen).toMatch(/paper\s+virtual\s+2500\s+2500\s+ACTIVE\s+off\s+0\s+not traded by any process|paper\s+virtual\s+2500\s+2500\s+ACTIVE\s+off\s+0\s+-/);
    expect(h.app.accounts.get('paper').account.settings.account.initialBalance).toBe('2500');
    // a bad name stays in the form with the reason
    h.press('a');
    h.press('bad name');
    h.press('\x1b[B');
    h.press('\x1b[B');
    screen = h.press('\r');
    expect(screen).toContain('account name "bad name" is not valid');
    screen = h.press('\x1b');
    expect(screen).not.toContain('New account (Esc cancels)');
  });

  it('turning automation on starts a trader in this interface when no process trades the account, and quitting asks first', async () => {
    h = await new ShellHarness().start({ width: 140, height: 36, app: { exchangeMode: 'sim' }, seed: (app) => void app.accounts.create('paper', 'virtual', { balance: '1000' }) });
    await h.app.accounts.configure('paper', 'positions.yaml', 'positions:\n  - symbol: BTCUSDT\n    interval: 1m\n    strategy: { name: sma-cross, params: { fast: 2, slow: 3 } }\n');
    h.press('2');
    let screen = h.press('t');
    expect(screen).toContain('Turn automated trading on for paper?');
    h.press('y');
    screen = await h.until('trading here, in this interface', 20_000);
    expect(h.app.trading.accounts().find((a) => a.name === 'paper')?.trader?.here).toBe(true);
    await h.until('traded by this atm', 5000);
    // quitting would stop the trader: asked first, naming the account
    screen = h.press('q');
    expect(screen).toContain('trading account paper');
    screen = h.press('n');
    expect(screen).not.toContain('Quit atm?');
    expect(h.app.trading.accounts().find((a) => a.name === 'paper')?.trader?.here).toBe(true);
  }, 40_000);

  it('activates an actual account with the secret and passphrase masked, never drawing the secret', async () => {
    h = await new ShellHarness().start({ width: 140, height: 36, seed: (app) => void app.accounts.create('live', 'testnet') });
    h.press('2');
    let screen = h.press('v');
    expect(screen).toContain('Activate: API key and secret');
    h.press('\x1b[B'); // from the source choice (typed here) to the key
    h.press('tuiKey-7777');
    h.press('\x1b[B');
    screen = h.press(SECRET);
    expect(screen).toContain('•'.repeat(SECRET.length));
    expect(screen).not.toContain(SECRET);
    h.press('\x1b[B');
    h.press('my pass');
    h.press('\r'); // Enter moves on to the passphrase again
    h.press('my pas');
    screen = h.press('\r');
    expect(screen).toContain('the two passphrases differ; nothing stored');
    expect(h.app.accounts.get('live').account.credentials.stored).toBe(false);
    h.press('s');
    screen = h.press('\r');
    expect(screen).toContain('stored the credentials of live encrypted (key …7777, hmac)');
    expect(screen).toContain('credentials stored, encrypted (key …7777, hmac)');
    expect(h.app.accounts.credentials('live', 'my pass').secret()).toBe(SECRET);
    expect(readFileSync(h.app.paths.logFile, 'utf8')).not.toContain(SECRET);
  });

  it('activates from a key file path, refusing one that others can read, naming its mode', async () => {
    h = await new ShellHarness().start({ width: 140, height: 36, seed: (app) => void app.accounts.create('live', 'binance') });
    const keyFile = join(h.home, 'key.txt');
    writeFileSync(keyFile, `fileKey-3131\n${SECRET}\n`, { mode: 0o644 });
    h.press('2');
    h.press('v');
    h.press('\x1b[C'); // right: credentials from a key file
    let screen = h.press('\x1b[B');
    expect(screen).toContain('Key file (mode 0600)');
    h.press(keyFile);
    h.press('\x1b[B');
    h.press('pw');
    h.press('\x1b[B');
    h.press('pw');
    screen = h.press('\r');
    expect(screen).toContain(`key file ${keyFile} has mode 0644`);
    chmodSync(keyFile, 0o600);
    screen = h.press('\r');
    expect(screen).toContain('credentials stored, encrypted (key …3131, hmac)');
    expect(h.app.accounts.get('live').account.credentials.keyFile).toBe(keyFile);
    expect(h.app.accounts.credentials('live', 'pw').secret()).toBe(SECRET);
  });

  it('configures from a saved simulation, asks before automation listing what will trade, and turns it on and off', async () => {
    h = await new ShellHarness().start({
      width: 160, height: 40,
      seed: (app, parts) => {
        app.accounts.create('paper', 'virtual');
        const config = parseBacktestConfig(EXAMPLE_CONFIG, 'example').config;
        const result = { summary: {}, trades: [], fills: [], balance: { time: [], wallet: [], equity: [] } } as unknown as BacktestResult;
        parts.simulations.save({ name: 'example run', config, result, startedAt: 1, finishedAt: 2 });
      },
    });
    h.press('2');
    let screen = h.press('c');
    expect(screen).toContain('Configure from a saved simulation');
    expect(screen).toContain('#1  example run');
    h.press('\r');
    screen = await h.until(/BTCUSDT\s+15m\s+sma-cross/);
    expect(screen).toMatch(/ETHUSDT\s+1h\s+rqpm/);
    expect(screen).toContain('settings from simulation #1 (example run)');
    screen = h.press('t');
    expect(screen).toContain('Turn automated trading on for paper? It will trade: BTCUSDT 15m x3 sma-cross, ETHUSDT 1h x2 rqpm.');
    h.press('y');
    screen = await h.until(/paper\s+virtual.*\son\s/);
    expect(h.app.accounts.get('paper').account.settings.automation).toBe('on');
    h.press('T');
    expect(h.app.accounts.get('paper').account.settings.automation).toBe('off');
  });

  it('shows live an account traded by another process, from the database', async () => {
    h = await new ShellHarness().start({ width: 160, height: 40, seed: (app) => void app.accounts.create('paper', 'virtual', { balance: '1000' }) });
    let screen = h.press('2');
    expect(screen).toContain('not traded by any process');
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(other);
    const id = h.app.accounts.get('paper').account.id;
    // the other process's lease and snapshot, as its trader writes them
    new LeaseStore(h.parts.db, Date.now, other.pid!).acquire(`trader:${id}`, { label: 'atm trade --account paper' });
    h.parts.accounts.saveSnapshot(id, {
      time: Date.now(), walletBalance: '1012.5', availableBalance: '900', marginBalance: '1020.25', unrealizedPnl: '7.75',
      positions: [{ symbol: 'BTCUSDT', amount: '0.01', entryPrice: '60000', markPrice: '60775', unrealizedPnl: '7.75', leverage: 2, marginType: 'CROSSED', liquidationPrice: '0' }],
      openOrders: 1, risk: 'REDUCING', riskReason: 'daily loss 4.1 %', automation: 'on',
    });
    screen = await h.until(`traded by atm trade (pid ${other.pid})`, 5000);
    expect(screen).toMatch(/paper\s+virtual\s+1012\.5\s+1020\.25\s+REDUCING/);
    expect(screen).toContain('risk REDUCING daily loss 4.1 %');
    other.kill('SIGKILL');
    await h.until('not traded by any process', 5000);
  });

  it('drops activation and automation under --readonly and removes only after asking', async () => {
    h = await new ShellHarness().start({ width: 140, height: 36, app: { readonly: true }, seed: (app) => void app.accounts.create('live', 'binance') });
    let screen = h.press('2');
    expect(screen).toContain('read-only mode: activation and automation are not available');
    screen = h.press('v');
    expect(screen).not.toContain('Activate: API key');
    screen = h.press('t');
    expect(screen).not.toContain('Turn automated trading on');
    screen = h.press('d');
    expect(screen).toContain('Remove account live with its balance history, 0 trades and stored secret?');
    h.press('n');
    expect(h.app.accounts.list()).toHaveLength(1);
    h.press('d');
    h.press('y');
    await h.until('no accounts: a adds one');
  });
});

describe('Account History page (headless, real database)', () => {
  let h: ShellHarness;
  afterEach(() => h.dispose());

  it('draws the balance history and the trade log of the chosen account and exports the log as CSV', async () => {
    const T = Date.UTC(2026, 10, 1);
    h = await new ShellHarness().start({
      width: 150, height: 40,
      seed: (app) => {
        app.accounts.create('empty', 'virtual');
        app.accounts.create('paper', 'virtual', { balance: '1000' });
        [1000, 1010, 990, 1030].forEach((v, i) => app.accounts.appendBalance('paper', { time: T + i * 3_600_000, asset: 'USDT', walletBalance: String(v), marginBalance: String(v) }));
        app.accounts.appendTrade('paper', { time: T + 60_000, symbol: 'BTCUSDT', side: 'BUY', positionSide: 'BOTH', orderType: 'MARKET', price: '60000', quantity: '0.01', fee: '0.3', feeAsset: 'USDT', realizedPnl: '0', reason: 'enter long' });
        app.accounts.appendTrade('paper', { time: T + 7_200_000, symbol: 'BTCUSDT', side: 'SELL', positionSide: 'BOTH', orderType: 'MARKET', price: '63000', quantity: '0.01', fee: '0.31', feeAsset: 'USDT', realizedPnl: '30', reason: 'exit' });
      },
    });
    let screen = h.press('5');
    expect(screen).toContain('Balance history: empty (0 points)');
    expect(screen).toContain('no balance history yet');
    screen = h.press('j');
    expect(screen).toContain('Balance history: paper (4 points)');
    expect(screen).toContain('1030.00');
    expect(screen).toContain('990.00');
    expect(screen).toContain('Trade log: 2 fills, realised 30, fees 0.61');
    expect(screen).toMatch(/2026-11-01 02:00\s+BTCUSDT\s+SELL\s+MARKET\s+63000\s+0\.01\s+0\.31\s+30\s+exit/);
    screen = h.press('e');
    expect(screen).toContain('exported 2 trades to');
    const files = readdirSync(join(h.home, 'exports'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^paper-trades-\d{8}T\d{6}Z\.csv$/);
    const file = join(h.home, 'exports', files[0]);
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(4);
  });

  it('opens on the account chosen on the Accounts page (Enter)', async () => {
    h = await new ShellHarness().start({ width: 150, height: 40, seed: (app) => { app.accounts.create('a1', 'virtual'); app.accounts.create('b2', 'virtual'); } });
    h.press('2');
    h.press('j');
    const screen = h.press('\r');
    expect(h.shell.currentPage).toBe('history');
    expect(screen).toContain('Balance history: b2 (0 points)');
  });
});

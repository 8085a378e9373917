import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempHome } from '../helpers/app.js';
import { openApp } from '../../src/main/compose.js';
import { waitFor } from '../helpers/wait.js';
import { finish, simConfig, startAtm, startSim, type Running, type SimProcess } from './processes.js';

/**
 * `atm trade` as real processes against a local exchange process at 60x speed (a minute a second):
 * a virtual account trades, a second trader on it is refused naming the first, SIGTERM stops it
 * cleanly (exit 0, final snapshot, lease released), and `atm trade --kill` from another process is
 * acted on by the running trader.
 */
describe('atm trade (real processes, local exchange)', () => {
  let sim: SimProcess;
  const tmp = tempHome();
  const cfg = join(tmp.home, 'config.yaml');
  const running: Running[] = [];
  const atm = (args: string[]) => startAtm(['--home', tmp.home, '--config', cfg, ...args]);
  const run = async (args: string[], what: string) => finish(atm(args), 60_000, what);

  beforeAll(async () => {
    sim = await startSim(['--speed', '60', '--symbols', 'BTCUSDT,ETHUSDT', '--history', '1']);
    writeFileSync(cfg, simConfig(sim));
    const positions = join(tmp.home, 'positions.yaml');
    writeFileSync(positions, [
      'positions:',
      '  - symbol: BTCUSDT',
      '    leverage: 2',
      '    strategy: { name: sma-cross, params: { fast: 2, slow: 3 } }',
      '    control: { assumedRatio: 0.5 }',
      '  - symbol: ETHUSDT',
      '    strategy: { name: sma-cross, params: { fast: 2, slow: 4 } }',
      '    control: { assumedRatio: 0.5 }',
      '',
    ].join('\n'));
    for (const [args, what] of [
      [['account', 'add', 'paper', '--virtual', '--balance', '10000'], 'account add'],
      [['account', 'configure', 'paper', '--config', positions], 'account configure'],
      [['account', 'automation', 'paper', 'on', '--yes'], 'account automation'],
    ] as const) {
      const r = await run([...args], what);
      expect(r.code, `${what}: ${r.stderr}`).toBe(0);
    }
  }, 120_000);

  afterAll(async () => {
    for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await sim?.stop();
    tmp.cleanup();
  });

  it('trades a virtual account, refuses a second trader naming the first, stops on SIGTERM with exit 0', async () => {
    const first = atm(['trade', '--account', 'paper']);
    running.push(first);
    await waitFor(() => /\bfill\b/.test(first.stdout()) || first.child.exitCode !== null, 90_000, 'a fill line from atm trade');
    expect(first.stdout()).toMatch(/trading paper \(virtual\)/);
    expect(first.stdout()).toMatch(/paper\s+fill\s+(BTCUSDT|ETHUSDT) (BUY|SELL) /);

    // another atm process (the TUI's facade) sees the account traded by the first, with its chains
    const viewer = await openApp({ home: tmp.home, configFile: cfg, logSync: true });
    try {
      let seen = viewer.trading.accounts().find((a) => a.name === 'paper');
      await waitFor(() => {
        seen = viewer.trading.accounts().find((a) => a.name === 'paper');
        return (seen?.chains.some((c) => c.kline !== undefined) ?? false) && seen?.snapshot !== undefined;
      }, 20_000, 'the trader\'s heartbeat with its chains');
      expect(seen?.trader).toMatchObject({ pid: first.child.pid, label: 'atm trade --account paper', here: false });
      expect(seen?.chains.map((c) => c.symbol).sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
      expect(seen?.snapshot?.trader?.pid).toBe(first.child.pid);
    } finally {
      await viewer.close();
    }

    const second = await run(['trade', '--account', 'paper'], 'second atm trade');
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`pid ${first.child.pid}`);
    expect(second.stderr).toContain('atm trade --account paper');
    expect(second.stderr).not.toMatch(/\n\s+at /); // one line, no stack

    first.child.kill('SIGTERM');
    const done = await finish(first, 30_000, 'atm trade after SIGTERM');
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/stopped trading paper/);

    const history = await run(['account', 'history', 'paper', '--json', '--limit', '0'], 'account history');
    expect(history.code, history.stderr).toBe(0);
    const h = JSON.parse(history.stdout) as { balance: unknown[]; trades: { symbol: string; side: string }[] };
    expect(h.trades.length).toBeGreaterThan(0);
    expect(h.balance.length).toBeGreaterThan(0);
    const shown = await run(['account', 'show', 'paper', '--json'], 'account show');
    const stopped = (JSON.parse(shown.stdout) as { snapshot: { walletBalance: string; positions: { symbol: string; amount: string; entryPrice: string }[] } }).snapshot;
    // the lease is free again: a new trader starts, continuing the account from its last snapshot
    const again = atm(['trade', '--account', 'paper']);
    running.push(again);
    await waitFor(() => /trading paper/.test(again.stdout()) || again.child.exitCode !== null, 60_000, 'the restarted trader');
    const restored = /restored from the snapshot of \S+: wallet (\S+) USDT(.*)/.exec(again.stdout());
    expect(restored, again.stdout()).not.toBeNull();
    expect(restored![1]).toBe(stopped.walletBalance);
    for (const p of stopped.positions) expect(restored![2]).toContain(`${p.symbol} ${p.amount} @ ${p.entryPrice}`);
    again.child.kill('SIGINT');
    expect((await finish(again, 30_000, 'restarted atm trade')).code).toBe(0);
    const after = await run(['account', 'history', 'paper', '--json', '--limit', '0'], 'account history after the restart');
    const h2 = JSON.parse(after.stdout) as { balance: { time: number }[]; trades: unknown[] };
    // the balance history and the trade log continue (nothing reset, nothing removed)
    expect(h2.balance.length).toBeGreaterThanOrEqual(h.balance.length);
    expect(h2.trades.length).toBeGreaterThanOrEqual(h.trades.length);
  }, 240_000);

  it('atm trade --kill from another process is acted on by the running trader', async () => {
    const trader = atm(['trade', '--account', 'paper']);
    running.push(trader);
    await waitFor(() => /trading paper/.test(trader.stdout()) || trader.child.exitCode !== null, 60_000, 'atm trade to start');
    const refused = await run(['trade', '--kill', 'paper'], 'kill without --yes');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--yes/);
    const kill = await run(['trade', '--kill', 'paper', '--close-positions', '--yes'], 'atm trade --kill');
    expect(kill.code, kill.stderr).toBe(0);
    expect(kill.stdout).toContain(`pid ${trader.child.pid}`);
    await waitFor(() => /kill switch/.test(trader.stdout()), 10_000, 'the trader to log the kill');
    trader.child.kill('SIGTERM');
    expect((await finish(trader, 30_000, 'killed atm trade')).code).toBe(0);
    const show = await run(['account', 'show', 'paper', '--json'], 'account show');
    expect(show.stdout).toMatch(/"automation":\s*"killed"/);
  }, 180_000);
});

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempHome } from '../helpers/app.js';
import { hasTmux, TmuxSession } from '../helpers/tmux.js';

const SECRET = 'e2eSecretHmac-0123456789abcdefABCDEF';
const tmp = tempHome('atm-account-');

function atm(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, ['bin/atm.js', '--home', tmp.home, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ATM_PASSPHRASE: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('atm account', () => {
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
  });
  afterAll(() => tmp.cleanup());

  it('adds, lists and shows accounts; refuses unclear kinds and taken names with status 2', () => {
    expect(atm(['account', 'add', 'paper', '--virtual', '--balance', '2500']).code).toBe(0);
    expect(atm(['account', 'add', 'live', '--binance', '--testnet']).code).toBe(0);
    const none = atm(['account', 'add', 'x']);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('atm: give exactly one of --virtual or --binance (with --testnet for the Binance futures testnet)\n');
    const again = atm(['account', 'add', 'paper', '--virtual']);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe('atm: an account named "paper" exists already\n');
    const list = JSON.parse(atm(['account', 'list', '--json']).stdout) as { name: string; kind: string; wallet: string | null; automation: string }[];
    expect(list.map((a) => [a.name, a.kind, a.wallet, a.automation])).toEqual([['paper', 'virtual', '2500', 'off'], ['live', 'testnet', null, 'off']]);
    expect(atm(['account', 'list']).stdout).toMatch(/^paper\s+virtual\s+2500\s+2500\s+ACTIVE\s+off\s+0\s+-$/m);
    const missing = atm(['account', 'show', 'ghost']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('there is no account named "ghost"');
    // atm trade names an unknown account in one line before connecting to any exchange
    const trade = atm(['trade', '--account', 'ghost']);
    expect(trade.code).toBe(2);
    expect(trade.stdout).toBe('');
    expect(trade.stderr).toBe('atm: there is no account named "ghost" (atm account list shows them)\n');
  });

  it('configures from a positions file (errors on the file line) and refuses an unknown simulation', () => {
    const file = join(tmp.home, 'positions.yaml');
    writeFileSync(file, 'positions:\n  - symbol: ETHUSDT\n    interval: 1h\n    leverage: 2\n    strategy:\n      name: sma-cross\n      params: { fast: 3, slow: 9 }\n');
    const r = atm(['account', 'configure', 'paper', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`account paper: 1 positions from file ${file}`);
    expect(r.stdout).toContain('ETHUSDT 1h x2 sma-cross');
    const shown = JSON.parse(atm(['account', 'show', 'paper', '--json']).stdout);
    expect(shown.settings.positions[0].strategy.params).toEqual({ fast: 3, slow: 9 });
    expect(shown.settings.account.initialBalance).toBe('2500');
    writeFileSync(file, 'positions:\n  - symbol: ETHUSDT\n    strategy:\n      name: no-such-strategy\n');
    const bad = atm(['account', 'configure', 'paper', '--config', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(new RegExp(`^atm: ${file}:4: 'positions.0.strategy.name'`));
    expect(atm(['account', 'configure', 'paper', '--from-simulation', '42']).code).toBe(2);
  });

  it('activates from a key file of mode 0600 with ATM_PASSPHRASE, refuses other modes, and never prints the secret', () => {
    const keyFile = join(tmp.home, 'key.json');
    writeFileSync(keyFile, JSON.stringify({ apiKey: 'e2eKey-9876', apiSecret: SECRET }), { mode: 0o644 });
    const loose = atm(['account', 'activate', 'live', '--key-file', keyFile], { ATM_PASSPHRASE: 'pw' });
    expect(loose.code).toBe(2);
    expect(loose.stderr).toBe(`atm: key file ${keyFile} has mode 0644: others can read it; make it readable by you alone (chmod 600 ${keyFile})\n`);
    execFileSync('chmod', ['600', keyFile]);
    const noPass = atm(['account', 'activate', 'live', '--key-file', keyFile]);
    expect(noPass.code).toBe(2);
    expect(noPass.stderr).toContain('no terminal to ask on (set ATM_PASSPHRASE');
    const ok = atm(['account', 'activate', 'live', '--key-file', keyFile], { ATM_PASSPHRASE: 'pw' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('stored the credentials of live encrypted (key …9876, hmac)\n');
    const show = atm(['account', 'show', 'live']);
    expect(show.stdout).toContain('stored, encrypted (key …9876, hmac)');
    const ro = atm(['--readonly', 'account', 'activate', 'live', '--key-file', keyFile], { ATM_PASSPHRASE: 'pw' });
    expect(ro.code).toBe(2);
    expect(ro.stderr).toBe('atm: read-only mode (--readonly): accounts cannot be activated\n');
    for (const text of [show.stdout, atm(['account', 'show', 'live', '--json']).stdout, atm(['account', 'list', '--json']).stdout, ok.stderr, readFileSync(join(tmp.home, 'atm.log'), 'utf8')]) {
      expect(text).not.toContain(SECRET);
    }
  });

  it('sets risk limits, turns automation on only with --yes and not with --readonly', () => {
    const r = atm(['account', 'risk', 'paper', '--max-drawdown', '0.2', '--daily-loss', '0.05', '--max-leverage', '5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('account paper: risk limits maxDrawdown=0.2 dailyLossLimit=0.05 maxLeverage=5\n');
    expect(atm(['account', 'risk', 'paper', '--daily-loss', 'none']).stdout).toBe('account paper: risk limits maxDrawdown=0.2 maxLeverage=5\n');
    expect(atm(['account', 'risk', 'paper', '--max-leverage', '2.5']).code).toBe(2);
    const asks = atm(['account', 'automation', 'paper', 'on']);
    expect(asks.code).toBe(2);
    expect(asks.stderr).toContain('It will trade: ETHUSDT 1h x2 sma-cross.');
    expect(asks.stderr).toContain('add --yes to confirm');
    expect(atm(['--readonly', 'account', 'automation', 'paper', 'on', '--yes']).stderr).toBe('atm: read-only mode (--readonly): automated trading cannot be turned on\n');
    expect(atm(['account', 'automation', 'paper', 'on', '--yes']).code).toBe(0);
    expect(JSON.parse(atm(['account', 'show', 'paper', '--json']).stdout).automation).toBe('on');
    expect(atm(['account', 'automation', 'paper', 'off']).code).toBe(0);
  });

  it('prints the history (empty trade log as a CSV header) and removes only with --yes', () => {
    expect(atm(['account', 'history', 'paper', '--csv']).stdout).toBe('time,symbol,side,positionSide,orderType,price,quantity,fee,feeAsset,realizedPnl,orderId,clientOrderId,reason\n');
    expect(atm(['account', 'history', 'paper']).stdout).toContain('balance history (0 points)');
    const refused = atm(['account', 'remove', 'paper']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('add --yes to confirm');
    expect(atm(['account', 'remove', 'paper', '--yes']).stdout).toBe('removed account paper\n');
    expect(JSON.parse(atm(['account', 'list', '--json']).stdout).map((a: { name: string }) => a.name)).toEqual(['live']);
  });

  it.skipIf(!hasTmux())('asks on a terminal for the key, the secret and the passphrase twice, echoing neither the secret nor the passphrase', async () => {
    expect(atm(['account', 'add', 'term', '--binance']).code).toBe(0);
    const session = new TmuxSession([process.execPath, 'bin/atm.js', '--home', tmp.home, 'account', 'activate', 'term'], { width: 100, height: 20, env: { ATM_PASSPHRASE: '', NO_COLOR: '1' } });
    session.start();
    try {
      await session.waitForText('API key:');
      session.send('termKey-5555', true);
      session.send('Enter');
      await session.waitForText('API secret (not shown):');
      session.send(SECRET, true);
      session.send('Enter');
      await session.waitForText('Passphrase:');
      session.send('pass word 1', true);
      session.send('Enter');
      await session.waitForText('Passphrase again:');
      session.send('pass word 1', true);
      session.send('Enter');
      const screen = await session.waitForText('[exited 0]', 20_000);
      expect(screen).toContain('stored the credentials of term encrypted (key …5555, hmac)');
      expect(screen).toContain('termKey-5555'); // the key is echoed, as typed
      expect(screen).not.toContain(SECRET);
      expect(screen).not.toContain('pass word 1');
    } finally {
      session.kill();
    }
    expect(JSON.parse(atm(['account', 'show', 'term', '--json']).stdout).credentials).toEqual({ stored: true, apiKeyHint: '5555', keyType: 'hmac' });
  });
});

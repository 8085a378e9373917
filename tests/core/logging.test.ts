import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/core/bus.js';
import { createLogging } from '../../src/core/logging.js';
import { openTestApp, tempHome } from '../helpers/app.js';

describe('logging', () => {
  it('writes JSON lines to the file, feeds the panel ring and the bus, and follows the runtime level', async () => {
    const tmp = tempHome();
    const bus = new EventBus();
    const seen: string[] = [];
    bus.on('log.line', (r) => seen.push(r.msg));
    const logging = createLogging({ file: `${tmp.home}/atm.log`, level: 'info', bus, panelLines: 3, sync: true });
    logging.logger.debug('hidden at info');
    logging.logger.info({ component: 'test' }, 'one');
    logging.setLevel('debug');
    logging.logger.debug('two');
    logging.logger.warn('three');
    logging.logger.error('four');
    expect(seen).toEqual(['one', 'two', 'three', 'four']);
    expect(logging.ring.recent().map((r) => r.msg)).toEqual(['two', 'three', 'four']); // ring of 3
    const lines = readFileSync(`${tmp.home}/atm.log`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.msg)).toEqual(['one', 'two', 'three', 'four']);
    expect(lines[0].component).toBe('test');
    tmp.cleanup();
  });

  it('redacts keys, secrets, signatures and listen keys', () => {
    const tmp = tempHome();
    const logging = createLogging({ file: `${tmp.home}/atm.log`, level: 'trace', panelLines: 10, sync: true });
    logging.logger.info(
      { apiKey: 'KEY123', apiSecret: 'SECRET456', request: { signature: 'SIG789', headers: { 'x-mbx-apikey': 'KEY123' } }, listenKey: 'LK000' },
      'signed request',
    );
    const text = readFileSync(`${tmp.home}/atm.log`, 'utf8');
    for (const secret of ['KEY123', 'SECRET456', 'SIG789', 'LK000']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
    tmp.cleanup();
  });

  it('keeps the exchange credentials and signatures out of the log during signed requests at trace level', async () => {
    const { app, parts, home, cleanup } = await openTestApp({ exchangeMode: 'sim', logLevel: 'trace' });
    try {
      const port = await parts.exchange.start();
      await port.account();
      await port.newOrder({ symbol: 'NOSUCHSYMBOL', side: 'BUY', type: 'MARKET', quantity: '1' } as any).catch(() => undefined);
      const credentials = (parts.exchange as any).local as { apiKey: string; apiSecret: string };
      expect(credentials.apiSecret.length).toBeGreaterThan(8);
      await app.close();
      const text = readFileSync(`${home}/atm.log`, 'utf8');
      expect(text).toContain('connected to the local exchange');
      expect(text).not.toContain(credentials.apiSecret);
      expect(text).not.toContain(credentials.apiKey);
      expect(text).not.toMatch(/signature=[0-9a-f]{16}/);
    } finally {
      await cleanup();
    }
  });
});

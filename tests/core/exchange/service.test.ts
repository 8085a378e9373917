import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compose } from '../../../src/main/compose.js';
import type { ExchangeConnectionState } from '../../../src/core/events.js';
import { tempHome } from '../../helpers/app.js';

/** A loopback port with nothing listening (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('ExchangeService', () => {
  it('auto mode falls back to the local exchange when Binance cannot be reached', async () => {
    const tmp = tempHome();
    const port = await closedPort();
    writeFileSync(join(tmp.home, 'config.yaml'), [
      'exchange:',
      '  connectTimeoutMs: 3000',
      '  binance:',
      `    restUrl: http://127.0.0.1:${port}`,
      `    wsUrl: ws://127.0.0.1:${port}`,
      '  sim:',
      '    seed: 5',
    ].join('\n'));
    const { app, parts } = await compose({ home: tmp.home, logSync: true });
    try {
      const states: ExchangeConnectionState[] = [];
      app.bus.on('exchange.state', (s) => states.push(s));
      // nothing connects until start(): headless commands stay offline
      expect(app.status().exchange).toEqual({ kind: 'none' });
      expect(parts.exchange.port).toBeUndefined();
      const exchange = await parts.exchange.start();
      expect(exchange.simulated).toBe(true);
      expect(states[0]).toEqual({ kind: 'connecting', venue: 'binance' });
      expect(states.at(-1)).toEqual({ kind: 'connected', venue: 'local', simulated: true });
      expect(app.status().exchange).toEqual({ kind: 'connected', venue: 'local', simulated: true });
      // the same Binance adapter works end to end against it, including signed calls
      const info = await exchange.exchangeInfo();
      expect(info.symbols.map((s) => s.symbol)).toContain('BTCUSDT');
      const balances = await exchange.balances();
      expect(balances[0]).toMatchObject({ asset: 'USDT', balance: '100000.00000000' });
      const book = exchange.orderBook('BTCUSDT');
      await book.ready();
      expect(Number(book.book.bestBid()![0])).toBeLessThan(Number(book.book.bestAsk()![0]));
      expect(parts.exchange.stats()?.books[0].state).toBe('live');
      book.unsubscribe();
    } finally {
      await app.close();
      tmp.cleanup();
    }
  });

  it('binance mode does not fall back: it reports the venue as disconnected', async () => {
    const tmp = tempHome();
    const port = await closedPort();
    writeFileSync(join(tmp.home, 'config.yaml'), ['exchange:', '  mode: binance', '  binance:', `    restUrl: http://127.0.0.1:${port}`, `    wsUrl: ws://127.0.0.1:${port}`].join('\n'));
    const { app, parts } = await compose({ home: tmp.home, logSync: true });
    try {
      const disconnected = new Promise<ExchangeConnectionState>((resolve) => app.bus.on('exchange.state', (s) => s.kind === 'disconnected' && resolve(s)));
      void parts.exchange.start().catch(() => undefined);
      const s = await disconnected;
      expect(s).toMatchObject({ kind: 'disconnected', venue: 'binance', simulated: false });
      expect(parts.exchange.port).toBeUndefined();
    } finally {
      await app.close();
      tmp.cleanup();
    }
  });

  it('reports market websocket outages as disconnected with the reason, and connected once back', async () => {
    const tmp = tempHome();
    // the local exchange kills the stream connection instead of every 12th frame it sends
    writeFileSync(join(tmp.home, 'config.yaml'), ['exchange:', '  mode: sim', '  sim:', '    seed: 5', "    faults: 'drop=12'"].join('\n'));
    const { app, parts } = await compose({ home: tmp.home, logSync: true });
    try {
      const states: ExchangeConnectionState[] = [];
      app.bus.on('exchange.state', (s) => states.push(s));
      const exchange = await parts.exchange.start();
      expect(states.at(-1)).toEqual({ kind: 'connected', venue: 'local', simulated: true });
      const connectedAt = states.length;
      let trades = 0;
      const sub = exchange.subscribeAggTrades('BTCUSDT', () => trades++);
      const end = Date.now() + 15_000;
      const outageThenBack = () => {
        const i = states.findIndex((s, k) => k >= connectedAt && s.kind === 'disconnected');
        return i >= 0 && states.slice(i + 1).some((s) => s.kind === 'connected');
      };
      while (!outageThenBack()) {
        if (Date.now() > end) throw new Error(`no outage and recovery reported: ${JSON.stringify(states)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const down = states.slice(connectedAt).find((s) => s.kind === 'disconnected')!;
      expect(down).toMatchObject({ kind: 'disconnected', venue: 'local', simulated: true });
      expect((down as { reason: string }).reason).toMatch(/market stream connection lost/);
      // outages and recoveries alternate: each drop is reported once, each recovery once
      const flips = states.slice(connectedAt).map((s) => s.kind);
      for (let i = 1; i < flips.length; i++) expect(flips[i]).not.toBe(flips[i - 1]);
      expect(trades).toBeGreaterThan(0);
      sub.unsubscribe();
      // with no stream left nothing is down: the status ends connected
      if (states.at(-1)!.kind === 'disconnected') {
        while (states.at(-1)!.kind !== 'connected') {
          if (Date.now() > end + 5000) throw new Error('status did not return to connected');
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      expect(app.status().exchange).toEqual({ kind: 'connected', venue: 'local', simulated: true });
    } finally {
      await app.close();
      tmp.cleanup();
    }
  });
});


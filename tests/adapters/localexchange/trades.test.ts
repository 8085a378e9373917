import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { LocalExchange } from '../../../src/adapters/localexchange/server.js';
import { waitFor } from '../../helpers/wait.js';

/** A decimal string as an integer of 10^-8 units (exact). */
function units(text: string): bigint {
  const [whole, frac = ''] = text.split('.');
  return BigInt(whole + frac.padEnd(8, '0'));
}

describe('the local exchange <symbol>@trade stream', () => {
  let ex: LocalExchange;
  const sockets: WebSocket[] = [];
  beforeAll(async () => {
    ex = await LocalExchange.start({ manualClock: true, symbols: ['BTCUSDT'], historyDays: 0, seed: 21 });
  });
  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    await ex.close();
  });

  async function open(path: string): Promise<any[]> {
    const ws = new WebSocket(`${ex.wsUrl}${path}`);
    sockets.push(ws);
    const frames: any[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return frames;
  }

  it('serves Binance trade events on /public (raw and combined) matching the aggregated trades; /market acknowledges but never delivers', async () => {
    const raw = await open('/public/ws/btcusdt@trade');
    const combined = await open('/public/stream?streams=btcusdt@trade');
    const aggs = await open('/market/ws/btcusdt@aggTrade');
    const routedWrong = await open('/market/ws');
    const live = await open('/public/ws');
    sockets[sockets.length - 2].send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@trade'], id: 1 }));
    sockets[sockets.length - 1].send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@trade'], id: 7 }));
    await waitFor(() => routedWrong.some((f) => f.id === 1) && live.some((f) => f.id === 7), 5000, 'the SUBSCRIBE replies');
    expect(routedWrong[0]).toEqual({ result: null, id: 1 });
    for (let i = 0; i < 100 && aggs.length < 40; i++) {
      ex.tick(1000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const lastAgg = () => aggs[aggs.length - 1];
    await waitFor(() => aggs.length >= 40 && raw.some((t) => t.t === lastAgg().l) && combined.some((f) => f.data.t === lastAgg().l) && live.some((t) => t.t === lastAgg().l), 5000, 'the trades of the last aggregated trade');

    const trades = raw;
    expect(Object.keys(trades[0])).toEqual(['e', 'E', 'T', 's', 't', 'p', 'q', 'X', 'm']);
    expect(trades[0]).toMatchObject({ e: 'trade', s: 'BTCUSDT', X: 'MARKET' });
    // ids rise, and each aggregated trade is exactly its fills: same price, time and side, quantities summing to it
    for (let i = 1; i < trades.length; i++) expect(trades[i].t).toBeGreaterThan(trades[i - 1].t);
    const byId = new Map(trades.map((t) => [t.t, t]));
    let checked = 0;
    for (const agg of aggs) {
      const fills = [];
      for (let id = agg.f; id <= agg.l; id++) if (byId.has(id)) fills.push(byId.get(id));
      if (agg.f < trades[0].t) continue; // before the trade stream took effect
      expect(fills.length).toBeGreaterThan(0);
      for (const f of fills) expect({ p: f.p, T: f.T, m: f.m }).toEqual({ p: agg.p, T: agg.T, m: agg.m });
      expect(fills.reduce((sum, f) => sum + units(f.q), 0n)).toBe(units(agg.q));
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
    // combined wraps the same payloads; a live SUBSCRIBE on /public gets them too
    expect(combined[0].stream).toBe('btcusdt@trade');
    const combinedTrades = combined.map((f) => f.data).filter((t) => t.t >= trades[0].t);
    expect(combinedTrades.map((t) => t.t)).toEqual(trades.filter((t) => t.t <= combinedTrades[combinedTrades.length - 1].t && t.t >= combinedTrades[0].t).map((t) => t.t));
    expect(live.filter((f) => f.e === 'trade').length).toBeGreaterThan(0);
    expect(routedWrong.filter((f) => f.e === 'trade')).toEqual([]);
  });
});

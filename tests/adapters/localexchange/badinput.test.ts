import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { WebSocket } from 'ws';
import { tempHome } from '../../helpers/app.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * Bad input against a standalone `atm exchange-sim` process (a real process on loopback): the
 * local exchange answers every bad websocket frame and HTTP request the way Binance does and
 * never exits. The in-process tests cannot see a crash: an unhandled error there fails the test
 * runner, not a server someone else's client talks to.
 */
describe('a standalone local exchange under bad input', () => {
  const tmp = tempHome('atm-sim-bad-');
  let sim: ChildProcess;
  let out = '';
  let err = '';
  let exit: { code: number | null; signal: string | null } | undefined;
  let url = '';
  let wsUrl = '';

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
    sim = spawn(process.execPath, ['bin/atm.js', '--home', tmp.home, 'exchange-sim', '--port', '0', '--history', '0', '--symbols', 'BTCUSDT'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    sim.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    sim.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    sim.on('exit', (code, signal) => (exit = { code, signal }));
    await waitFor(() => /REST\s+http:\/\/127\.0\.0\.1:\d+/.test(out) || exit !== undefined, 20_000, 'the exchange to listen');
    expect(exit, `exchange-sim exited: ${err}`).toBeUndefined();
    url = /REST\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1];
    wsUrl = url.replace('http:', 'ws:');
  });

  afterAll(async () => {
    if (sim && exit === undefined) {
      sim.kill('SIGTERM');
      await waitFor(() => exit !== undefined, 10_000, 'exchange-sim to stop');
    }
    tmp.cleanup();
  });

  async function alive(): Promise<void> {
    expect(exit, `exchange-sim exited; stderr:\n${err}`).toBeUndefined();
    const res = await fetch(`${url}/fapi/v1/ping`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  }

  /** Opens a connection, sends one frame, and returns the first reply (or how the server closed). */
  async function exchange(frame: string | Buffer, options: { binary?: boolean; path?: string } = {}): Promise<{ reply?: Record<string, unknown>; close?: number }> {
    const ws = new WebSocket(`${wsUrl}${options.path ?? '/public/ws'}`);
    const result: { reply?: Record<string, unknown>; close?: number } = {};
    let done = false;
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if ('stream' in message || 'e' in message) return; // a stream frame, not the reply
      result.reply ??= message;
      done = true;
    });
    ws.on('close', (code) => {
      result.close = code;
      done = true;
    });
    ws.on('error', () => (done = true));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(frame, { binary: options.binary ?? false });
    await waitFor(() => done, 5000, `a reply to ${String(frame).slice(0, 40)}`);
    ws.terminate();
    return result;
  }

  it('answers bad websocket control frames with Binance error codes and stays up', async () => {
    const invalidRequest = { code: 2, msg: expect.stringMatching(/^Invalid request: /) };
    // valid JSON that is not a request object
    for (const frame of ['null', '1', '-3.5', '"SUBSCRIBE"', 'true', '[]', '[{"method":"SUBSCRIBE"}]']) {
      expect((await exchange(frame)).reply, frame).toMatchObject({ ...invalidRequest, id: null });
    }
    // not JSON at all
    for (const frame of ['not json', '{"method":', '', '\u0000\u0001']) {
      expect((await exchange(frame)).reply, JSON.stringify(frame)).toMatchObject({ code: 3, msg: expect.stringMatching(/^Invalid JSON: /) });
    }
    // a request object with a bad or missing part
    const cases: [string, Record<string, unknown>][] = [
      ['{}', { ...invalidRequest, id: null }],
      ['{"id":1}', { ...invalidRequest, id: 1 }],
      ['{"method":null,"id":2}', { ...invalidRequest, id: 2 }],
      ['{"method":"FOO","params":[],"id":3}', { ...invalidRequest, id: 3 }],
      ['{"method":"SUBSCRIBE","id":4}', { ...invalidRequest, id: 4 }],
      ['{"method":"SUBSCRIBE","params":"btcusdt@aggTrade","id":5}', { ...invalidRequest, id: 5 }],
      ['{"method":"SUBSCRIBE","params":[null],"id":6}', { ...invalidRequest, id: 6 }],
      ['{"method":"SUBSCRIBE","params":{"0":"btcusdt@aggTrade"},"id":7}', { ...invalidRequest, id: 7 }],
      ['{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":-1}', { ...invalidRequest, id: null }],
      ['{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":1.5}', { ...invalidRequest, id: null }],
      ['{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":{"a":1}}', { ...invalidRequest, id: null }],
      ['{"method":"SET_PROPERTY","params":null,"id":8}', { code: 0, msg: 'Unknown property', id: 8 }],
      ['{"method":"SET_PROPERTY","params":["combined","yes"],"id":9}', { code: 1, msg: 'Invalid value type: expected Boolean', id: 9 }],
      ['{"method":"GET_PROPERTY","params":"combined","id":10}', { code: 0, msg: 'Unknown property', id: 10 }],
      // a request without an id is answered with id null, as Binance does
      ['{"method":"LIST_SUBSCRIPTIONS"}', { result: [], id: null }],
      ['{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":11,"extra":[1,2]}', { result: null, id: 11 }],
    ];
    for (const [frame, reply] of cases) expect((await exchange(frame)).reply, frame).toEqual(reply);
    await alive();
  });

  it('takes binary frames like text frames, closes on oversized or invalid UTF-8 frames, and stays up', async () => {
    expect((await exchange(Buffer.from('{"method":"LIST_SUBSCRIPTIONS","id":1}'), { binary: true })).reply).toEqual({ result: [], id: 1 });
    expect((await exchange(Buffer.from([0xff, 0x00, 0x13]), { binary: true })).reply).toMatchObject({ code: 3 });
    expect((await exchange('null', { binary: true })).reply).toMatchObject({ code: 2, id: null });
    // a frame larger than the server takes closes the connection (1009 Message Too Big)
    expect((await exchange(`{"method":"SUBSCRIBE","params":["${'x'.repeat(1_100_000)}"],"id":1}`)).close).toBe(1009);
    // deep nesting
    expect((await exchange('['.repeat(20_000) + ']'.repeat(20_000))).reply).toMatchObject({ code: 2 });
    // a text frame that is not UTF-8: the websocket protocol closes with 1007
    const raw = await exchange(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
    expect(raw.close === 1007 || raw.reply?.code === 3).toBe(true);
    // the same bad frames on the other paths
    for (const path of ['/market/ws', '/ws', '/stream', '/public/stream?streams=btcusdt@bookTicker']) {
      expect((await exchange('null', { path })).reply, path).toMatchObject({ code: 2, id: null });
    }
    await alive();
  });

  it('closes a connection that sends more than 10 messages a second, and stays up', async () => {
    const ws = new WebSocket(`${wsUrl}/public/ws`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    let close: number | undefined;
    ws.on('close', (code) => (close = code));
    for (let i = 0; i < 20; i++) ws.send(i % 2 ? 'null' : '{"method":"LIST_SUBSCRIPTIONS","id":1}');
    await waitFor(() => close !== undefined, 5000, 'the close');
    expect(close).toBe(1008);
    await alive();
  });

  /** Writes raw bytes on a TCP connection, then ends it (or resets it) and waits for the socket to close. */
  async function rawHttp(bytes: string, how: 'end' | 'reset' | 'wait'): Promise<string> {
    const port = Number(new URL(url).port);
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let closed = false;
    socket.on('data', (d) => (received += d.toString()));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', (error) => reject(new Error(`${error.message}; exchange-sim exit ${JSON.stringify(exit)}, stderr:\n${err}`)));
    });
    socket.on('error', () => {});
    socket.on('close', () => (closed = true));
    socket.write(bytes);
    if (how === 'end') socket.end();
    else if (how === 'reset') {
      // let the server start reading the body, then reset the connection
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.resetAndDestroy();
    } else await waitFor(() => received.includes('\r\n\r\n') || closed, 5000, 'an HTTP answer');
    await waitFor(() => closed || how === 'wait', 5000, 'the socket to close');
    socket.destroy();
    return received;
  }

  it('survives POST bodies shorter than their Content-Length when the client goes away', async () => {
    const head = (path: string, length: number) => `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\n\r\n`;
    for (const path of ['/fapi/v1/order', '/fapi/v1/listenKey', '/fapi/v1/nothing']) {
      await rawHttp(head(path, 500) + 'symbol=BTCUSDT&side=BUY', 'end');
      await rawHttp(head(path, 500) + 'symbol=BTCUSDT&side=BUY', 'reset');
      await rawHttp(head(path, 10_000_000), 'reset');
    }
    // an upgrade request reset before the server answers
    await rawHttp('GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n', 'reset');
    await rawHttp('GET /public/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: bad\r\n\r\n', 'reset');
    // not HTTP at all
    expect(await rawHttp('HELLO\r\n\r\n', 'wait')).toMatch(/^HTTP\/1\.1 400/);
    // targets that are no URL path: not found, for requests and upgrades alike
    for (const target of ['//', '//x:99999/fapi/v1/ping']) {
      expect(await rawHttp(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 'wait')).toMatch(/^HTTP\/1\.1 404[^]*"code":-5000/);
      expect(await rawHttp(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`, 'wait')).toMatch(/^HTTP\/1\.1 404/);
    }
    await alive();
  });

  it('answers an oversized body with 413 and a Binance-shaped error', async () => {
    const res = await fetch(`${url}/fapi/v1/order`, { method: 'POST', body: 'a='.padEnd(2_000_000, 'x'), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: expect.any(Number), msg: expect.any(String) });
    await alive();
  });

  it('answers bad query strings with Binance error codes, never a 500', async () => {
    const cases: [string, number, number | undefined][] = [
      ['/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=%zz', 400, -1130],
      ['/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=-1', 400, -1130],
      ['/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1.5', 400, -1130],
      ['/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=abc', 400, -1100],
      ['/fapi/v1/klines?symbol=BTCUSDT&interval=7m', 400, -1120],
      ['/fapi/v1/klines?symbol=%ZZ&interval=1m', 400, -1121],
      ['/fapi/v1/klines?%%%&&&==', 400, -1102],
      ['/fapi/v1/depth?symbol=BTCUSDT&limit=7', 400, -1130],
      ['/fapi/v1/depth?symbol=BTCUSDT&limit=', 400, -1130],
      ['/fapi/v1/aggTrades?symbol=BTCUSDT&limit=-1', 400, -1130],
      ['/fapi/v1/aggTrades?symbol=BTCUSDT&limit=abc', 400, -1130],
      ['/fapi/v1/aggTrades?symbol=BTCUSDT&limit=1001', 400, -1130],
      ['/fapi/v1/aggTrades?symbol=BTCUSDT&fromId=x', 400, -1100],
      ['/fapi/v1/fundingRate?symbol=BTCUSDT&limit=-1', 400, -1130],
      ['/fapi/v1/ticker/price?symbol=' + 'A'.repeat(4000), 400, -1121],
      ['/fapi/v1/time?&&&=&', 200, undefined],
      ['/fapi/v1/order?symbol=BTCUSDT&timestamp=abc&signature=%zz', 401, -2014],
    ];
    for (const [path, status, code] of cases) {
      const res = await fetch(url + path);
      const text = await res.text();
      const body = (text ? JSON.parse(text) : {}) as { code?: number };
      expect({ path, status: res.status, code: body.code }).toEqual({ path, status, code });
    }
    // a request line and headers over node's 16 KiB limit: 431, no body
    expect((await fetch(`${url}/fapi/v1/ticker/price?symbol=${'A'.repeat(20_000)}`)).status).toBe(431);
    // a signed request with a signature that is not percent-encoding
    const res = await fetch(`${url}/fapi/v1/openOrders?timestamp=${Date.now()}&signature=%zz`, { headers: { 'X-MBX-APIKEY': 'atmDemoKeyLocalExchange0000000000000000000000000000000000000000' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: -1022, msg: 'Signature for this request is not valid.' });
    await alive();
  });
});

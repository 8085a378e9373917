import { generateKeyPairSync, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinanceExchange } from '../../../src/adapters/binance/adapter.js';
import { Ed25519Signer, HmacSigner, createSigner, encodeParams, hmacSignature } from '../../../src/adapters/binance/sign.js';
import { LocalExchange } from '../../../src/adapters/localexchange/server.js';

describe('request signing', () => {
  it("matches Binance's published HMAC-SHA256 example", () => {
    const secret = '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9';
    const payload = 'symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943';
    expect(hmacSignature(secret, payload)).toBe('3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9');
    expect(new HmacSigner(secret).sign(payload)).toBe('3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9');
  });

  it('encodes params in order, skipping undefined', () => {
    expect(encodeParams({ symbol: 'BTCUSDT', price: undefined, side: 'BUY', newClientOrderId: 'a/b:c' })).toBe('symbol=BTCUSDT&side=BUY&newClientOrderId=a%2Fb%3Ac');
  });

  it('signs with Ed25519: base64, URL-encoded, verifiable with the public key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const signer = createSigner(pem);
    expect(signer).toBeInstanceOf(Ed25519Signer);
    const payload = 'symbol=BTCUSDT&timestamp=1591702613943';
    const sig = signer.sign(payload);
    expect(sig).not.toMatch(/[+/=]/);
    expect(verify(null, Buffer.from(payload), publicKey, Buffer.from(decodeURIComponent(sig), 'base64'))).toBe(true);
    expect(JSON.stringify({ signer })).not.toContain('PRIVATE');
  });
});

describe('signed requests against the local exchange', () => {
  let ex: LocalExchange;
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  beforeAll(async () => {
    ex = await LocalExchange.start({
      manualClock: true, symbols: ['BTCUSDT'], historyDays: 0.1,
      accounts: [
        { apiKey: 'hmackey', apiSecret: 'hmacsecret' },
        { apiKey: 'edkey', apiSecret: publicKey.export({ format: 'pem', type: 'spki' }).toString() },
      ],
    });
  });
  afterAll(async () => ex.close());

  it('accepts HMAC and Ed25519 signatures and rejects a wrong secret with -1022', async () => {
    const hmac = new BinanceExchange({ venue: 'local', restUrl: ex.url, wsUrl: ex.wsUrl, apiKey: 'hmackey', apiSecret: 'hmacsecret' });
    const ed = new BinanceExchange({ venue: 'local', restUrl: ex.url, wsUrl: ex.wsUrl, apiKey: 'edkey', apiSecret: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
    const bad = new BinanceExchange({ venue: 'local', restUrl: ex.url, wsUrl: ex.wsUrl, apiKey: 'hmackey', apiSecret: 'wrong' });
    const unknown = new BinanceExchange({ venue: 'local', restUrl: ex.url, wsUrl: ex.wsUrl, apiKey: 'nobody', apiSecret: 'x' });
    const nokey = new BinanceExchange({ venue: 'local', restUrl: ex.url, wsUrl: ex.wsUrl });
    try {
      expect((await hmac.balances())[0].asset).toBe('USDT');
      expect((await ed.balances())[0].balance).toBe('100000.00000000');
      await expect(bad.balances()).rejects.toMatchObject({ code: -1022, kind: 'rejected' });
      await expect(unknown.balances()).rejects.toMatchObject({ code: -2015, status: 401 });
      await expect(nokey.balances()).rejects.toMatchObject({ code: -2014 });
    } finally {
      await Promise.all([hmac.close(), ed.close(), bad.close(), unknown.close(), nokey.close()]);
    }
  });

  it('rejects a timestamp outside recvWindow with -1021 (raw request)', async () => {
    // the exchange's clock (its market clock; here stopped), as a client's offset logic would use it
    const serverTime = ((await (await fetch(`${ex.url}/fapi/v1/time`)).json()) as { serverTime: number }).serverTime;
    const ts = serverTime - 10_000;
    const q = `timestamp=${ts}&recvWindow=5000`;
    const res = await fetch(`${ex.url}/fapi/v3/balance?${q}&signature=${hmacSignature('hmacsecret', q)}`, { headers: { 'X-MBX-APIKEY': 'hmackey' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' });
  });

  it('signs query + body as totalParams (query directly followed by body)', async () => {
    const query = 'symbol=BTCUSDT&leverage=7';
    const serverTime = ((await (await fetch(`${ex.url}/fapi/v1/time`)).json()) as { serverTime: number }).serverTime;
    const body = `timestamp=${serverTime}`;
    const sig = hmacSignature('hmacsecret', query + body);
    const res = await fetch(`${ex.url}/fapi/v1/leverage?${query}`, {
      method: 'POST', headers: { 'X-MBX-APIKEY': 'hmackey', 'Content-Type': 'application/x-www-form-urlencoded' }, body: `${body}&signature=${sig}`,
    });
    expect(await res.json()).toMatchObject({ leverage: 7, symbol: 'BTCUSDT' });
  });
});

import { Pool, errors as undiciErrors } from 'undici';
import { ExchangeError } from '../../core/exchange/port.js';
import { RateGovernor } from './governor.js';
import { encodeParams, type Signer } from './sign.js';
import { orderCount, requestWeight } from './weights.js';

export type Security = 'NONE' | 'MARKET_DATA' | 'USER_STREAM' | 'SIGNED';
export type Params = Record<string, string | number | boolean | undefined>;

export interface RequestSpec {
  security?: Security;
  /**
   * True when sending it twice does no harm (GET, DELETE of listenKey...). Only these are retried
   * after network errors, 5xx and 429. A new order is never retried: its outcome may be unknown.
   */
  idempotent?: boolean;
  signal?: AbortSignal;
}

export interface RestOptions {
  baseUrl: string;
  apiKey?: string;
  signer?: Signer;
  recvWindow?: number;
  timeoutMs?: number;
  connections?: number;
  governor?: RateGovernor;
  /** Retries for idempotent requests. */
  retries?: number;
  /**
   * Called after every request (status 0: no answer) for trace logging; receives the path and
   * weight only: no keys, no signatures, no query strings.
   */
  onRequest?: (info: { method: string; path: string; weight: number; status: number; ms: number; error?: string }) => void;
}

/**
 * The REST client for Binance USD-M (and the local exchange, which speaks the same protocol).
 * One undici keep-alive pool per origin; every request passes the rate-limit governor; signed
 * requests carry `timestamp` + `recvWindow` from the server-time offset and the signature last.
 */
export class BinanceRest {
  readonly governor: RateGovernor;
  private readonly pool: Pool;
  private readonly base: URL;
  private offsetMs = 0;
  private closed = false;
  roundTrips = 0;

  constructor(private readonly options: RestOptions) {
    this.base = new URL(options.baseUrl);
    this.pool = new Pool(this.base.origin, {
      connections: options.connections ?? 8,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs ?? 10_000,
      bodyTimeout: options.timeoutMs ?? 10_000,
      connectTimeout: options.timeoutMs ?? 10_000,
    });
    this.governor = options.governor ?? new RateGovernor({ now: () => this.serverNow() });
  }

  get hasKey(): boolean {
    return this.options.apiKey !== undefined && this.options.apiKey !== '';
  }

  get canSign(): boolean {
    return this.hasKey && this.options.signer !== undefined;
  }

  /** Local time corrected by the measured server-time offset. */
  serverNow(): number {
    return Date.now() + this.offsetMs;
  }

  get timeOffsetMs(): number {
    return this.offsetMs;
  }

  /** Measures the server-time offset (RTT midpoint). */
  async syncTime(signal?: AbortSignal): Promise<number> {
    const t0 = Date.now();
    const r = await this.request<{ serverTime: number }>('GET', '/fapi/v1/time', {}, { idempotent: true, signal });
    const t1 = Date.now();
    this.offsetMs = Math.round(r.serverTime - (t0 + t1) / 2);
    return this.offsetMs;
  }

  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, params: Params = {}, spec: RequestSpec = {}): Promise<T> {
    const retries = spec.idempotent ? (this.options.retries ?? 2) : 0;
    let timeSynced = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(method, path, params, spec);
      } catch (error) {
        if (!(error instanceof ExchangeError) || this.closed) throw error;
        if (error.code === -1021 && !timeSynced && path !== '/fapi/v1/time') {
          // Rejected for time: nothing executed, so resync and try once more.
          timeSynced = true;
          await this.syncTime(spec.signal);
          attempt--;
          continue;
        }
        const retryable = error.kind === 'network' || error.kind === 'server' || error.kind === 'rate-limited';
        if (!retryable || attempt >= retries) throw error;
        if (error.kind !== 'rate-limited') await delay(100 * 2 ** attempt + Math.random() * 100, spec.signal);
        // rate-limited: the governor already holds every request until the pause ends.
      }
    }
  }

  private async once<T>(method: string, path: string, params: Params, spec: RequestSpec): Promise<T> {
    if (this.closed) throw new ExchangeError(0, 'client closed', 'network', undefined, `${method} ${path}`);
    const security = spec.security ?? 'NONE';
    const context = `${method} ${path}${typeof params.symbol === 'string' ? ' ' + params.symbol : ''}`;
    const headers: Record<string, string> = {};
    if (security !== 'NONE') {
      if (!this.hasKey) throw new ExchangeError(-2014, 'API-key format invalid.', 'rejected', 401, `${context} (no API key configured)`);
      headers['X-MBX-APIKEY'] = this.options.apiKey!;
    }
    // weights and order counts come from the one table the local exchange also counts with
    const weight = requestWeight(method, path, params);
    await this.governor.acquire(weight, orderCount(method, path), spec.signal);
    let query = encodeParams(params);
    if (security === 'SIGNED') {
      if (!this.options.signer) throw new ExchangeError(-1022, 'Signature for this request is not valid.', 'rejected', 401, `${context} (no API secret configured)`);
      const extra = encodeParams({ recvWindow: this.options.recvWindow ?? 5000, timestamp: this.serverNow() });
      query = query ? `${query}&${extra}` : extra;
      query += `&signature=${this.options.signer.sign(query)}`;
    }
    const fullPath = `${this.base.pathname.replace(/\/$/, '')}${path}${query ? '?' + query : ''}`;
    const started = performance.now();
    let status: number;
    let text: string;
    let resHeaders: Record<string, string | string[] | undefined>;
    try {
      const res = await this.pool.request({ method: method as 'GET', path: fullPath, headers, signal: spec.signal });
      status = res.statusCode;
      resHeaders = res.headers;
      text = await res.body.text();
    } catch (error) {
      this.options.onRequest?.({ method, path, weight, status: 0, ms: performance.now() - started, error: (error as Error).message });
      const timeout = error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError;
      const sentMaybe = timeout && !spec.idempotent;
      throw new ExchangeError(
        sentMaybe ? -1007 : 0,
        sentMaybe ? 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.' : `${(error as Error).message}`,
        sentMaybe ? 'unknown-status' : 'network',
        undefined,
        context,
      );
    }
    this.roundTrips++;
    this.options.onRequest?.({ method, path, weight, status, ms: performance.now() - started });
    let body: unknown;
    try {
      body = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    const err = body as { code?: number; msg?: string } | undefined;
    this.governor.onResponse(status, resHeaders, err);
    if (status >= 200 && status < 300) {
      if (body === undefined) throw new ExchangeError(0, `unparsable response: ${text.slice(0, 120)}`, 'protocol', status, context);
      return body as T;
    }
    const code = typeof err?.code === 'number' ? err.code : 0;
    const msg = typeof err?.msg === 'string' ? err.msg : text.slice(0, 200) || `HTTP ${status}`;
    if (status === 429) throw new ExchangeError(code || -1003, msg, 'rate-limited', status, context, this.governor.blockedForMs());
    if (status === 418) throw new ExchangeError(code || -1003, msg, 'banned', status, context, this.governor.blockedForMs());
    if (status === 503 && /unknown error/i.test(msg)) throw new ExchangeError(code, msg, 'unknown-status', status, context);
    if (code === -1006 || code === -1007) throw new ExchangeError(code, msg, 'unknown-status', status, context);
    if (status >= 500) throw new ExchangeError(code, msg, spec.idempotent ? 'server' : 'unknown-status', status, context);
    throw new ExchangeError(code, msg, 'rejected', status, context);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.governor.rejectAll(new ExchangeError(0, 'client closed', 'network'));
    await this.pool.close().catch(() => undefined);
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const h = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(h);
      reject(signal.reason ?? new Error('aborted'));
    }, { once: true });
  });
}

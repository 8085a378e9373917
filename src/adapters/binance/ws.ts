import WebSocket from 'ws';

/**
 * The websocket client for Binance USD-M market streams (and the local exchange).
 *
 * - Streams are spread over connections per route (`/public` for depth and bookTicker, `/market`
 *   for the rest; one legacy route when `routed` is false), at most `maxStreamsPerConnection`
 *   (1024) each, always in combined mode (`/stream`, payloads wrapped as {stream, data}).
 * - Live SUBSCRIBE/UNSUBSCRIBE messages are batched and sent through a per-connection token
 *   bucket below the exchange's 10 incoming messages per second (pings count too).
 * - The client pings every `pingIntervalMs`; a missing pong within `pongTimeoutMs` kills the
 *   connection. Lost connections come back with exponential backoff and full jitter; a
 *   connection is rotated (planned reconnect) before the exchange's 24 h cut.
 * - Messages are dispatched synchronously as they arrive: there is no queue to overflow. Lag
 *   (local receive time − event time E, corrected by the server-time offset) is measured on every
 *   message; when it stays above `maxLagMs` the connection is recycled and consumers resync,
 *   rather than falling further behind silently.
 * - After every (re)connect `onConnected(streams)` tells consumers which streams may have missed
 *   messages, so they fill gaps (klines) or resync (order books).
 */
export interface StreamClientOptions {
  /** ws://host:port or wss://fstream.binance.com */
  baseUrl: string;
  /** Use the routed `/public` and `/market` paths (production since 2026); else `/stream`. */
  routed: boolean;
  maxStreamsPerConnection?: number;
  /** Outgoing messages per second per connection (default 5; the exchange allows 10). */
  outgoingPerSecond?: number;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** Planned reconnect after this long (default 23 h 30 min). */
  rotateAfterMs?: number;
  /** Lag above which, for `lagStrikes` messages in a row, the connection is recycled. */
  maxLagMs?: number;
  lagStrikes?: number;
  /** Server-time-corrected clock. */
  now?: () => number;
  onMessage: (stream: string, data: any) => void;
  /** Called after each (re)connect with the streams of that connection (and whether it is a reconnect). */
  onConnected?: (streams: string[], reconnect: boolean) => void;
  /**
   * Outages of the stream connections: `up: false` with the reason when a connection carrying
   * streams is lost (not for planned recycles), `up: true` once every such connection is open again.
   */
  onState?: (state: { up: boolean; reason: string }) => void;
  /**
   * A connection was recycled for lag: the client may resync its server-time offset (a stale
   * offset after a clock step, or an exchange clock at another speed, looks like lag).
   */
  onLagRecycle?: () => void;
  onLog?: AdapterLog;
}

/**
 * The adapter's log hook. `trace` carries the wire-level detail (REST requests, websocket control
 * frames, pings, closes, reconnects), never keys, signatures, listen keys or query strings.
 */
export type AdapterLog = (level: 'trace' | 'info' | 'warn', message: string) => void;

/** A websocket URL for logs: the listen key (query or legacy path) replaced. */
export function redactUrl(url: string): string {
  return url.replace(/listenKey=[^&]*/g, 'listenKey=[redacted]').replace(/\/ws\/(?![a-z0-9]+@)[A-Za-z0-9]{20,}/g, '/ws/[redacted]');
}

export interface StreamClientStats {
  connections: number;
  open: number;
  streams: number;
  messagesTotal: number;
  messagesPerSecond: number;
  lagMs: number;
  maxLagMs: number;
  reconnects: number;
  parseErrors: number;
  lagRecycles: number;
  queued: number;
}

type Route = 'public' | 'market' | 'stream';

export function streamRoute(stream: string, routed: boolean): Route {
  if (!routed) return 'stream';
  return /@(depth|bookTicker|trade$|rpiDepth)|^!bookTicker/.test(stream) ? 'public' : 'market';
}

class Connection {
  ws: WebSocket | undefined;
  readonly streams = new Set<string>();
  /** Streams added/removed since the last SUBSCRIBE/UNSUBSCRIBE was sent. */
  private pendingSub = new Set<string>();
  private pendingUnsub = new Set<string>();
  private outbox: string[] = [];
  private sentTimes: number[] = [];
  private sendTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private rotateTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private everOpened = false;
  private nextId = 1;
  private closedForGood = false;
  open = false;
  lagStrikes = 0;

  constructor(private readonly client: StreamClient, readonly route: Route) {}

  get size(): number {
    return this.streams.size;
  }

  add(stream: string): void {
    this.streams.add(stream);
    this.pendingUnsub.delete(stream);
    if (this.open) {
      this.pendingSub.add(stream);
      this.flushSubscriptions();
    } else if (!this.ws) this.connect();
  }

  remove(stream: string): void {
    this.streams.delete(stream);
    this.pendingSub.delete(stream);
    if (this.open) {
      this.pendingUnsub.add(stream);
      this.flushSubscriptions();
    }
  }

  connect(): void {
    if (this.closedForGood) return;
    const o = this.client.options;
    const initial = [...this.streams].slice(0, 100);
    const path = o.routed ? `/${this.route}/stream` : '/stream';
    const url = `${o.baseUrl.replace(/\/$/, '')}${path}${initial.length > 0 ? `?streams=${initial.join('/')}` : ''}`;
    this.pendingSub = new Set([...this.streams].slice(100));
    this.pendingUnsub.clear();
    this.outbox = [];
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 10_000 });
    this.ws = ws;
    o.onLog?.('trace', `ws ${this.route}: connecting ${redactUrl(url)}`);
    ws.on('open', () => {
      if (this.ws !== ws) return;
      o.onLog?.('trace', `ws ${this.route}: open (${this.streams.size} streams)`);
      this.open = true;
      const reconnect = this.everOpened;
      this.everOpened = true;
      this.lagStrikes = 0;
      this.armPing();
      this.rotateTimer = setTimeout(() => this.recycle('planned rotation before the 24 h limit'), o.rotateAfterMs ?? 23.5 * 3_600_000);
      this.rotateTimer.unref();
      // streams added while connecting, beyond the URL
      for (const s of this.streams) if (!initial.includes(s)) this.pendingSub.add(s);
      this.flushSubscriptions();
      o.onConnected?.([...this.streams], reconnect);
      this.client.noteMaybeUp();
      // the backoff resets only once a connection has stayed up a while
      setTimeout(() => {
        if (this.ws === ws && this.open) this.attempt = 0;
      }, 5000).unref();
    });
    ws.on('message', (data, isBinary) => {
      if (this.ws !== ws) return;
      this.client.receive(this, isBinary ? data.toString() : (data as Buffer).toString());
    });
    ws.on('pong', () => {
      o.onLog?.('trace', `ws ${this.route}: pong received`);
      if (this.pongTimer) clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
    });
    ws.on('ping', () => o.onLog?.('trace', `ws ${this.route}: ping received, pong sent`));
    ws.on('close', (code, reason) => {
      o.onLog?.('trace', `ws ${this.route}: close ${code} ${reason.toString()}`);
      this.onDown(ws, `closed ${code} ${reason.toString()}`);
    });
    ws.on('error', (error) => {
      o.onLog?.('trace', `ws ${this.route}: error ${error.message}`);
      this.onDown(ws, error.message);
    });
  }

  private onDown(ws: WebSocket, why: string): void {
    if (this.ws !== ws) return;
    this.clearTimers();
    this.open = false;
    this.ws = undefined;
    try {
      ws.terminate();
    } catch {
      // already gone
    }
    if (this.closedForGood || this.streams.size === 0) return;
    const o = this.client.options;
    const base = o.reconnectBaseMs ?? 250;
    const max = o.reconnectMaxMs ?? 30_000;
    const delay = Math.random() * Math.min(max, base * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 20);
    this.client.noteReconnect();
    o.onLog?.('warn', `stream connection (${this.route}, ${this.streams.size} streams) lost: ${why}; reconnecting in ${Math.round(delay)} ms`);
    this.client.noteDown(this.route, why);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  /** Planned reconnect (rotation, lag): close and come back at once. */
  recycle(why: string): void {
    const ws = this.ws;
    if (!ws) return;
    this.client.options.onLog?.('info', `stream connection (${this.route}) recycled: ${why}`);
    this.clearTimers();
    this.open = false;
    this.ws = undefined;
    ws.removeAllListeners();
    ws.on('error', () => undefined);
    ws.terminate();
    this.client.noteReconnect();
    this.connect();
  }

  /** Kills the socket as if the network dropped (tests). */
  kill(): void {
    this.ws?.terminate();
  }

  private armPing(): void {
    const o = this.client.options;
    this.pingTimer = setInterval(() => {
      const ws = this.ws;
      if (!ws || !this.open) return;
      if (!this.takeSlot()) return; // pings count towards the message limit; skip if the bucket is empty
      ws.ping();
      o.onLog?.('trace', `ws ${this.route}: ping sent`);
      if (!this.pongTimer) {
        this.pongTimer = setTimeout(() => {
          this.pongTimer = undefined;
          o.onLog?.('warn', `no pong within ${o.pongTimeoutMs ?? 10_000} ms`);
          ws.terminate();
        }, o.pongTimeoutMs ?? 10_000);
      }
    }, o.pingIntervalMs ?? 30_000);
    this.pingTimer.unref();
  }

  private clearTimers(): void {
    for (const t of [this.sendTimer, this.pongTimer, this.rotateTimer, this.reconnectTimer]) if (t) clearTimeout(t);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.sendTimer = this.pongTimer = this.rotateTimer = this.reconnectTimer = this.pingTimer = undefined;
  }

  private flushSubscriptions(): void {
    const chunk = <T,>(arr: T[], n: number) => Array.from({ length: Math.ceil(arr.length / n) }, (_, i) => arr.slice(i * n, i * n + n));
    if (this.pendingUnsub.size > 0) {
      for (const params of chunk([...this.pendingUnsub], 200)) this.outbox.push(JSON.stringify({ method: 'UNSUBSCRIBE', params, id: this.nextId++ }));
      this.pendingUnsub.clear();
    }
    if (this.pendingSub.size > 0) {
      for (const params of chunk([...this.pendingSub], 200)) this.outbox.push(JSON.stringify({ method: 'SUBSCRIBE', params, id: this.nextId++ }));
      this.pendingSub.clear();
    }
    this.pumpOutbox();
  }

  private takeSlot(): boolean {
    const now = Date.now();
    while (this.sentTimes.length > 0 && this.sentTimes[0] <= now - 1000) this.sentTimes.shift();
    if (this.sentTimes.length >= (this.client.options.outgoingPerSecond ?? 5)) return false;
    this.sentTimes.push(now);
    return true;
  }

  private pumpOutbox(): void {
    if (this.sendTimer) return;
    while (this.outbox.length > 0 && this.open && this.ws) {
      if (!this.takeSlot()) {
        const wait = Math.max(1, this.sentTimes[0] + 1000 - Date.now());
        this.sendTimer = setTimeout(() => {
          this.sendTimer = undefined;
          this.pumpOutbox();
        }, wait);
        return;
      }
      const frame = this.outbox.shift()!;
      this.ws.send(frame);
      // control frames carry stream names and ids only
      this.client.options.onLog?.('trace', `ws ${this.route}: sent ${frame}`);
    }
  }

  get queued(): number {
    return this.outbox.length;
  }

  close(): void {
    this.closedForGood = true;
    this.clearTimers();
    this.open = false;
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
    }
  }
}

export class StreamClient {
  private readonly connections: Connection[] = [];
  private readonly byStream = new Map<string, Connection>();
  private total = 0;
  private readonly secondBuckets = new Float64Array(8);
  private readonly secondStamp = new Float64Array(8);
  private lastLag = 0;
  private maxLag = 0;
  private maxLagWindowStart = 0;
  private reconnects = 0;
  private parseErrors = 0;
  private lagRecycles = 0;
  private closed = false;
  /** The reason of the outage being reported, if any. */
  private outage: string | undefined;

  constructor(readonly options: StreamClientOptions) {}

  subscribe(stream: string): void {
    if (this.closed || this.byStream.has(stream)) return;
    const route = streamRoute(stream, this.options.routed);
    const max = this.options.maxStreamsPerConnection ?? 1024;
    let conn = this.connections.find((c) => c.route === route && c.size < max);
    if (!conn) {
      conn = new Connection(this, route);
      this.connections.push(conn);
    }
    this.byStream.set(stream, conn);
    conn.add(stream);
  }

  unsubscribe(stream: string): void {
    const conn = this.byStream.get(stream);
    if (!conn) return;
    this.byStream.delete(stream);
    conn.remove(stream);
    if (conn.size === 0) {
      conn.close();
      this.connections.splice(this.connections.indexOf(conn), 1);
    }
    this.noteMaybeUp();
  }

  /** A connection carrying streams was lost: reports the outage once (onState up: false). */
  noteDown(route: string, why: string): void {
    if (this.closed || this.outage !== undefined) return;
    this.outage = `${route} stream connection lost: ${why}`;
    this.options.onState?.({ up: false, reason: this.outage });
  }

  /** Ends a reported outage once every connection carrying streams is open again. */
  noteMaybeUp(): void {
    if (this.closed || this.outage === undefined) return;
    if (this.connections.some((c) => c.size > 0 && !c.open)) return;
    this.outage = undefined;
    this.options.onState?.({ up: true, reason: 'stream connections restored' });
  }

  has(stream: string): boolean {
    return this.byStream.has(stream);
  }

  /** Called by a connection for every text frame. */
  receive(conn: Connection, text: string): void {
    let msg: any;
    try {
      msg = JSON.parse(text);
    } catch {
      this.parseErrors++;
      return;
    }
    if (msg === null || typeof msg !== 'object') {
      this.parseErrors++;
      return;
    }
    if ('id' in msg && ('result' in msg || 'code' in msg)) {
      if ('code' in msg) this.options.onLog?.('warn', `stream request ${msg.id} failed: ${msg.code} ${msg.msg}`);
      else this.options.onLog?.('trace', `ws ${conn.route}: reply ${JSON.stringify(msg).slice(0, 300)}`);
      return;
    }
    const stream: string | undefined = msg.stream;
    const data = msg.data;
    if (typeof stream !== 'string' || data === undefined) {
      this.parseErrors++;
      return;
    }
    const now = (this.options.now ?? Date.now)();
    this.count(now);
    const E = Array.isArray(data) ? data[0]?.E : data.E;
    if (typeof E === 'number') {
      const lag = Math.max(0, now - E);
      this.lastLag = lag;
      if (now - this.maxLagWindowStart > 10_000) {
        this.maxLag = 0;
        this.maxLagWindowStart = now;
      }
      if (lag > this.maxLag) this.maxLag = lag;
      const limit = this.options.maxLagMs ?? 15_000;
      if (lag > limit) {
        if (++conn.lagStrikes >= (this.options.lagStrikes ?? 50)) {
          this.lagRecycles++;
          conn.recycle(`reader ${lag} ms behind the exchange`);
          this.options.onLagRecycle?.();
          return;
        }
      } else conn.lagStrikes = 0;
    }
    try {
      this.options.onMessage(stream, data);
    } catch (error) {
      this.options.onLog?.('warn', `handler of ${stream} failed: ${(error as Error).message}`);
    }
  }

  private count(now: number): void {
    this.total++;
    const sec = Math.floor(now / 1000);
    const i = sec % 8;
    if (this.secondStamp[i] !== sec) {
      this.secondStamp[i] = sec;
      this.secondBuckets[i] = 0;
    }
    this.secondBuckets[i]++;
  }

  noteReconnect(): void {
    this.reconnects++;
  }

  /** Kills every socket as if the network dropped (tests, diagnostics). */
  killAll(): void {
    for (const c of this.connections) c.kill();
  }

  stats(): StreamClientStats {
    const now = (this.options.now ?? Date.now)();
    const sec = Math.floor(now / 1000);
    let sum = 0;
    let n = 0;
    for (let k = 1; k <= 5; k++) {
      const s = sec - k;
      const i = ((s % 8) + 8) % 8;
      if (this.secondStamp[i] === s) sum += this.secondBuckets[i];
      n++;
    }
    return {
      connections: this.connections.length,
      open: this.connections.filter((c) => c.open).length,
      streams: this.byStream.size,
      messagesTotal: this.total,
      messagesPerSecond: sum / n,
      lagMs: this.lastLag,
      maxLagMs: this.maxLag,
      reconnects: this.reconnects,
      parseErrors: this.parseErrors,
      lagRecycles: this.lagRecycles,
      queued: this.connections.reduce((a, c) => a + c.queued, 0),
    };
  }

  close(): void {
    this.closed = true;
    for (const c of this.connections) c.close();
    this.connections.length = 0;
    this.byStream.clear();
  }
}

/**
 * One user data stream connection (`/private/ws?listenKey=` or legacy `/ws/<key>`), with the same
 * reconnect and ping behaviour. `keyProvider` returns a valid listen key (POST /listenKey).
 */
export class UserStream {
  private ws: WebSocket | undefined;
  private attempt = 0;
  private closed = false;
  private timers: NodeJS.Timeout[] = [];
  private keepAlive: NodeJS.Timeout | undefined;
  /** Lost and not yet back (USER_STREAM_STATE up:false was sent). */
  private down = false;
  reconnects = 0;

  constructor(
    private readonly options: {
      baseUrl: string;
      routed: boolean;
      keyProvider: () => Promise<string>;
      keepAliveFn: () => Promise<void>;
      keepAliveMs?: number;
      onEvent: (event: any) => void;
      onLog?: AdapterLog;
      pingIntervalMs?: number;
      pongTimeoutMs?: number;
    },
  ) {}

  async start(): Promise<void> {
    await this.connect();
    this.keepAlive = setInterval(() => {
      this.options.keepAliveFn().catch((error) => {
        this.options.onLog?.('warn', `listenKey keepalive failed: ${(error as Error).message}`);
        // -1125 "This listenKey does not exist": it lapsed unseen; reconnecting creates a new one
        if ((error as { code?: number }).code === -1125) this.ws?.terminate();
      });
    }, this.options.keepAliveMs ?? 30 * 60_000);
    this.keepAlive.unref();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const key = await this.options.keyProvider();
    const base = this.options.baseUrl.replace(/\/$/, '');
    const url = this.options.routed ? `${base}/private/ws?listenKey=${key}` : `${base}/ws/${key}`;
    const trace = (message: string) => this.options.onLog?.('trace', `ws private: ${message}`);
    trace(`connecting ${redactUrl(url)}`);
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 10_000 });
      this.ws = ws;
      let pongTimer: NodeJS.Timeout | undefined;
      const ping = setInterval(() => {
        ws.ping();
        trace('ping sent');
        pongTimer ??= setTimeout(() => ws.terminate(), this.options.pongTimeoutMs ?? 10_000);
      }, this.options.pingIntervalMs ?? 30_000);
      ping.unref();
      ws.on('pong', () => {
        trace('pong received');
        if (pongTimer) clearTimeout(pongTimer);
        pongTimer = undefined;
      });
      ws.on('ping', () => trace('ping received, pong sent'));
      ws.on('open', () => {
        trace('open');
        this.attempt = 0;
        resolve();
        if (this.down) {
          // events may have been missed while down: the trader reconciles on this
          this.down = false;
          this.options.onEvent({ e: 'USER_STREAM_STATE', E: Date.now(), up: true, reason: 'reconnected' });
        }
      });
      ws.on('message', (data) => {
        let event: any;
        try {
          event = JSON.parse(data.toString());
        } catch {
          return;
        }
        if (event && typeof event === 'object' && 'stream' in event && 'data' in event) event = event.data;
        if (event?.e === 'listenKeyExpired') {
          ws.terminate();
        }
        this.options.onEvent(event);
      });
      const down = () => {
        clearInterval(ping);
        if (pongTimer) clearTimeout(pongTimer);
        resolve();
        if (this.ws !== ws || this.closed) return;
        this.ws = undefined;
        if (!this.down) {
          this.down = true;
          this.options.onEvent({ e: 'USER_STREAM_STATE', E: Date.now(), up: false, reason: 'connection lost' });
        }
        this.scheduleReconnect();
      };
      ws.on('close', (code, reason) => {
        trace(`close ${code} ${reason.toString()}`);
        down();
      });
      ws.on('error', (error) => {
        trace(`error ${error.message.replace(key, '[redacted]')}`);
        down();
      });
    });
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.reconnects++;
    const delay = Math.random() * Math.min(30_000, 250 * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 20);
    this.options.onLog?.('trace', `ws private: reconnecting in ${Math.round(delay)} ms`);
    this.timers = this.timers.filter((t) => t.hasRef());
    this.timers.push(setTimeout(() => {
      this.connect().catch((error) => {
        this.options.onLog?.('warn', `user data stream reconnect failed: ${(error as Error).message}`);
        this.scheduleReconnect();
      });
    }, delay));
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    if (this.keepAlive) clearInterval(this.keepAlive);
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
    }
  }
}

import { createHash, createHmac, createPublicKey, timingSafeEqual, verify as cryptoVerify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { UserDataEvent } from '../../core/exchange/port.js';
import { alignOpenTime, INTERVALS, isInterval, type Interval } from '../../core/market/klines.js';
import { DEFAULT_BRACKETS } from '../../core/futures/accounting.js';
import { orderCount, requestWeight } from '../binance/weights.js';
import { AlgoOrders } from './algo.js';
import { Engine, SimError, intParam, limitParam, type SimAccount } from './engine.js';
import { Faults } from './faults.js';
import { SymbolMarket, type AggTradeRec, type DepthChange, type KlineAgg, type OpenKline } from './market.js';
import { generatedSymbol, SIM_SYMBOLS, symbolJson, type SimSymbol } from './symbols.js';
import { loadReplay, type ReplaySource } from './replay.js';

/**
 * The local exchange: a Binance USD-M compatible server on 127.0.0.1 (REST on node:http,
 * websockets on ws, same port). Unmodified Binance clients work against it: same paths, field
 * names and order, string decimals, weights, headers and error codes. See docs/exchange.md for
 * the covered subset.
 */

export interface LocalExchangeOptions {
  port?: number;
  host?: string;
  seed?: number;
  /** Market time runs this many times faster than real time (default 1). */
  speed?: number;
  /** Fault spec (see faults.ts). */
  faults?: string;
  /** Accounts; default: one demo account. */
  accounts?: { apiKey: string; apiSecret: string; usdt?: string }[];
  /** Listed symbols (default all). */
  symbols?: string[];
  /** Days of generated 1m history before the start (default 3). */
  historyDays?: number;
  /** Generator step, real ms (default 100). */
  tickMs?: number;
  /** Start with the market clock stopped (tests drive it with `tick()`). */
  manualClock?: boolean;
  /** REQUEST_WEIGHT limit per window and the window (default 2400 per 1 MINUTE). */
  weightLimit?: { limit: number; interval: 'SECOND' | 'MINUTE'; intervalNum: number };
  /** ORDERS limits (default 300/10 s and 1200/1 min). */
  orderLimits?: { limit: number; interval: 'SECOND' | 'MINUTE'; intervalNum: number }[];
  /** Requests after a 429 in the same window before a 418 ban (default 5). */
  banAfter?: number;
  /** Server ping interval and pong timeout, ms (default 3 min / 10 min). */
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  /** Max connection lifetime, ms (default 24 h). */
  maxLifetimeMs?: number;
  /** Incoming websocket messages allowed per second per connection (default 10). */
  wsMessageLimit?: number;
  /** Directory of Binance archive kline CSV/ZIP files to replay instead of generating. */
  dataDir?: string;
  /** 1m series to replay (e.g. from the atm database); wins over dataDir. */
  replay?: ReplaySource;
  /** Diagnostics (never receives keys or signatures). */
  log?: (line: string) => void;
  /** The real-time source (default Date.now; tests drive the market clock with their own). */
  realClock?: () => number;
}

export const DEMO_API_KEY = 'atmDemoKeyLocalExchange0000000000000000000000000000000000000000';
export const DEMO_API_SECRET = 'atmDemoSecretLocalExchange000000000000000000000000000000000000000';
export const DEMO_USDT = '100000';

type Route = 'public' | 'market' | 'private' | 'legacy';

interface Conn {
  ws: WebSocket;
  route: Route;
  combined: boolean;
  streams: Set<string>;
  account?: SimAccount;
  events?: Set<string>;
  listenKey?: string;
  msgTimes: number[];
  lastPong: number;
  openedAt: number;
}

interface DepthAcc {
  symbol: string;
  speedMs: number;
  /** 0 = diff stream, else partial book of N levels */
  levels: number;
  U: number;
  u: number;
  pu: number;
  bids: Map<number, number>;
  asks: Map<number, number>;
  lastEmit: number;
  held?: string;
}

interface Ctx {
  method: string;
  path: string;
  params: Record<string, string>;
  account?: SimAccount;
  res: ServerResponse;
}

type Security = 'NONE' | 'USER_STREAM' | 'SIGNED';

interface Endpoint {
  security: Security;
  handle: (ctx: Ctx) => unknown;
}

/**
 * Catch-ups longer than both FAST_FORWARD_MIN_STEPS grid steps and FAST_FORWARD_MIN_MARKET_MS of
 * market time, while nobody listens, are generated at kline level except for the last TAIL_STEPS
 * steps, which run at trade level (the book, trades and the open kline are live again): the
 * first request after any idle time waits for at most FAST_FORWARD_MIN_STEPS trade-level steps
 * (about 0.1 ms each for the five default symbols) plus a few microseconds per skipped minute.
 */
const FAST_FORWARD_MIN_STEPS = 1200;
const FAST_FORWARD_MIN_MARKET_MS = 120_000;
const TAIL_STEPS = 600;

/** Largest websocket frame taken (a SUBSCRIBE of 1024 streams is about 30 KiB); larger ones close the connection with 1009. */
const WS_MAX_PAYLOAD = 64 * 1024;
/** Largest request body read; a larger one is answered with 413 and the connection closed. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * The order-timeout / order-lost faults: the request is never answered. The client gives up on its
 * own timeout (closing the socket); an answer nobody waits for is dropped after two minutes.
 */
function withholdAnswer(res: ServerResponse): void {
  const timer = setTimeout(() => res.destroy(), 120_000);
  timer.unref();
  res.on('close', () => clearTimeout(timer));
}

const STREAM_ROUTE = (stream: string): 'public' | 'market' => (/@(depth|bookTicker|trade$|rpiDepth)|^!bookTicker/.test(stream) ? 'public' : 'market');

function intervalMs(unit: 'SECOND' | 'MINUTE', n: number): number {
  return (unit === 'SECOND' ? 1000 : 60_000) * n;
}

export class LocalExchange {
  readonly markets = new Map<string, SymbolMarket>();
  readonly engine: Engine;
  /** Algo (conditional) orders: stops and take-profits, checked after every step and fast-forward segment. */
  readonly algos: AlgoOrders;
  readonly faults: Faults;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<Conn>();
  private readonly subs = new Map<string, Set<Conn>>();
  private readonly depthAccs = new Map<string, DepthAcc>();
  private readonly klineLast = new Map<string, number>();
  private readonly bookTickerLast = new Map<string, string>();
  /** Per symbol: its `@aggTrade` and `@trade` stream names (built once, not per trade). */
  private readonly tradeStreamNames = new Map<string, [string, string]>();
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly sockets = new Set<Socket>();
  private tickHandle: NodeJS.Timeout | undefined;
  private running = false;
  private pingHandle: NodeJS.Timeout | undefined;
  /** Market milliseconds the generator has stepped since the start (each market runs from its own start time). */
  private elapsed = 0;
  /** Exchange clock at the start (real time then) and the real time the running clock counts from. */
  private clockStart = 0;
  private realStart = 0;
  /** Generator steps done on the fixed grid of `tickMs × speed` market ms. */
  private stepsDone = 0;
  /** Market ms stepped when the clock (re)started; grid step k lies at runBase + k × tickMs × speed. */
  private runBase = 0;
  private catching: Promise<void> | undefined;
  private readonly realNow: () => number;
  private lastMarkEmit = 0;
  private lastMarkEmit1s = 0;
  readonly speed: number;
  private readonly tickMs: number;
  // rate limiting
  private readonly weightLimit: { limit: number; ms: number; tag: string };
  private readonly orderLimits: { limit: number; ms: number; tag: string; used: number; start: number }[];
  private weightUsed = 0;
  private weightStart = 0;
  private after429 = 0;
  private banUntil = 0;
  /** Diagnostics for tests and the bench. */
  readonly metrics = {
    requests: 0,
    maxWeightInWindow: 0,
    http429: 0,
    http418: 0,
    http5xx: 0,
    wsMessagesSent: 0,
    wsConnections: 0,
    /** The weight booked per request (the last 20 000): time, path, weight, for tests of pacing. */
    weightLog: [] as { t: number; path: string; query: string; weight: number }[],
    /** Arrival times (ms) of the last requests, for tests of the governor. */
    arrivals: [] as number[],
    /** Generator steps done (every market steps once per step). */
    steps: 0,
    /** Kline-level fast-forwards over long unwatched stretches. */
    fastForwards: 0,
  };
  port = 0;
  private closed = false;
  private replay: ReplaySource | undefined;

  private constructor(readonly options: LocalExchangeOptions) {
    this.speed = options.speed ?? 1;
    this.tickMs = options.tickMs ?? 100;
    this.faults = new Faults(options.faults ?? '', options.seed ?? 1);
    const w = options.weightLimit ?? { limit: 2400, interval: 'MINUTE', intervalNum: 1 };
    this.weightLimit = { limit: w.limit, ms: intervalMs(w.interval, w.intervalNum), tag: `${w.intervalNum}${w.interval[0]}` };
    this.orderLimits = (options.orderLimits ?? [{ limit: 300, interval: 'SECOND', intervalNum: 10 }, { limit: 1200, interval: 'MINUTE', intervalNum: 1 }])
      .map((l) => ({ limit: l.limit, ms: intervalMs(l.interval, l.intervalNum), tag: `${l.intervalNum}${l.interval[0]}`, used: 0, start: 0 }));
    this.realNow = options.realClock ?? Date.now;
    this.clockStart = this.realNow();
    this.realStart = this.clockStart;
    this.engine = new Engine(this.markets, () => this.now(), () => this.realNow());
    this.engine.onUserEvent = (account, event) => this.pushUser(account, event);
    this.algos = new AlgoOrders(this.engine, () => this.now());
    this.http = createServer((req, res) => void this.onRequest(req, res));
    this.http.keepAliveTimeout = 65_000;
    this.http.on('connection', (s: Socket) => {
      s.setNoDelay(true);
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.wss = new WebSocketServer({ noServer: true, autoPong: false, perMessageDeflate: false, maxPayload: WS_MAX_PAYLOAD });
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket as Socket, head));
    this.registerEndpoints();
  }

  /** Starts the server; resolves once it listens. */
  static async start(options: LocalExchangeOptions = {}): Promise<LocalExchange> {
    const ex = new LocalExchange(options);
    await ex.init();
    return ex;
  }

  private async init(): Promise<void> {
    const seed = this.options.seed ?? 1;
    const history = Math.round((this.options.historyDays ?? 3) * 1440);
    const now = this.clockStart;
    let specs: SimSymbol[] = SIM_SYMBOLS.filter((s) => !this.options.symbols || this.options.symbols.includes(s.symbol));
    // named symbols the built-in list lacks are generated (generatedSymbol), after the built-in ones
    for (const name of new Set(this.options.symbols ?? [])) {
      const generated = SIM_SYMBOLS.some((s) => s.symbol === name) ? undefined : generatedSymbol(name);
      if (generated) specs.push(generated);
    }
    if (this.options.replay || this.options.dataDir) {
      this.replay = this.options.replay ?? (await loadReplay(this.options.dataDir!));
      specs = this.replay.apply(specs);
    }
    for (const spec of specs) {
      // yield between symbols: started in-process after the TUI's first frame, the generator must
      // not hold the event loop for long
      await new Promise((resolve) => setImmediate(resolve));
      const m = new SymbolMarket(spec, seed, now, history, this.replay?.series(spec.symbol));
      m.listener = {
        aggTrade: (market, t) => this.onAggTrade(market, t),
        klineClosed: (market, k) => this.onKlineClosed(market, k),
      };
      // synthetic takers fill resting user orders (the engine was made before the markets existed)
      m.userFill = (side, price, qty) => this.engine.fillResting(m, side, price, qty);
      this.markets.set(spec.symbol, m);
    }
    const accounts = this.options.accounts ?? [{ apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET }];
    for (const a of accounts) this.engine.addAccount(a.apiKey, a.apiSecret, a.usdt ?? DEMO_USDT);
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.port = (this.http.address() as AddressInfo).port;
    if (!this.options.manualClock) this.resume();
    const pingEvery = Math.min(this.options.pingIntervalMs ?? 180_000, this.options.pongTimeoutMs ?? 600_000);
    this.pingHandle = setInterval(() => this.pingAll(), pingEvery);
    this.pingHandle.unref();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Starts the market clock. */
  resume(): void {
    if (this.running || this.closed) return;
    this.running = true;
    this.runBase = this.elapsed;
    this.realStart = this.realNow();
    this.stepsDone = 0;
    this.wake();
  }

  /** Stops the market clock (the book and klines stand still). */
  pause(): void {
    if (!this.running) return;
    this.runSteps(Infinity);
    this.running = false;
    if (this.tickHandle) clearTimeout(this.tickHandle);
    this.tickHandle = undefined;
  }

  /**
   * The exchange clock (ms): every time the exchange reports (serverTime, event times `E`/`T`,
   * order and trade times, kline times of generated markets) comes from it. It starts at the real
   * time of the start and runs `speed` times faster while the market clock runs; with a manual
   * clock it is the start plus the stepped market time.
   */
  now(): number {
    const elapsed = this.running ? this.runBase + (this.realNow() - this.realStart) * this.speed : this.elapsed;
    return Math.round(this.clockStart + elapsed);
  }

  /** Market time (ms) the generator has reached (of the first market; replayed markets run on their own data's time). */
  get time(): number {
    const first = this.markets.values().next().value;
    return first ? Math.round(first.startTime + this.elapsed) : this.now();
  }

  /** Market ms per generator step: the steps lie on a fixed grid, so when they run changes nothing. */
  private get stepMarketMs(): number {
    return this.tickMs * this.speed;
  }

  /** Grid steps due by now and not yet generated. */
  private dueSteps(): number {
    if (!this.running) return 0;
    return Math.floor((this.realNow() - this.realStart) / this.tickMs) - this.stepsDone;
  }

  /**
   * Event-driven market clock: nothing runs while nobody listens. A request or a subscription
   * first catches the market up, generating the elapsed grid steps from the seed (the same steps,
   * in the same order, as if it had stepped all along); while a stream or a user data connection
   * listens, a timer catches up every `tickMs`. Long gaps are generated in slices of at most 20 ms
   * (the event loop stays free; requests wait for the catch-up). Returns undefined when nothing
   * had to wait.
   */
  catchUp(): Promise<void> | undefined {
    if (this.catching) return this.catching;
    if (this.dueSteps() <= 0) return undefined;
    // the target is fixed now: a generator slower than the clock (a high speed) never chases it forever
    const target = this.stepsDone + this.dueSteps();
    this.runSteps(performance.now() + 20, target);
    if (this.stepsDone >= target) {
      this.afterSteps();
      return undefined;
    }
    this.catching = new Promise<void>((resolve) => {
      const slice = () => {
        if (!this.closed && this.running) this.runSteps(performance.now() + 20, target);
        if (!this.closed && this.running && this.stepsDone < target) {
          setImmediate(slice);
          return;
        }
        this.catching = undefined;
        if (!this.closed) this.afterSteps();
        resolve();
      };
      setImmediate(slice);
    });
    return this.catching;
  }

  /** Runs `fn` once the market has caught up (at once when it is current; order is kept). */
  private afterCatchUp(fn: () => void): void {
    const pending = this.catchUp();
    if (pending) void pending.then(() => !this.closed && fn());
    else fn();
  }

  /** Generates grid steps up to `target` (default: all due) until `deadline` (performance.now() ms). */
  private runSteps(deadline: number, target = this.stepsDone + this.dueSteps()): void {
    const idle = this.isIdle();
    // a long stretch nobody watched: kline level up to the last TAIL_STEPS, trade level after
    if (idle && target - this.stepsDone > FAST_FORWARD_MIN_STEPS && (target - this.stepsDone) * this.stepMarketMs > FAST_FORWARD_MIN_MARKET_MS) {
      this.fastForward(target - TAIL_STEPS);
    }
    while (this.stepsDone < target && performance.now() < deadline) {
      this.stepsDone++;
      this.stepTo(this.runBase + this.stepsDone * this.stepMarketMs, this.stepMarketMs, idle);
    }
  }

  /**
   * Kline-level generation of every market up to grid step `steps` (see SymbolMarket.fastForward):
   * the cost grows with the minutes skipped (microseconds each), not with the steps. Funding
   * settles after every segment; while an account holds a position in the market, liquidations
   * are checked too (a liquidation first rebuilds the book around the price); GTD orders expire
   * at the end.
   */
  private fastForward(steps: number): void {
    const elapsed = this.runBase + steps * this.stepMarketMs;
    // a liquidation trades against the book: rebuild it around the price first (the kline level keeps no book)
    this.engine.beforeLiquidation = (m) => m.recenterBook();
    try {
      for (const m of this.markets.values()) {
        m.fastForward(Math.round(m.startTime + elapsed), () => {
          this.engine.settleFunding(m);
          if (this.hasPosition(m.spec.symbol)) this.engine.checkLiquidations();
          m.drainChanges();
        }, () => this.algos.checkSegment(m));
        m.drainChanges();
      }
      this.engine.expireOrders();
    } catch (error) {
      this.options.log?.(`local exchange: market fast-forward failed: ${(error as Error).stack ?? String(error)}`);
    } finally {
      this.engine.beforeLiquidation = undefined;
    }
    this.stepsDone = steps;
    this.elapsed = elapsed;
    this.metrics.fastForwards++;
  }

  private hasPosition(symbol: string): boolean {
    for (const a of this.engine.accounts.values()) {
      const p = a.positions.get(symbol);
      if (p && !p.amt.isZero()) return true;
    }
    return false;
  }

  /** One generator step of every market to `elapsed` market ms since the start. */
  private stepTo(elapsed: number, dtMarket: number, idle: boolean): void {
    this.elapsed = elapsed;
    this.metrics.steps++;
    try {
      for (const m of this.markets.values()) {
        m.step(Math.round(m.startTime + elapsed), dtMarket / 1000);
        this.engine.settleFunding(m);
        // nobody receives depth diffs: keep the pending change set from growing
        if (idle) m.drainChanges();
      }
      this.engine.checkLiquidations();
      this.algos.check();
      this.engine.expireOrders();
    } catch (error) {
      // a bug in one step must not take the exchange (or the program hosting it) down
      this.options.log?.(`local exchange: market step failed: ${(error as Error).stack ?? String(error)}`);
    }
  }

  /** After steps: listen keys and the stream frames of the new state. */
  private afterSteps(): void {
    try {
      for (const { account, key } of this.engine.expireListenKeys()) this.pushUser(account, { e: 'listenKeyExpired', E: this.now(), listenKey: key }, key);
      this.publishTick(this.realNow());
    } catch (error) {
      this.options.log?.(`local exchange: publishing failed: ${(error as Error).stack ?? String(error)}`);
    }
  }

  /** True while the step timer is armed (someone listens). */
  get stepping(): boolean {
    return this.tickHandle !== undefined;
  }

  /** Arms the step timer while anyone listens (streams, user data); no timer otherwise. */
  private wake(): void {
    if (!this.running || this.closed || this.tickHandle || this.isIdle()) return;
    this.tickHandle = setTimeout(() => {
      this.tickHandle = undefined;
      const pending = this.catchUp();
      if (pending) void pending.then(() => this.wake());
      else this.wake();
    }, this.tickMs);
  }

  private isIdle(): boolean {
    for (const set of this.subs.values()) if (set.size > 0) return false;
    for (const c of this.conns) if (c.listenKey) return false;
    return true;
  }

  /**
   * One generator step of `realMs` (default the tick length) times the speed, outside the grid
   * (tests drive a manual clock with it; with a running clock the market jumps ahead by it).
   */
  tick(realMs?: number): void {
    const dtMarket = (realMs ?? this.tickMs) * this.speed;
    if (this.running) {
      this.runSteps(Infinity);
      this.runBase += dtMarket;
    }
    this.stepTo(this.elapsed + dtMarket, dtMarket, false);
    this.afterSteps();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.running = false;
    if (this.tickHandle) clearTimeout(this.tickHandle);
    this.tickHandle = undefined;
    if (this.pingHandle) clearInterval(this.pingHandle);
    for (const c of this.conns) c.ws.terminate();
    this.wss.close();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  /** Closes every websocket connection abruptly (tests). */
  dropAllConnections(): void {
    for (const c of this.conns) c.ws.terminate();
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** REQUEST_WEIGHT used in the current window (what X-MBX-USED-WEIGHT reports). */
  get usedWeight(): number {
    return Date.now() >= this.weightStart + this.weightLimit.ms ? 0 : this.weightUsed;
  }

  /** The `METHOD path` of every REST endpoint served. */
  get endpointKeys(): string[] {
    return [...this.endpoints.keys()];
  }

  // ---------------------------------------------------------------------------------------
  // websocket
  // ---------------------------------------------------------------------------------------

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    // node removes its own error listener from an upgraded socket: a reset before the handshake
    // ends would otherwise be an uncaught error
    socket.on('error', () => socket.destroy());
    const url = requestUrl(req.url);
    if (!url) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    const parts = url.pathname.split('/').filter(Boolean);
    let route: Route = 'legacy';
    if (parts[0] === 'public' || parts[0] === 'market' || parts[0] === 'private') route = parts.shift() as Route;
    const kind = parts.shift();
    if (kind !== 'ws' && kind !== 'stream') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    let streams: string[] = [];
    let listenKey: string | undefined = url.searchParams.get('listenKey') ?? undefined;
    if (kind === 'ws' && parts.length > 0) streams = parts.join('/').split('/').filter(Boolean);
    if (kind === 'stream') streams = (url.searchParams.get('streams') ?? '').split('/').filter(Boolean);
    // a legacy /ws/<listenKey>
    if (!listenKey && streams.length === 1 && !streams[0].includes('@') && this.engine.accountByListenKey(streams[0])) {
      listenKey = streams[0];
      streams = [];
    }
    let account: SimAccount | undefined;
    if (listenKey) {
      account = this.engine.accountByListenKey(listenKey);
      if (!account) {
        socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
        return;
      }
    }
    if (streams.length > 1024) {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn: Conn = {
        ws, route, combined: kind === 'stream', streams: new Set(), account, listenKey, msgTimes: [], lastPong: Date.now(), openedAt: Date.now(),
        events: url.searchParams.get('events') ? new Set(url.searchParams.get('events')!.split('/')) : undefined,
      };
      this.conns.add(conn);
      this.metrics.wsConnections++;
      // streams start from the current market: catch it up first (frames of the past are not sent)
      if (streams.length > 0 || listenKey) this.afterCatchUp(() => {
        if (!this.conns.has(conn)) return;
        for (const s of streams) this.subscribe(conn, s);
        this.wake();
      });
      ws.on('message', (data) => this.onWsMessage(conn, data));
      ws.on('ping', (data) => {
        if (!this.faults.hit('nopong')) ws.pong(data);
      });
      ws.on('pong', () => {
        conn.lastPong = Date.now();
      });
      ws.on('close', () => this.dropConn(conn));
      ws.on('error', () => this.dropConn(conn));
      const life = setTimeout(() => ws.close(1000, 'connection lifetime reached'), this.options.maxLifetimeMs ?? 86_400_000);
      life.unref();
      ws.once('close', () => clearTimeout(life));
    });
  }

  private dropConn(conn: Conn): void {
    if (!this.conns.delete(conn)) return;
    for (const s of conn.streams) this.subs.get(s)?.delete(conn);
  }

  private pingAll(): void {
    const now = Date.now();
    const timeout = this.options.pongTimeoutMs ?? 600_000;
    for (const c of this.conns) {
      if (now - c.lastPong > timeout) {
        c.ws.terminate();
        continue;
      }
      if (c.ws.readyState === WebSocket.OPEN) c.ws.ping();
    }
  }

  private onWsMessage(conn: Conn, data: RawData): void {
    const now = Date.now();
    conn.msgTimes.push(now);
    while (conn.msgTimes.length > 0 && conn.msgTimes[0] <= now - 1000) conn.msgTimes.shift();
    if (conn.msgTimes.length > (this.options.wsMessageLimit ?? 10)) {
      conn.ws.close(1008, 'Too many requests');
      return;
    }
    // handled in arrival order once the market has caught up
    this.afterCatchUp(() => {
      try {
        this.handleWsMessage(conn, data);
      } catch (error) {
        // a bug in one request must not take the exchange down: the client gets an error reply
        this.options.log?.(`local exchange: websocket request failed: ${(error as Error).stack ?? String(error)}`);
        this.sendRaw(conn, JSON.stringify({ code: 2, msg: 'Invalid request: the request could not be processed', id: null }));
      }
    });
  }

  /**
   * One control frame (text or binary, both read as UTF-8 JSON), answered as Binance does: code 3
   * for text that is not JSON, code 2 for JSON that is not a request object or has a bad id,
   * method or params (id null where the id itself is unusable), code 0/1 for bad properties.
   */
  private handleWsMessage(conn: Conn, data: RawData): void {
    if (!this.conns.has(conn)) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawText(data));
    } catch (error) {
      this.sendRaw(conn, JSON.stringify({ code: 3, msg: `Invalid JSON: ${(error as Error).message}` }));
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      this.sendRaw(conn, JSON.stringify({ code: 2, msg: 'Invalid request: the request must be a JSON object', id: null }));
      return;
    }
    const msg = parsed as { method?: unknown; params?: unknown; id?: unknown };
    const id = msg.id ?? null;
    if (id !== null && !(Number.isInteger(id) && (id as number) >= 0) && typeof id !== 'string') {
      this.sendRaw(conn, JSON.stringify({ code: 2, msg: 'Invalid request: request ID must be an unsigned integer', id: null }));
      return;
    }
    const reply = (body: Record<string, unknown>) => this.sendRaw(conn, JSON.stringify({ ...body, id }));
    switch (msg.method) {
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE': {
        if (!Array.isArray(msg.params) || msg.params.some((p) => typeof p !== 'string')) {
          reply({ code: 2, msg: 'Invalid request: params must be an array of strings' });
          return;
        }
        if (msg.method === 'SUBSCRIBE') {
          if (conn.streams.size + msg.params.length > 1024) {
            reply({ code: 2, msg: 'Invalid request: too many streams on this connection (max 1024)' });
            return;
          }
          for (const s of msg.params as string[]) this.subscribe(conn, s);
        } else for (const s of msg.params as string[]) this.unsubscribe(conn, s);
        reply({ result: null });
        return;
      }
      case 'LIST_SUBSCRIPTIONS':
        reply({ result: [...conn.streams] });
        return;
      case 'SET_PROPERTY': {
        const p = msg.params as unknown[];
        if (!Array.isArray(p) || p[0] !== 'combined') {
          reply({ code: 0, msg: 'Unknown property' });
          return;
        }
        if (typeof p[1] !== 'boolean') {
          reply({ code: 1, msg: 'Invalid value type: expected Boolean' });
          return;
        }
        conn.combined = p[1];
        reply({ result: null });
        return;
      }
      case 'GET_PROPERTY': {
        const p = msg.params as unknown[];
        if (!Array.isArray(p) || p[0] !== 'combined') {
          reply({ code: 0, msg: 'Unknown property' });
          return;
        }
        reply({ result: conn.combined });
        return;
      }
      default:
        reply({ code: 2, msg: 'Invalid request: unknown method' });
    }
  }

  private subscribe(conn: Conn, stream: string): void {
    if (conn.streams.has(stream)) return;
    conn.streams.add(stream);
    // On a routed path, a stream of the other route is acknowledged but never delivered.
    if (conn.route !== 'legacy' && conn.route !== STREAM_ROUTE(stream)) return;
    let set = this.subs.get(stream);
    if (!set) {
      set = new Set();
      this.subs.set(stream, set);
    }
    set.add(conn);
    this.ensureStream(stream);
    this.wake();
  }

  private unsubscribe(conn: Conn, stream: string): void {
    conn.streams.delete(stream);
    this.subs.get(stream)?.delete(conn);
  }

  /** Prepares per-stream state (depth accumulators) when a stream gets its first subscriber. */
  private ensureStream(stream: string): void {
    const m = /^([a-z0-9]+)@depth(\d*)(?:@(\d+)ms)?$/.exec(stream);
    if (!m || this.depthAccs.has(stream)) return;
    const market = this.markets.get(m[1].toUpperCase());
    if (!market) return;
    this.depthAccs.set(stream, {
      symbol: market.spec.symbol, speedMs: m[3] ? Number(m[3]) : 250, levels: m[2] ? Number(m[2]) : 0,
      U: 0, u: 0, pu: market.updateId, bids: new Map(), asks: new Map(), lastEmit: 0,
    });
  }

  private sendRaw(conn: Conn, text: string): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    conn.ws.send(text);
  }

  /** Sends a stream frame through the fault injector. */
  private sendFrame(conn: Conn, stream: string, payload: string): void {
    const ws = conn.ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    if (this.faults.has('drop') && this.faults.hit('drop')) {
      ws.terminate();
      return;
    }
    if (this.faults.has('close') && this.faults.hit('close')) {
      ws.close(1001, 'server closing the connection');
      return;
    }
    if (this.faults.has('malformed') && this.faults.hit('malformed')) ws.send('{"e":"kline","E":');
    const frame = conn.combined ? `{"stream":"${stream}","data":${payload}}` : payload;
    ws.send(frame);
    this.metrics.wsMessagesSent++;
    if (this.faults.has('duplicate') && this.faults.hit('duplicate')) {
      ws.send(frame);
      this.metrics.wsMessagesSent++;
    }
  }

  private publish(stream: string, payload: () => string): void {
    const set = this.subs.get(stream);
    if (!set || set.size === 0) return;
    const text = payload();
    for (const c of set) this.sendFrame(c, stream, text);
  }

  private pushUser(account: SimAccount, event: UserDataEvent, key = account.listenKey): void {
    if (!key) return;
    let text: string | undefined;
    for (const c of this.conns) {
      if (c.listenKey !== key) continue;
      if (c.events && !c.events.has(event.e)) continue;
      text ??= JSON.stringify(event);
      this.sendFrame(c, key, text);
      if (event.e === 'listenKeyExpired') c.ws.close(1000, 'listenKey expired');
    }
  }

  private onAggTrade(m: SymbolMarket, t: AggTradeRec): void {
    const s = m.spec.symbol;
    let names = this.tradeStreamNames.get(s);
    if (!names) {
      names = [`${s.toLowerCase()}@aggTrade`, `${s.toLowerCase()}@trade`];
      this.tradeStreamNames.set(s, names);
    }
    const [aggStream, tradeStream] = names;
    this.publish(aggStream, () => {
      const q = m.qty(t.q);
      return `{"e":"aggTrade","E":${this.now()},"s":"${s}","a":${t.a},"p":"${m.price(t.p)}","q":"${q}","nq":"${q}","f":${t.f},"l":${t.l},"T":${t.T},"m":${t.m}}`;
    });
    // @trade: the fills f..l of the aggregated trade, one event each (same price, time and side);
    // the quantity is split evenly in whole steps (a fill that would get no step is not sent)
    if (!this.subs.get(tradeStream)?.size) return;
    const fills = t.l - t.f + 1;
    const E = this.now();
    const price = m.price(t.p);
    for (let i = 0; i < fills; i++) {
      const steps = Math.floor((t.q * (i + 1)) / fills) - Math.floor((t.q * i) / fills);
      if (steps <= 0) continue;
      this.publish(tradeStream, () => `{"e":"trade","E":${E},"T":${t.T},"s":"${s}","t":${t.f + i},"p":"${price}","q":"${m.qty(steps)}","X":"MARKET","m":${t.m}}`);
    }
  }

  private klineJson(m: SymbolMarket, interval: Interval, k: KlineAgg, closed: boolean): string {
    const s = m.spec.symbol;
    return `{"e":"kline","E":${this.now()},"s":"${s}","k":{"t":${k.t},"T":${k.T},"s":"${s}","i":"${interval}","f":${k.f},"L":${k.L},"o":"${m.price(k.o)}","c":"${m.price(k.c)}","h":"${m.price(k.h)}","l":"${m.price(k.l)}","v":"${m.qty(k.v)}","n":${k.n},"x":${closed},"q":"${m.quoteText(k.qBig ?? k.q)}","V":"${m.qty(k.bv)}","Q":"${m.quoteText(k.bqBig ?? k.bq)}","B":"0"}}`;
  }

  private onKlineClosed(m: SymbolMarket, k: OpenKline): void {
    const lower = m.spec.symbol.toLowerCase();
    for (const interval of INTERVALS) {
      const stream = `${lower}@kline_${interval}`;
      if (!this.subs.get(stream)?.size) continue;
      // the minute closing at `end` closes the kline of `interval` when `end` opens the next one
      const end = k.t + 60_000;
      if (alignOpenTime(end, interval) !== end) continue;
      const rows = m.klines(interval, undefined, end - 1, 1);
      const row = rows[rows.length - 1];
      if (!row) continue;
      this.publish(stream, () => this.klineJson(m, interval, row, true));
    }
  }

  /** Publishes the stream frames of the current state; `real` (real ms) paces them, event times come from the exchange clock. */
  private publishTick(real: number): void {
    const now = this.now();
    for (const m of this.markets.values()) {
      const s = m.spec.symbol;
      const lower = s.toLowerCase();
      const change = m.drainChanges();
      // depth streams
      for (const [stream, acc] of this.depthAccs) {
        if (acc.symbol !== s) continue;
        if (!this.subs.get(stream)?.size) {
          this.depthAccs.delete(stream);
          continue;
        }
        if (change) mergeChange(acc, change);
        if (real - acc.lastEmit < acc.speedMs - this.tickMs / 2 || acc.U === 0) continue;
        acc.lastEmit = real;
        const event = acc.levels > 0 ? this.partialDepth(m, acc, now) : this.diffDepth(m, acc, now);
        acc.pu = acc.u;
        acc.U = 0;
        acc.bids = new Map();
        acc.asks = new Map();
        if (acc.levels === 0 && this.faults.has('depth-gap') && this.faults.hit('depth-gap')) continue;
        if (acc.levels === 0 && this.faults.has('depth-reorder') && !acc.held && this.faults.hit('depth-reorder')) {
          acc.held = event;
          continue;
        }
        this.publish(stream, () => event);
        if (acc.held) {
          const held = acc.held;
          acc.held = undefined;
          this.publish(stream, () => held);
        }
      }
      // book ticker
      const btStream = `${lower}@bookTicker`;
      if (this.subs.get(btStream)?.size || this.subs.get('!bookTicker')?.size) {
        const b = m.price(m.bestBid), B = m.qty(m.total('bid', m.bestBid)), a = m.price(m.bestAsk), A = m.qty(m.total('ask', m.bestAsk));
        const key = `${b}|${B}|${a}|${A}`;
        if (this.bookTickerLast.get(s) !== key) {
          this.bookTickerLast.set(s, key);
          const text = `{"e":"bookTicker","u":${m.updateId},"E":${now},"T":${now},"s":"${s}","b":"${b}","B":"${B}","a":"${a}","A":"${A}"}`;
          this.publish(btStream, () => text);
          this.publish('!bookTicker', () => text);
        }
      }
      // kline updates (every 250 ms per stream)
      for (const interval of INTERVALS) {
        const stream = `${lower}@kline_${interval}`;
        if (!this.subs.get(stream)?.size) continue;
        const last = this.klineLast.get(stream) ?? 0;
        if (real - last < 250 - this.tickMs / 2) continue;
        this.klineLast.set(stream, real);
        const rows = m.klines(interval, undefined, undefined, 1);
        const row = rows[rows.length - 1];
        if (row) this.publish(stream, () => this.klineJson(m, interval, row, false));
      }
    }
    // mark price: every 3 s, or 1 s for @1s
    const mark3 = real - this.lastMarkEmit >= 3000;
    const mark1 = real - this.lastMarkEmit1s >= 1000;
    if (mark3) this.lastMarkEmit = real;
    if (mark1) this.lastMarkEmit1s = real;
    if (mark1 || mark3) {
      const all: string[] = [];
      for (const m of this.markets.values()) {
        const lower = m.spec.symbol.toLowerCase();
        const text = this.markJson(m, now);
        if (mark3) this.publish(`${lower}@markPrice`, () => text);
        if (mark1) this.publish(`${lower}@markPrice@1s`, () => text);
        all.push(text);
      }
      if (mark3) this.publish('!markPrice@arr', () => `[${all.join(',')}]`);
      if (mark1) this.publish('!markPrice@arr@1s', () => `[${all.join(',')}]`);
    }
  }

  private markJson(m: SymbolMarket, now: number): string {
    return `{"e":"markPriceUpdate","E":${now},"s":"${m.spec.symbol}","p":"${m.markPriceText()}","i":"${m.indexPriceText()}","P":"${m.markPriceText()}","r":"${m.fundingRate.toFixed(8)}","T":${m.nextFunding}}`;
  }

  private diffDepth(m: SymbolMarket, acc: DepthAcc, now: number): string {
    const side = (map: Map<number, number>) => [...map].map(([p, q]) => `["${m.price(p)}","${m.qty(q)}"]`).join(',');
    return `{"e":"depthUpdate","E":${now},"T":${now},"s":"${m.spec.symbol}","U":${acc.U},"u":${acc.u},"pu":${acc.pu},"b":[${side(acc.bids)}],"a":[${side(acc.asks)}]}`;
  }

  private partialDepth(m: SymbolMarket, acc: DepthAcc, now: number): string {
    const side = (levels: [string, string][]) => levels.map(([p, q]) => `["${p}","${q}"]`).join(',');
    return `{"e":"depthUpdate","E":${now},"T":${now},"s":"${m.spec.symbol}","U":${acc.U},"u":${acc.u},"pu":${acc.pu},"b":[${side(m.levels('bid', acc.levels))}],"a":[${side(m.levels('ask', acc.levels))}]}`;
  }

  // ---------------------------------------------------------------------------------------
  // REST
  // ---------------------------------------------------------------------------------------

  /**
   * Every request ends in an answer or, when the client went away, in nothing: a body cut short
   * (`aborted`), a reset while answering (ECONNRESET) or a bug in a handler never reaches the
   * process as an uncaught error.
   */
  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    this.handleRequest(req, res).catch((error: unknown) => {
      this.options.log?.(`local exchange: ${req.method} ${req.url?.split('?')[0]} failed: ${(error as Error).stack ?? String(error)}`);
      if (res.headersSent || !res.writable) {
        res.destroy();
        return;
      }
      res.writeHead(500, { 'Content-Type': 'application/json;charset=UTF-8' });
      res.end(JSON.stringify({ code: -1000, msg: 'An unknown error occurred while processing the request.' }));
    });
  }

  private async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const now = Date.now();
    this.metrics.requests++;
    this.metrics.arrivals.push(now);
    if (this.metrics.arrivals.length > 10_000) this.metrics.arrivals.splice(0, 5000);
    // a target that is no URL path (`//`, `//host:99999`) is a path the exchange does not serve
    const url = requestUrl(req.url) ?? new URL(`http://127.0.0.1/${encodeURIComponent(req.url ?? '')}`);
    const rawQuery = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1) : '';
    const headers: Record<string, string> = { 'Content-Type': 'application/json;charset=UTF-8' };
    let withhold = false;
    const send = async (status: number, body: unknown) => {
      if (withhold) return withholdAnswer(res);
      if (this.faults.has('slow') && this.faults.hit('slow')) await new Promise((r) => setTimeout(r, this.faults.value('slow', 0)));
      if (!res.writable) return;
      res.writeHead(status, headers);
      res.end(JSON.stringify(body));
    };
    let rawBody = '';
    if (req.method !== 'GET') {
      const body = await readBody(req, MAX_BODY_BYTES);
      if (body === undefined) return; // the client went away before sending all of it: nobody to answer
      if (body === TOO_LARGE) {
        headers.Connection = 'close';
        return send(413, { code: -1000, msg: `Request body larger than ${MAX_BODY_BYTES} bytes.` });
      }
      rawBody = body;
    }
    const method = req.method ?? 'GET';
    const key = `${method} ${url.pathname}`;
    const endpoint = this.endpoints.get(key);
    // bans first: a banned IP gets 418 for everything
    if (this.banUntil > now) {
      this.metrics.http418++;
      headers['Retry-After'] = String(Math.ceil((this.banUntil - now) / 1000));
      return send(418, { code: -1003, msg: `Way too many requests; IP banned until ${this.banUntil}. Please use the websocket for live updates to avoid bans.` });
    }
    if (!endpoint) return send(404, { code: -5000, msg: `Path ${url.pathname}, Method ${method} is invalid` });
    // params: body, then query (the query wins on clashes)
    const params: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(rawBody)) params[k] = v;
    for (const [k, v] of url.searchParams) params[k] = v;
    // injected faults
    if (this.faults.has('418') && this.faults.hit('418')) {
      this.banUntil = now + this.faults.value('ban', 5000);
      this.metrics.http418++;
      headers['Retry-After'] = String(Math.ceil((this.banUntil - now) / 1000));
      return send(418, { code: -1003, msg: `Way too many requests; IP banned until ${this.banUntil}. Please use the websocket for live updates to avoid bans.` });
    }
    if (this.faults.has('429') && this.faults.hit('429')) {
      this.metrics.http429++;
      headers['Retry-After'] = String(this.faults.value('retry-after', 1));
      return send(429, { code: -1003, msg: `Too many requests; current limit is ${this.weightLimit.limit} requests per minute. Please use the websocket for live updates to avoid polling the API.` });
    }
    if (this.faults.has('5xx') && this.faults.hit('5xx')) {
      this.metrics.http5xx++;
      return send(503, { code: -1001, msg: 'Service Unavailable.' });
    }
    const newOrderPost = method === 'POST' && (url.pathname === '/fapi/v1/order' || url.pathname === '/fapi/v1/algoOrder');
    if (newOrderPost && this.faults.has('order-lost') && this.faults.hit('order-lost')) return withholdAnswer(res);
    if (newOrderPost && this.faults.has('order-timeout') && this.faults.hit('order-timeout')) withhold = true;
    // IP weight, from the table the client's governor books with
    const weight = requestWeight(method, url.pathname, params);
    if (now >= this.weightStart + this.weightLimit.ms) {
      this.weightStart = Math.floor(now / this.weightLimit.ms) * this.weightLimit.ms;
      this.weightUsed = 0;
      this.after429 = 0;
    }
    if (this.weightUsed + weight > this.weightLimit.limit) {
      this.after429++;
      if (this.after429 > (this.options.banAfter ?? 5)) {
        this.banUntil = now + this.faults.value('ban', 120_000);
        this.metrics.http418++;
        headers['Retry-After'] = String(Math.ceil((this.banUntil - now) / 1000));
        return send(418, { code: -1003, msg: `Way too many requests; IP banned until ${this.banUntil}. Please use the websocket for live updates to avoid bans.` });
      }
      this.metrics.http429++;
      headers['Retry-After'] = String(Math.max(1, Math.ceil((this.weightStart + this.weightLimit.ms - now) / 1000)));
      headers[`X-MBX-USED-WEIGHT-${this.weightLimit.tag}`] = String(this.weightUsed);
      return send(429, { code: -1003, msg: `Too many requests; current limit is ${this.weightLimit.limit} requests per minute. Please use the websocket for live updates to avoid polling the API.` });
    }
    this.weightUsed += weight;
    this.metrics.weightLog.push({ t: now, path: url.pathname, query: url.search, weight });
    if (this.metrics.weightLog.length > 20_000) this.metrics.weightLog.splice(0, 10_000);
    if (this.weightUsed > this.metrics.maxWeightInWindow) this.metrics.maxWeightInWindow = this.weightUsed;
    headers[`X-MBX-USED-WEIGHT-${this.weightLimit.tag}`] = String(this.weightUsed);
    try {
      const ctx: Ctx = { method, path: url.pathname, params, res };
      // timestamps are checked against the clock /fapi/v1/time reports (rate limits run on real time)
      if (endpoint.security !== 'NONE') ctx.account = this.authenticate(req, endpoint.security, params, rawQuery, rawBody, this.now());
      const orders = orderCount(method, url.pathname);
      if (orders > 0) {
        for (const l of this.orderLimits) {
          if (now >= l.start + l.ms) {
            l.start = Math.floor(now / l.ms) * l.ms;
            l.used = 0;
          }
        }
        const over = this.orderLimits.find((l) => l.used + orders > l.limit);
        if (over) {
          this.metrics.http429++;
          return send(429, { code: -1015, msg: `Too many new orders; current limit is ${over.limit} orders per ${over.ms >= 60_000 ? 'MINUTE' : 'TEN_SECONDS'}.` });
        }
        for (const l of this.orderLimits) {
          l.used += orders;
          headers[`X-MBX-ORDER-COUNT-${l.tag}`] = String(l.used);
        }
      }
      // the market catches up (lazily, from the seed) before anything reads it
      const pending = this.catchUp();
      if (pending) await pending;
      const body = endpoint.handle(ctx);
      return send(200, body);
    } catch (error) {
      if (error instanceof SimError) return send(error.status, { code: error.code, msg: error.msg });
      this.options.log?.(`local exchange: ${key} failed: ${(error as Error).stack}`);
      return send(500, { code: -1000, msg: 'An unknown error occurred while processing the request.' });
    }
  }

  private authenticate(req: IncomingMessage, security: Security, params: Record<string, string>, rawQuery: string, rawBody: string, now: number): SimAccount {
    const apiKey = req.headers['x-mbx-apikey'];
    if (typeof apiKey !== 'string' || apiKey === '') throw new SimError(-2014, 'API-key format invalid.', 401);
    const account = this.engine.accounts.get(apiKey);
    if (!account) throw new SimError(-2015, 'Invalid API-key, IP, or permissions for action, request ip: 127.0.0.1', 401);
    if (security !== 'SIGNED') return account;
    if (params.timestamp === undefined) throw new SimError(-1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.");
    if (params.signature === undefined) throw new SimError(-1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.");
    const recvWindow = params.recvWindow !== undefined ? Number(params.recvWindow) : 5000;
    if (!Number.isFinite(recvWindow) || recvWindow <= 0 || recvWindow > 60_000) throw new SimError(-1131, 'recvWindow must be less than 60000');
    const ts = Number(params.timestamp);
    if (!Number.isFinite(ts)) throw new SimError(-1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.");
    if (ts >= now + 1000) throw new SimError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.");
    if (now - ts > recvWindow) throw new SimError(-1021, 'Timestamp for this request is outside of the recvWindow.');
    const total = rawQuery + rawBody;
    const m = /(^|&)signature=([^&]*)/.exec(total);
    if (!m) throw new SimError(-1022, 'Signature for this request is not valid.');
    const payload = (total.slice(0, m.index) + total.slice(m.index + m[0].length)).replace(/^&/, '');
    let signature: string;
    try {
      signature = decodeURIComponent(m[2]);
    } catch {
      throw new SimError(-1022, 'Signature for this request is not valid.');
    }
    if (!verifySignature(account.secret, payload, signature)) throw new SimError(-1022, 'Signature for this request is not valid.');
    return account;
  }

  private registerEndpoints(): void {
    const e = (method: string, path: string, endpoint: Endpoint) => this.endpoints.set(`${method} ${path}`, endpoint);
    const market = (p: Record<string, string>) => this.engine.market(p.symbol);
    e('GET', '/fapi/v1/ping', { security: 'NONE', handle: () => ({}) });
    e('GET', '/fapi/v1/time', { security: 'NONE', handle: () => ({ serverTime: this.now() }) });
    e('GET', '/fapi/v1/exchangeInfo', { security: 'NONE', handle: () => this.exchangeInfo() });
    e('GET', '/fapi/v1/klines', {
      security: 'NONE',
      handle: ({ params: p }) => {
        const m = market(p);
        if (!p.interval) throw new SimError(-1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.");
        if (!isInterval(p.interval)) throw new SimError(-1120, 'Invalid interval.');
        const limit = limitParam(p, 500, 1500);
        const start = intParam(p, 'startTime');
        const end = intParam(p, 'endTime');
        if (start !== undefined && end !== undefined && start > end) throw new SimError(-1128, 'Combination of optional parameters invalid.');
        return m.klines(p.interval, start, end, limit).map((k) => m.klineRow(k));
      },
    });
    e('GET', '/fapi/v1/depth', {
      security: 'NONE',
      handle: ({ params: p }) => {
        const m = market(p);
        const limit = limitParam(p, 500, 1000, DEPTH_LIMITS);
        const now = this.now();
        return { lastUpdateId: m.updateId, E: now, T: now, bids: m.levels('bid', limit), asks: m.levels('ask', limit) };
      },
    });
    e('GET', '/fapi/v1/aggTrades', {
      security: 'NONE',
     
      handle: ({ params: p }) => {
        const m = market(p);
        const limit = limitParam(p, 500, 1000);
        const fromId = intParam(p, 'fromId');
        const start = intParam(p, 'startTime');
        const end = intParam(p, 'endTime');
        if (fromId !== undefined && (start !== undefined || end !== undefined)) throw new SimError(-1128, 'Combination of optional parameters invalid.');
        let rows = m.trades;
        if (fromId !== undefined) rows = rows.filter((t) => t.a >= fromId).slice(0, limit);
        else if (start !== undefined || end !== undefined) {
          rows = rows.filter((t) => t.T >= (start ?? -Infinity) && t.T <= (end ?? Infinity)).slice(0, limit);
        } else rows = rows.slice(-limit);
        return rows.map((t) => ({ a: t.a, p: m.price(t.p), q: m.qty(t.q), nq: m.qty(t.q), f: t.f, l: t.l, T: t.T, m: t.m }));
      },
    });
    e('GET', '/fapi/v1/ticker/24hr', { security: 'NONE', handle: ({ params: p }) => (p.symbol ? this.ticker24(market(p)) : [...this.markets.values()].map((m) => this.ticker24(m))) });
    e('GET', '/fapi/v1/ticker/price', { security: 'NONE', handle: ({ params: p }) => {
      const row = (m: SymbolMarket) => ({ symbol: m.spec.symbol, price: m.price(m.lastPrice), time: this.now() });
      return p.symbol ? row(market(p)) : [...this.markets.values()].map(row);
    } });
    e('GET', '/fapi/v1/ticker/bookTicker', { security: 'NONE', handle: ({ params: p }) => {
      const row = (m: SymbolMarket) => ({ symbol: m.spec.symbol, bidPrice: m.price(m.bestBid), bidQty: m.qty(m.total('bid', m.bestBid)), askPrice: m.price(m.bestAsk), askQty: m.qty(m.total('ask', m.bestAsk)), time: this.now(), lastUpdateId: m.updateId });
      return p.symbol ? row(market(p)) : [...this.markets.values()].map(row);
    } });
    e('GET', '/fapi/v1/premiumIndex', { security: 'NONE', handle: ({ params: p }) => {
      const row = (m: SymbolMarket) => ({
        symbol: m.spec.symbol, markPrice: m.markPriceText(), indexPrice: m.indexPriceText(), estimatedSettlePrice: m.markPriceText(),
        lastFundingRate: m.fundingRate.toFixed(8), interestRate: '0.00010000', nextFundingTime: m.nextFunding, time: this.now(),
      });
      return p.symbol ? row(market(p)) : [...this.markets.values()].map(row);
    } });
    e('GET', '/fapi/v1/fundingRate', { security: 'NONE', handle: ({ params: p }) => {
      const m = market(p);
      const limit = limitParam(p, 100, 1000);
      const start = intParam(p, 'startTime');
      const end = intParam(p, 'endTime');
      let rows = m.fundingHistory;
      if (start !== undefined) rows = rows.filter((r) => r.fundingTime >= start);
      if (end !== undefined) rows = rows.filter((r) => r.fundingTime <= end);
      rows = start !== undefined ? rows.slice(0, limit) : rows.slice(-limit);
      return rows.map((r) => ({ symbol: m.spec.symbol, fundingRate: r.rate, fundingTime: r.fundingTime, markPrice: r.mark }));
    } });
    e('GET', '/fapi/v1/fundingInfo', { security: 'NONE', handle: () => [...this.markets.values()].map((m) => ({ symbol: m.spec.symbol, adjustedFundingRateCap: '0.03000000', adjustedFundingRateFloor: '-0.03000000', fundingIntervalHours: 8, disclaimer: false })) });
    // orders
    e('POST', '/fapi/v1/order', { security: 'SIGNED', handle: (c) => this.engine.newOrder(c.account!, c.params) });
    e('DELETE', '/fapi/v1/order', { security: 'SIGNED', handle: (c) => this.engine.cancelOrder(c.account!, c.params) });
    e('GET', '/fapi/v1/order', { security: 'SIGNED', handle: (c) => this.engine.orderJson(this.engine.findOrder(c.account!, c.params, -2013), true) });
    e('GET', '/fapi/v1/openOrder', { security: 'SIGNED', handle: (c) => {
      const o = this.engine.findOrder(c.account!, c.params, -2013);
      if (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED') throw new SimError(-2013, 'Order does not exist.');
      return this.engine.orderJson(o, true);
    } });
    e('GET', '/fapi/v1/openOrders', { security: 'SIGNED', handle: (c) => this.engine.openOrders(c.account!, c.params.symbol).map((o) => this.engine.orderJson(o, true)) });
    e('GET', '/fapi/v1/allOrders', { security: 'SIGNED', handle: (c) => {
      const m = market(c.params);
      const limit = limitParam(c.params, 500, 1000);
      return [...c.account!.orders.values()].filter((o) => o.symbol === m.spec.symbol).slice(-limit).map((o) => this.engine.orderJson(o, true));
    } });
    e('DELETE', '/fapi/v1/allOpenOrders', { security: 'SIGNED', handle: (c) => {
      this.engine.cancelAll(c.account!, c.params.symbol);
      return { code: 200, msg: 'The operation of cancel all open order is done.' };
    } });
    // algo (conditional) orders
    e('POST', '/fapi/v1/algoOrder', { security: 'SIGNED', handle: (c) => this.algos.place(c.account!, c.params) });
    e('DELETE', '/fapi/v1/algoOrder', { security: 'SIGNED', handle: (c) => this.algos.cancel(c.account!, c.params) });
    e('GET', '/fapi/v1/algoOrder', { security: 'SIGNED', handle: (c) => this.algos.query(c.account!, c.params) });
    e('GET', '/fapi/v1/openAlgoOrders', { security: 'SIGNED', handle: (c) => this.algos.openOrders(c.account!, c.params.symbol) });
    e('DELETE', '/fapi/v1/algoOpenOrders', { security: 'SIGNED', handle: (c) => {
      this.algos.cancelAll(c.account!, c.params.symbol);
      return { code: 200, msg: 'The operation of cancel all open order is done.' };
    } });
    e('GET', '/fapi/v1/allAlgoOrders', { security: 'SIGNED', handle: (c) => this.algos.all(c.account!, c.params) });
    // account
    e('GET', '/fapi/v2/account', { security: 'SIGNED', handle: (c) => this.engine.account(c.account!, 2) });
    e('GET', '/fapi/v3/account', { security: 'SIGNED', handle: (c) => this.engine.account(c.account!, 3) });
    e('GET', '/fapi/v2/balance', { security: 'SIGNED', handle: (c) => this.engine.balances(c.account!) });
    e('GET', '/fapi/v3/balance', { security: 'SIGNED', handle: (c) => this.engine.balances(c.account!) });
    const positionRisk = (version: 2 | 3) => (c: Ctx) => {
      const symbols = c.params.symbol ? [market(c.params).spec.symbol] : [...this.markets.keys()];
      const a = c.account!;
      const rows = symbols.map((s) => this.engine.positionRiskRow(a, s, version));
      return version === 3 && !c.params.symbol ? rows.filter((r, i) => r.positionAmt !== '0' && !/^-?0(\.0+)?$/.test(String(r.positionAmt)) || this.engine.openOrders(a, symbols[i]).length > 0) : rows;
    };
    e('GET', '/fapi/v2/positionRisk', { security: 'SIGNED', handle: positionRisk(2) });
    e('GET', '/fapi/v3/positionRisk', { security: 'SIGNED', handle: positionRisk(3) });
    e('POST', '/fapi/v1/leverage', { security: 'SIGNED', handle: (c) => this.engine.setLeverage(c.account!, c.params.symbol, c.params.leverage) });
    e('POST', '/fapi/v1/marginType', { security: 'SIGNED', handle: (c) => {
      this.engine.setMarginType(c.account!, c.params.symbol, c.params.marginType);
      return { code: 200, msg: 'success' };
    } });
    e('GET', '/fapi/v1/leverageBracket', { security: 'SIGNED', handle: ({ params: p }) => {
      const row = (s: string) => ({ symbol: s, notionalCoef: 1.0, brackets: DEFAULT_BRACKETS });
      return p.symbol ? row(market(p).spec.symbol) : [...this.markets.keys()].map(row);
    } });
    e('GET', '/fapi/v1/symbolConfig', { security: 'SIGNED', handle: (c) => {
      const symbols = c.params.symbol ? [market(c.params).spec.symbol] : [...this.markets.keys()];
      return symbols.map((s) => ({ symbol: s, marginType: this.engine.marginTypeOf(c.account!, s), isAutoAddMargin: false, leverage: this.engine.leverageOf(c.account!, s), maxNotionalValue: '1000000' }));
    } });
    e('GET', '/fapi/v1/commissionRate', { security: 'SIGNED', handle: ({ params: p }) => ({ symbol: market(p).spec.symbol, makerCommissionRate: '0.000200', takerCommissionRate: '0.000500', rpiCommissionRate: '0' }) });
    e('GET', '/fapi/v1/positionSide/dual', { security: 'SIGNED', handle: () => ({ dualSidePosition: false }) });
    e('POST', '/fapi/v1/positionSide/dual', { security: 'SIGNED', handle: (c) => {
      if (c.params.dualSidePosition === 'false') throw new SimError(-4059, 'No need to change position side.');
      throw new SimError(-4068, 'The local exchange supports one-way position mode only.');
    } });
    e('GET', '/fapi/v1/multiAssetsMargin', { security: 'SIGNED', handle: () => ({ multiAssetsMargin: false }) });
    e('GET', '/fapi/v1/userTrades', { security: 'SIGNED', handle: (c) => {
      const m = market(c.params);
      const p = c.params;
      const limit = limitParam(p, 500, 1000);
      const [orderId, fromId, start, end] = [intParam(p, 'orderId'), intParam(p, 'fromId'), intParam(p, 'startTime'), intParam(p, 'endTime')];
      let rows = c.account!.trades.filter((t) => t.symbol === m.spec.symbol);
      if (orderId !== undefined) rows = rows.filter((t) => t.orderId === orderId);
      if (fromId !== undefined) rows = rows.filter((t) => t.id >= fromId);
      if (start !== undefined) rows = rows.filter((t) => t.time >= start);
      if (end !== undefined) rows = rows.filter((t) => t.time <= end);
      return fromId !== undefined ? rows.slice(0, limit) : rows.slice(-limit);
    } });
    e('GET', '/fapi/v1/income', { security: 'SIGNED', handle: (c) => {
      const p = c.params;
      let rows = c.account!.income;
      if (p.symbol) rows = rows.filter((r) => r.symbol === p.symbol);
      if (p.incomeType) rows = rows.filter((r) => r.incomeType === p.incomeType);
      return rows.slice(-limitParam(p, 100, 1000));
    } });
    // user data stream
    e('POST', '/fapi/v1/listenKey', { security: 'USER_STREAM', handle: (c) => ({ listenKey: this.engine.listenKeyFor(c.account!) }) });
    e('PUT', '/fapi/v1/listenKey', { security: 'USER_STREAM', handle: (c) => ({ listenKey: this.engine.keepAlive(c.account!) }) });
    e('DELETE', '/fapi/v1/listenKey', { security: 'USER_STREAM', handle: (c) => {
      this.engine.closeListenKey(c.account!);
      return {};
    } });
  }

  private exchangeInfo(): Record<string, unknown> {
    const w = this.options.weightLimit ?? { limit: 2400, interval: 'MINUTE', intervalNum: 1 };
    const orders = this.options.orderLimits ?? [{ limit: 1200, interval: 'MINUTE', intervalNum: 1 }, { limit: 300, interval: 'SECOND', intervalNum: 10 }];
    return {
      timezone: 'UTC',
      serverTime: this.now(),
      futuresType: 'U_MARGINED',
      rateLimits: [
        { rateLimitType: 'REQUEST_WEIGHT', interval: w.interval, intervalNum: w.intervalNum, limit: w.limit },
        ...orders.map((o) => ({ rateLimitType: 'ORDERS', interval: o.interval, intervalNum: o.intervalNum, limit: o.limit })),
      ],
      exchangeFilters: [],
      assets: [{ asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' }],
      symbols: [...this.markets.values()].map((m) => symbolJson(m.spec)),
    };
  }

  private ticker24(m: SymbolMarket): Record<string, unknown> {
    const t = m.ticker24h();
    const last = m.lastPrice;
    const change = last - t.open;
    // quote units / volume steps = price in ticks
    const vwap = t.volume > 0 ? (t.quote / t.volume) * m.tickValue : last * m.tickValue;
    return {
      symbol: m.spec.symbol, priceChange: m.price(change), priceChangePercent: (t.open > 0 ? (change / t.open) * 100 : 0).toFixed(3),
      weightedAvgPrice: vwap.toFixed(m.spec.priceDecimals + 2), lastPrice: m.price(last), lastQty: m.qty(m.trades[m.trades.length - 1]?.q ?? 0),
      openPrice: m.price(t.open), highPrice: m.price(t.high), lowPrice: m.price(t.low), volume: m.qty(t.volume),
      quoteVolume: m.quoteText(t.quote), openTime: t.openTime, closeTime: this.now(), firstId: Math.max(0, t.firstId), lastId: t.lastId, count: t.count,
    };
  }
}

/** The request target as a URL, or undefined when it is not one (`//`, `//host:99999`). */
function requestUrl(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://127.0.0.1');
  } catch {
    return undefined;
  }
}

const TOO_LARGE = Symbol('too large');

/**
 * Reads a request body of at most `max` bytes: its text, TOO_LARGE (the rest is not read), or
 * undefined when the client goes away first (a body shorter than its Content-Length, a reset).
 */
function readBody(req: IncomingMessage, max: number): Promise<string | typeof TOO_LARGE | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > max) return Promise.resolve(TOO_LARGE);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (value: string | typeof TOO_LARGE | undefined) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) finish(TOO_LARGE);
      else chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => finish(Buffer.concat(chunks).toString('utf8')));
    req.once('aborted', () => finish(undefined));
    req.once('error', () => finish(undefined));
    req.once('close', () => finish(req.complete ? Buffer.concat(chunks).toString('utf8') : undefined));
  });
}

/** The text of a websocket frame (a Buffer, or fragments / an ArrayBuffer with other binaryTypes). */
function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as Buffer).toString('utf8');
}

function mergeChange(acc: DepthAcc, change: DepthChange): void {
  if (acc.U === 0) acc.U = change.U;
  acc.u = change.u;
  for (const [p, q] of change.bids) acc.bids.set(p, q);
  for (const [p, q] of change.asks) acc.asks.set(p, q);
}

const DEPTH_LIMITS = [5, 10, 20, 50, 100, 500, 1000];

/** HMAC-SHA256 hex (case-insensitive), or Ed25519 when the account secret is a PEM public key. */
function verifySignature(secret: string, payload: string, signature: string): boolean {
  if (secret.includes('BEGIN PUBLIC KEY')) {
    try {
      return cryptoVerify(null, Buffer.from(payload), createPublicKey(secret), Buffer.from(signature, 'base64'));
    } catch {
      return false;
    }
  }
  const expected = createHmac('sha256', secret).update(payload).digest('hex');
  const given = signature.toLowerCase();
  if (given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

/** A stable fingerprint of a key for logs (never the key itself). */
export function keyFingerprint(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

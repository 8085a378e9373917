import type { EventBus } from '../bus.js';
import type { Config, ExchangeMode } from '../config/schema.js';
import type { Logger } from '../logging.js';
import type { ExchangePort, ExchangeStats, Subscription } from './port.js';

/** How the service reaches adapters without importing them (see src/adapters/factory.ts). */
export interface VenueConnectOptions {
  venue: string;
  simulated: boolean;
  restUrl: string;
  wsUrl: string;
  routed: boolean;
  apiKey?: string;
  apiSecret?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  onLog?: (level: 'trace' | 'info' | 'warn', message: string) => void;
}

export interface LocalStartOptions {
  port: number;
  seed: number;
  speed: number;
  faults: string;
  dataDir: string;
  onLog?: (level: 'trace' | 'info' | 'warn', message: string) => void;
}

export interface LocalExchangeHandle {
  restUrl: string;
  wsUrl: string;
  apiKey: string;
  apiSecret: string;
  /** Lets another key trade on it (an actual account in `exchange.mode: sim`); an existing key is kept. */
  addAccount?(apiKey: string, apiSecret: string): void;
  close(): Promise<void>;
}

export interface AdapterFactory {
  /** Connects and checks the venue (server time, exchangeInfo); throws when unreachable. */
  connectVenue(options: VenueConnectOptions): Promise<ExchangePort>;
  startLocal(options: LocalStartOptions): Promise<LocalExchangeHandle>;
}

export interface ExchangeServiceOptions {
  bus: EventBus;
  config: Config['exchange'];
  mode: ExchangeMode;
  log: Logger;
  /** API credentials, read when connecting (from the environment variables the config names). */
  credentials?: () => { apiKey?: string; apiSecret?: string };
  /** Loads the adapters (given by the composition root; the core never imports them). */
  loadFactory: () => Promise<AdapterFactory>;
}

/**
 * Owns the exchange connection of the running program.
 *
 * Modes: `auto` tries Binance within `connectTimeoutMs` and, when it cannot be reached, starts
 * the local exchange in-process on a free port and connects the same Binance adapter to it
 * (state `connected` with `simulated: true`, shown as SIMULATED EXCHANGE); `binance` / `testnet`
 * use only that venue and retry in the background; `sim` uses only the local exchange.
 *
 * Nothing connects until `start()` is called: the TUI calls it after its first frame, headless
 * commands only when they need the exchange.
 */
export class ExchangeService {
  private current: ExchangePort | undefined;
  private local: LocalExchangeHandle | undefined;
  private starting: Promise<ExchangePort> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryReject: ((error: Error) => void) | undefined;
  private readonly abort = new AbortController();
  private closed = false;
  private readonly waiters: ((port: ExchangePort) => void)[] = [];
  private streamState: Subscription | undefined;

  constructor(private readonly options: ExchangeServiceOptions) {}

  get mode(): ExchangeMode {
    return this.options.mode;
  }

  /** The connected port, if any. */
  get port(): ExchangePort | undefined {
    return this.current;
  }

  /** Starts connecting (idempotent). Resolves with the port; never blocks the caller's first frame. */
  start(): Promise<ExchangePort> {
    if (!this.starting) {
      this.starting = this.connect();
      this.starting.catch(() => undefined);
    }
    return this.starting;
  }

  /** Resolves once a port is connected (starting the connection if needed). */
  ready(): Promise<ExchangePort> {
    if (this.current) return Promise.resolve(this.current);
    void this.start().catch(() => undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The local exchange this service started (modes sim and auto), if any. */
  get localExchange(): LocalExchangeHandle | undefined {
    return this.local;
  }

  /** Live connection figures for the Dashboard, or undefined when not connected. */
  stats(): ExchangeStats | undefined {
    return this.current?.stats();
  }

  private log(level: 'trace' | 'info' | 'warn', message: string): void {
    this.options.log[level]({ component: 'exchange' }, message);
  }

  private async connect(): Promise<ExchangePort> {
    const { bus, config, mode } = this.options;
    const factory = await this.options.loadFactory();
    const onLog = (level: 'trace' | 'info' | 'warn', message: string) => this.log(level, message);
    const creds = this.options.credentials?.() ?? {};
    if (mode === 'sim') return this.startLocal(factory);
    const venue = mode === 'testnet' ? 'testnet' : 'binance';
    const venueConfig = config[venue];
    bus.emit('exchange.state', { kind: 'connecting', venue });
    try {
      const port = await factory.connectVenue({
        venue, simulated: false, restUrl: venueConfig.restUrl, wsUrl: venueConfig.wsUrl, routed: venueConfig.routed,
        apiKey: creds.apiKey, apiSecret: creds.apiSecret, timeoutMs: config.connectTimeoutMs, signal: this.abort.signal, onLog, // timeoutMs bounds the wait for a first answer
      });
      return this.connected(port, venue, false);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (this.closed) throw error;
      if (mode === 'auto') {
        this.log('warn', `${venue} cannot be reached (${reason}); switching to the built-in local exchange`);
        return this.startLocal(factory);
      }
      this.log('warn', `${venue} cannot be reached (${reason}); retrying in 30 s`);
      bus.emit('exchange.state', { kind: 'disconnected', venue, reason, simulated: false });
      return new Promise<ExchangePort>((resolve, reject) => {
        this.retryReject = reject;
        this.retryTimer = setTimeout(() => this.connect().then(resolve, reject), 30_000);
        this.retryTimer.unref();
      });
    }
  }

  private async startLocal(factory: AdapterFactory): Promise<ExchangePort> {
    const { bus, config } = this.options;
    bus.emit('exchange.state', { kind: 'connecting', venue: 'local' });
    const onLog = (level: 'trace' | 'info' | 'warn', message: string) => this.log(level, message);
    this.local = await factory.startLocal({ port: config.sim.port, seed: config.sim.seed, speed: config.sim.speed, faults: config.sim.faults, dataDir: config.sim.dataDir, onLog });
    if (this.closed) {
      await this.local.close();
      throw new Error('exchange service closed');
    }
    const port = await factory.connectVenue({
      venue: 'local', simulated: true, restUrl: this.local.restUrl, wsUrl: this.local.wsUrl, routed: true,
      apiKey: this.local.apiKey, apiSecret: this.local.apiSecret, timeoutMs: config.connectTimeoutMs, onLog,
    });
    this.log('info', `connected to the local exchange at ${this.local.restUrl}`);
    return this.connected(port, 'local', true);
  }

  private async connected(port: ExchangePort, venue: string, simulated: boolean): Promise<ExchangePort> {
    if (this.closed) {
      await port.close();
      await this.local?.close();
      throw new Error('exchange service closed');
    }
    this.current = port;
    if (!simulated) this.log('info', `connected to ${venue}`);
    this.options.bus.emit('exchange.state', { kind: 'connected', venue, simulated });
    // websocket outages show as disconnected (with the reason) until every stream connection is back
    this.streamState = port.onStreamState?.((state) => {
      if (this.closed || this.current !== port) return;
      if (state.up) {
        this.log('info', `${venue} market streams reconnected`);
        this.options.bus.emit('exchange.state', { kind: 'connected', venue, simulated });
      } else {
        this.log('warn', `${venue} market streams disconnected: ${state.reason}`);
        this.options.bus.emit('exchange.state', { kind: 'disconnected', venue, reason: state.reason, simulated });
      }
    });
    for (const w of this.waiters.splice(0)) w(port);
    return port;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort(new Error('exchange service closed'));
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryReject?.(new Error('exchange service closed'));
    await this.starting?.catch(() => undefined);
    this.streamState?.unsubscribe();
    await this.current?.close();
    await this.local?.close();
    this.current = undefined;
    this.local = undefined;
  }
}

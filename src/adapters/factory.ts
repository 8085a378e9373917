import type { ExchangePort } from '../core/exchange/port.js';
import type { AdapterFactory, LocalExchangeHandle, VenueConnectOptions, LocalStartOptions } from '../core/exchange/service.js';
import { BinanceExchange } from './binance/adapter.js';
import { DEMO_API_KEY, DEMO_API_SECRET, DEMO_USDT, LocalExchange } from './localexchange/server.js';

/**
 * The adapter factory the core's ExchangeService loads lazily (the core never imports an adapter
 * directly): it connects the Binance adapter to a venue, and starts the local exchange in-process.
 */
export const factory: AdapterFactory = {
  async connectVenue(options: VenueConnectOptions): Promise<ExchangePort> {
    const ex = new BinanceExchange({
      venue: options.venue,
      simulated: options.simulated,
      restUrl: options.restUrl,
      wsUrl: options.wsUrl,
      routed: options.routed,
      apiKey: options.apiKey,
      apiSecret: options.apiSecret,
      timeoutMs: options.timeoutMs,
      onLog: options.onLog,
    });
    try {
      await ex.connect(options.signal, options.timeoutMs);
      return ex;
    } catch (error) {
      await ex.close();
      throw error;
    }
  },

  async startLocal(options: LocalStartOptions): Promise<LocalExchangeHandle> {
    const server = await LocalExchange.start({
      port: options.port,
      seed: options.seed,
      speed: options.speed,
      faults: options.faults,
      dataDir: options.dataDir || undefined,
      log: (line) => options.onLog?.('warn', line),
    });
    return {
      restUrl: server.url, wsUrl: server.wsUrl, apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET, close: () => server.close(),
      addAccount: (apiKey, apiSecret) => {
        if (!server.engine.accounts.has(apiKey)) server.engine.addAccount(apiKey, apiSecret, DEMO_USDT);
      },
    };
  },
};

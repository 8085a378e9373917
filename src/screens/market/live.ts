import type { Interval } from '../../core/market/klines.js';
import type { BookTop, Feed, MarketDataService, MarketTrade } from '../../core/market/service.js';

/** Trades kept for the side panel (newest first). */
const MAX_TRADES = 50;

/**
 * The live feeds of the selected symbol through the market facade: its klines kept current
 * (`watch`), the order book's top levels and recent trades as plain data.
 */
export class LiveFeeds {
  /** The symbol whose feeds run, if any. */
  symbol?: string;
  /** The latest order book top (undefined until the first update). */
  book?: BookTop;
  /** Recent trades, newest first. */
  readonly trades: MarketTrade[] = [];
  private unwatch?: () => void;
  private feeds: Feed[] = [];

  constructor(
    private readonly market: MarketDataService,
    /** Called when the book or the trades changed. */
    private readonly onChange: () => void,
    private readonly onError: (message: string) => void,
  ) {}

  /** Starts the feeds of `symbol` (stops those of another); nothing when it cannot be watched. */
  start(symbol: string | undefined, interval: Interval): void {
    if (!this.market.venue() || !symbol) {
      this.stop();
      return;
    }
    if (this.symbol === symbol) return;
    this.stop();
    // a symbol this exchange does not list (e.g. imported archive data while on the local exchange)
    if (this.market.isListed(symbol) !== true || this.market.cannotWatch(symbol, interval)) return;
    this.symbol = symbol;
    this.unwatch = this.market.watch(symbol, interval);
    try {
      this.feeds.push(this.market.book(symbol, (top) => {
        this.book = top;
        this.onChange();
      }));
      this.feeds.push(this.market.trades(symbol, (trade) => {
        this.trades.unshift(trade);
        if (this.trades.length > MAX_TRADES) this.trades.length = MAX_TRADES;
        this.onChange();
      }));
    } catch (error) {
      this.onError((error as Error).message);
    }
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    for (const f of this.feeds) f.close();
    this.feeds = [];
    this.book = undefined;
    this.trades.length = 0;
    this.symbol = undefined;
  }
}

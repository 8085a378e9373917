import type { DepthSnapshot, DepthUpdateEvent, OrderBookView, PriceLevel } from '../../core/exchange/port.js';

/**
 * A local order book kept by Binance USD-M's snapshot + diff procedure:
 *
 * 1. Diff events (`<s>@depth@100ms`) are buffered while a REST snapshot (limit 1000) is fetched.
 * 2. Buffered events with `u < lastUpdateId` are dropped.
 * 3. The first applied event must have `U ≤ lastUpdateId ≤ u`; if the oldest kept event starts
 *    after the snapshot (`U > lastUpdateId`), the snapshot is too old and is fetched again.
 * 4. Every later event must have `pu` equal to the previous event's `u`; otherwise the book is
 *    invalid: it goes back to step 1 (keeping the buffer) — a resync.
 * 5. Quantities are absolute; "0" deletes the level.
 *
 * The buffer is bounded: while syncing, only events not older than needed are kept (at most
 * `maxBuffer`, oldest dropped first; a dropped event that turns out to be needed just causes
 * another snapshot).
 */
export interface OrderBookOptions {
  fetchSnapshot: () => Promise<DepthSnapshot>;
  maxBuffer?: number;
  onSynced?: (book: LocalOrderBook, resyncMs: number) => void;
  onUpdate?: (book: LocalOrderBook) => void;
  onError?: (error: Error) => void;
}

export class LocalOrderBook implements OrderBookView {
  private readonly bidMap = new Map<number, PriceLevel>();
  private readonly askMap = new Map<number, PriceLevel>();
  private buffer: DepthUpdateEvent[] = [];
  private state: 'syncing' | 'live' | 'stopped' = 'syncing';
  private fetching = false;
  private lastU = 0;
  private best: { bid?: number; ask?: number; dirtyBid: boolean; dirtyAsk: boolean } = { dirtyBid: true, dirtyAsk: true };
  private syncStarted = 0;
  resyncs = 0;
  lastResyncMs = 0;
  applied = 0;
  private readyWaiters: (() => void)[] = [];

  constructor(readonly symbol: string, private readonly options: OrderBookOptions) {}

  get lastUpdateId(): number {
    return this.lastU;
  }

  get synced(): boolean {
    return this.state === 'live';
  }

  get status(): 'syncing' | 'live' | 'stopped' {
    return this.state;
  }

  /** Starts (or restarts) synchronisation: fetch a snapshot while buffering. */
  resync(): void {
    if (this.state === 'stopped') return;
    if (this.state === 'live') this.resyncs++;
    this.state = 'syncing';
    this.syncStarted = performance.now();
    this.fetchSnapshot();
  }

  stop(): void {
    this.state = 'stopped';
    this.buffer = [];
  }

  /** Resolves once the book is live. */
  ready(): Promise<void> {
    if (this.state === 'live') return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Feeds one diff event from the stream. */
  onEvent(event: DepthUpdateEvent): void {
    if (this.state === 'stopped') return;
    if (this.state === 'syncing') {
      this.buffer.push(event);
      const max = this.options.maxBuffer ?? 5000;
      if (this.buffer.length > max) this.buffer.splice(0, this.buffer.length - max);
      return;
    }
    if (event.pu !== this.lastU) {
      // a gap (missing or out-of-order event): the book can no longer be trusted
      this.resyncs++;
      this.state = 'syncing';
      this.syncStarted = performance.now();
      this.clear();
      this.buffer = [event];
      this.fetchSnapshot();
      return;
    }
    this.apply(event);
    this.options.onUpdate?.(this);
  }

  private fetchSnapshot(): void {
    if (this.fetching) return;
    this.fetching = true;
    this.options.fetchSnapshot().then(
      (snap) => {
        this.fetching = false;
        if (this.state !== 'syncing') return;
        this.applySnapshot(snap);
      },
      (error) => {
        this.fetching = false;
        this.options.onError?.(error as Error);
        if (this.state === 'syncing') setTimeout(() => this.state === 'syncing' && this.fetchSnapshot(), 1000).unref();
      },
    );
  }

  private applySnapshot(snap: DepthSnapshot): void {
    const L = snap.lastUpdateId;
    const kept = this.buffer.filter((e) => e.u >= L).sort((a, b) => a.u - b.u);
    if (kept.length > 0 && kept[0].U > L) {
      // the snapshot is older than the oldest event we still have: fetch another
      this.buffer = kept;
      this.fetchSnapshot();
      return;
    }
    this.clear();
    for (const [p, q] of snap.bids) this.set(this.bidMap, p, q, 'bid');
    for (const [p, q] of snap.asks) this.set(this.askMap, p, q, 'ask');
    this.lastU = L;
    this.buffer = [];
    let first = true;
    for (const e of kept) {
      if (!first && e.pu !== this.lastU) {
        // gap inside the buffer: start over with what follows
        this.buffer = kept.slice(kept.indexOf(e));
        this.resyncs++;
        this.fetchSnapshot();
        return;
      }
      this.apply(e);
      first = false;
    }
    this.state = 'live';
    this.lastResyncMs = performance.now() - this.syncStarted;
    this.options.onSynced?.(this, this.lastResyncMs);
    for (const w of this.readyWaiters.splice(0)) w();
    this.options.onUpdate?.(this);
  }

  private apply(e: DepthUpdateEvent): void {
    for (const [p, q] of e.b) this.set(this.bidMap, p, q, 'bid');
    for (const [p, q] of e.a) this.set(this.askMap, p, q, 'ask');
    this.lastU = e.u;
    this.applied++;
  }

  private set(map: Map<number, PriceLevel>, price: string, qty: string, side: 'bid' | 'ask'): void {
    const key = +price;
    if (+qty === 0) {
      if (map.delete(key)) {
        if (side === 'bid' && key === this.best.bid) this.best.dirtyBid = true;
        if (side === 'ask' && key === this.best.ask) this.best.dirtyAsk = true;
      }
      return;
    }
    map.set(key, [price, qty]);
    if (side === 'bid' && !this.best.dirtyBid && (this.best.bid === undefined || key > this.best.bid)) this.best.bid = key;
    if (side === 'ask' && !this.best.dirtyAsk && (this.best.ask === undefined || key < this.best.ask)) this.best.ask = key;
  }

  private clear(): void {
    this.bidMap.clear();
    this.askMap.clear();
    this.best = { dirtyBid: true, dirtyAsk: true };
  }

  bestBid(): PriceLevel | undefined {
    if (this.best.dirtyBid) {
      let b: number | undefined;
      for (const k of this.bidMap.keys()) if (b === undefined || k > b) b = k;
      this.best.bid = b;
      this.best.dirtyBid = false;
    }
    return this.best.bid === undefined ? undefined : this.bidMap.get(this.best.bid);
  }

  bestAsk(): PriceLevel | undefined {
    if (this.best.dirtyAsk) {
      let a: number | undefined;
      for (const k of this.askMap.keys()) if (a === undefined || k < a) a = k;
      this.best.ask = a;
      this.best.dirtyAsk = false;
    }
    return this.best.ask === undefined ? undefined : this.askMap.get(this.best.ask);
  }

  bids(n = Infinity): PriceLevel[] {
    return [...this.bidMap.keys()].sort((a, b) => b - a).slice(0, n).map((k) => this.bidMap.get(k)!);
  }

  asks(n = Infinity): PriceLevel[] {
    return [...this.askMap.keys()].sort((a, b) => a - b).slice(0, n).map((k) => this.askMap.get(k)!);
  }

  get levelCount(): number {
    return this.bidMap.size + this.askMap.size;
  }
}

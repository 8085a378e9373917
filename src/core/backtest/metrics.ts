/**
 * The summary's performance figures (formulas in docs/backtesting.md):
 *
 * - returnPct = (final / initial − 1) × 100
 * - cagrPct = ((final / initial)^(1 / years) − 1) × 100, years = (to − from) / 365.25 days
 * - maxDrawdownPct = max over 1m closes of (peak equity so far − equity) / peak × 100
 * - sharpe = mean(r) / stdev(r) × √365 over daily (UTC) equity returns r (sample stdev, n − 1)
 * - sortino = mean(r) / √(mean(min(r, 0)²)) × √365
 * - calmar = cagrPct / maxDrawdownPct
 * - profitFactor = Σ winning trade PnL / |Σ losing trade PnL| (null without a losing trade)
 * - winRatePct = winning trades / trades × 100 (a trade's PnL is after its fees)
 * Figures that cannot be computed (too few days, zero deviation) are 0.
 */

/** One closed round trip: from flat to flat (a flip ends one and starts another). */
export interface TradeRecord {
  symbol: string;
  side: 'LONG' | 'SHORT';
  entryTime: number;
  exitTime: number;
  /** Largest size held. */
  qty: string;
  /** Average entry and exit prices. */
  entryPrice: string;
  exitPrice: string;
  /** Realised PnL − fees of its fills (funding not included). */
  pnl: string;
  fees: string;
  /** pnl / (qty × entryPrice) × 100. */
  returnPct: number;
  exitReason: string;
}

export interface MetricsInput {
  initial: number;
  final: number;
  from: number;
  to: number;
  /** Maximum drawdown as a fraction. */
  maxDrawdown: number;
  /** Equity at the start and at the end of each UTC day (first = initial). */
  daily: number[];
  trades: readonly TradeRecord[];
}

export interface Metrics {
  returnPct: number;
  cagrPct: number;
  maxDrawdownPct: number;
  sharpe: number;
  sortino: number;
  calmar: number;
  profitFactor: number | null;
  winRatePct: number;
}

const YEAR_MS = 365.25 * 86_400_000;

const finite = (x: number) => (Number.isFinite(x) ? x : 0);

export function computeMetrics(m: MetricsInput): Metrics {
  const ratio = m.final / m.initial;
  const years = (m.to - m.from) / YEAR_MS;
  const cagr = years > 0 && ratio > 0 ? (ratio ** (1 / years) - 1) * 100 : ratio <= 0 ? -100 : 0;
  const returns: number[] = [];
  for (let i = 1; i < m.daily.length; i++) {
    const prev = m.daily[i - 1];
    if (prev > 0) returns.push(m.daily[i] / prev - 1);
  }
  let sharpe = 0;
  let sortino = 0;
  if (returns.length >= 2) {
    const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
    const variance = returns.reduce((a, r) => a + (r - mean) ** 2, 0) / (returns.length - 1);
    const downside = Math.sqrt(returns.reduce((a, r) => a + Math.min(r, 0) ** 2, 0) / returns.length);
    sharpe = variance > 0 ? (mean / Math.sqrt(variance)) * Math.sqrt(365) : 0;
    sortino = downside > 0 ? (mean / downside) * Math.sqrt(365) : 0;
  }
  let win = 0;
  let gain = 0;
  let loss = 0;
  for (const t of m.trades) {
    const p = Number(t.pnl);
    if (p > 0) {
      win++;
      gain += p;
    } else loss -= p;
  }
  const ddPct = m.maxDrawdown * 100;
  return {
    returnPct: finite((ratio - 1) * 100),
    cagrPct: finite(cagr),
    maxDrawdownPct: finite(ddPct),
    sharpe: finite(sharpe),
    sortino: finite(sortino),
    calmar: ddPct > 0 ? finite(cagr / ddPct) : 0,
    profitFactor: loss > 0 ? gain / loss : null,
    winRatePct: m.trades.length > 0 ? (win / m.trades.length) * 100 : 0,
  };
}

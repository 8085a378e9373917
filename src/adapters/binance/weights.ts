/**
 * Binance USD-M request weights: one table, used by the client's rate-limit governor (rest.ts) to
 * book a request before it is sent and by the local exchange (../localexchange/server.ts) to count
 * it when it arrives, so the two can never disagree. Source: Binance's endpoint documentation
 * (see docs/exchange.md and the reference's weight table).
 */

/** Request parameters as the client sends them or the server parses them. */
export type WeightParams = Readonly<Record<string, string | number | boolean | undefined>>;

/** The IP weight of `GET klines` (also continuous/index/mark/premiumIndex klines) by `limit`. */
export function klineWeight(limit: number): number {
  return limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
}

/** The IP weight of `GET depth` by `limit`. */
export function depthWeight(limit: number): number {
  return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
}

/** `limit` as a number, `fallback` (Binance's default) when absent or not a number. */
function limitOf(p: WeightParams, fallback: number): number {
  if (p.limit === undefined || p.limit === '') return fallback;
  const n = Number(p.limit);
  return Number.isFinite(n) ? n : fallback;
}

/** Weight with a symbol / without one (every symbol). */
const bySymbol = (withSymbol: number, without: number) => (p: WeightParams) => (p.symbol !== undefined && p.symbol !== '' ? withSymbol : without);

type Weight = number | ((p: WeightParams) => number);

/** IP weight per `METHOD path`. Order placement weighs 0 on the IP and counts on ORDERS instead. */
const WEIGHTS: Readonly<Record<string, Weight>> = {
  'GET /fapi/v1/ping': 1,
  'GET /fapi/v1/time': 1,
  'GET /fapi/v1/exchangeInfo': 1,
  'GET /fapi/v1/klines': (p) => klineWeight(limitOf(p, 500)),
  'GET /fapi/v1/depth': (p) => depthWeight(limitOf(p, 500)),
  'GET /fapi/v1/aggTrades': 20,
  'GET /fapi/v1/ticker/24hr': bySymbol(1, 40),
  'GET /fapi/v1/ticker/price': bySymbol(1, 2),
  'GET /fapi/v1/ticker/bookTicker': bySymbol(2, 5),
  'GET /fapi/v1/premiumIndex': bySymbol(1, 10),
  'GET /fapi/v1/fundingRate': 1,
  'GET /fapi/v1/fundingInfo': 1,
  'POST /fapi/v1/order': 0,
  'DELETE /fapi/v1/order': 1,
  'GET /fapi/v1/order': 1,
  'GET /fapi/v1/openOrder': 1,
  'GET /fapi/v1/openOrders': bySymbol(1, 40),
  'GET /fapi/v1/allOrders': 5,
  'DELETE /fapi/v1/allOpenOrders': 1,
  'POST /fapi/v1/algoOrder': 0,
  'DELETE /fapi/v1/algoOrder': 1,
  'GET /fapi/v1/algoOrder': 1,
  'GET /fapi/v1/openAlgoOrders': bySymbol(1, 40),
  'DELETE /fapi/v1/algoOpenOrders': 1,
  'GET /fapi/v1/allAlgoOrders': 5,
  'GET /fapi/v2/account': 5,
  'GET /fapi/v3/account': 5,
  'GET /fapi/v2/balance': 5,
  'GET /fapi/v3/balance': 5,
  'GET /fapi/v2/positionRisk': 5,
  'GET /fapi/v3/positionRisk': 5,
  'POST /fapi/v1/leverage': 1,
  'POST /fapi/v1/marginType': 1,
  'GET /fapi/v1/leverageBracket': 1,
  'GET /fapi/v1/symbolConfig': 5,
  'GET /fapi/v1/commissionRate': 20,
  'GET /fapi/v1/positionSide/dual': 30,
  'POST /fapi/v1/positionSide/dual': 1,
  'GET /fapi/v1/multiAssetsMargin': 30,
  'GET /fapi/v1/userTrades': 5,
  'GET /fapi/v1/income': 30,
  'POST /fapi/v1/listenKey': 1,
  'PUT /fapi/v1/listenKey': 1,
  'DELETE /fapi/v1/listenKey': 1,
};

/** Units on the account's ORDERS counters (10 s and 1 min) per `METHOD path`. */
const ORDER_COUNTS: Readonly<Record<string, number>> = {
  'POST /fapi/v1/order': 1,
  'POST /fapi/v1/algoOrder': 1,
};

/** The IP weight of a request (1 for an endpoint not in the table). */
export function requestWeight(method: string, path: string, params: WeightParams = {}): number {
  const w = WEIGHTS[`${method} ${path}`];
  if (w === undefined) return 1;
  return typeof w === 'number' ? w : w(params);
}

/** The ORDERS units a request uses (0 for everything but order placement). */
export function orderCount(method: string, path: string): number {
  return ORDER_COUNTS[`${method} ${path}`] ?? 0;
}

/** True for the endpoints the table knows (tests check both sides cover the same ones). */
export function hasWeight(method: string, path: string): boolean {
  return `${method} ${path}` in WEIGHTS;
}

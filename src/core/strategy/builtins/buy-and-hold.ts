import { defineStrategy } from '../api.js';

/** Long the whole allocation from the first kline; never exits. Every result is compared with it. */
export default defineStrategy({
  name: 'buy-and-hold',
  description: 'target +1 from the first kline, never exits (the benchmark every result is compared with)',
  params: {},
  create: () => ({
    onKline: () => 1,
  }),
});

import { describe, expect, it } from 'vitest';
import { parseKlineCsv } from '../../../src/core/market/archive.js';
import { columnDecimals, klinesToCsv } from '../../../src/core/market/export.js';

/** Rows as Binance's USD-M archives wrote them (FILUSDT 2024-09, NEARUSDT 2024-11), byte for byte. */
const FILUSDT = `1725148860000,3.565,3.566,3.562,3.562,6801.1,1725148919999,24241.3156,205,2112.6,7532.7825,0
1725148920000,3.563,3.566,3.562,3.566,7744.7,1725148979999,27600.0112,147,3101.0,11053.0525,0
1725148980000,3.566,3.566,3.562,3.562,4385.9,1725149039999,15631.9761,148,1312.4,4679.2503,0
1725149040000,3.562,3.566,3.561,3.566,12482.0,1725149099999,44477.7114,167,6787.8,24193.9929,0
1725149100000,3.566,3.567,3.565,3.567,4178.8,1725149159999,14899.4105,160,1360.3,4850.5872,0
1725149160000,3.567,3.568,3.566,3.567,7974.5,1725149219999,28447.7928,161,3619.3,12911.8309,0
1725149220000,3.568,3.573,3.567,3.572,7368.6,1725149279999,26313.4847,188,4933.7,17618.2767,0
1725149280000,3.572,3.576,3.572,3.574,22323.7,1725149339999,79803.4820,206,19278.0,68917.0401,0
1725149340000,3.575,3.577,3.574,3.577,4678.3,1725149399999,16725.6929,120,3301.3,11803.7975,0
1725149400000,3.576,3.577,3.574,3.574,4778.0,1725149459999,17080.2427,131,1681.9,6013.1410,0
1725149460000,3.575,3.577,3.573,3.576,7105.3,1725149519999,25397.9593,127,3715.9,13283.4036,0
`;
const NEARUSDT = `1730419200000,4.0520,4.0530,4.0470,4.0510,30222,1730419259999,122385.5070,320,17083,69179.5450,0
1730419260000,4.0510,4.0570,4.0500,4.0560,25373,1730419319999,102870.1520,308,20457,82944.3530,0
1730419320000,4.0560,4.0590,4.0530,4.0580,21232,1730419379999,86143.4720,277,15291,62039.4750,0
1730419380000,4.0590,4.0620,4.0590,4.0610,12580,1730419439999,51082.2800,189,8972,36434.1340,0
1730419440000,4.0620,4.0650,4.0600,4.0630,17274,1730419499999,70181.0110,233,9444,38371.6640,0
1730419500000,4.0640,4.0690,4.0630,4.0680,19409,1730419559999,78929.5030,267,13783,56047.4210,0
1730419560000,4.0670,4.0690,4.0650,4.0680,11492,1730419619999,46734.6370,226,4391,17859.4360,0
1730419620000,4.0680,4.0720,4.0680,4.0700,23555,1730419679999,95873.0430,251,13493,54923.1880,0
`;

describe('atm data export writes the text Binance wrote', () => {
  it('keeps each column\'s decimals: "3101.0" stays "3101.0", "27600.0112" and "3.563" as written', () => {
    const { klines } = parseKlineCsv(FILUSDT);
    expect(klinesToCsv(klines, '1m', 0, klines.length, false)).toBe(FILUSDT);
    expect(FILUSDT).toContain(',3101.0,');
    expect(FILUSDT).toContain(',12482.0,');
  });

  it('NEARUSDT prints prices with a zero past the tick ("4.0520"): given those decimals, the text is identical', () => {
    const { klines } = parseKlineCsv(NEARUSDT);
    const found = columnDecimals(klines);
    expect(found.volume).toBe(0); // "30222" stays "30222"
    expect(found.open).toBe(3); // every price here ends in 0: the values cannot tell
    const decimals = { ...found, open: 4, high: 4, low: 4, close: 4, quoteVolume: 4, takerBuyQuoteVolume: 4 };
    expect(klinesToCsv(klines, '1m', 0, klines.length, false, decimals)).toBe(NEARUSDT);
  });

  it('finds the decimals per column, and never writes a value with fewer than it needs', () => {
    const { klines } = parseKlineCsv(FILUSDT);
    expect(columnDecimals(klines)).toEqual({ open: 3, high: 3, low: 3, close: 3, volume: 1, quoteVolume: 4, takerBuyVolume: 1, takerBuyQuoteVolume: 4 });
    klines.close[0] = 3.56251; // a value with more decimals than the rest: written whole, not rounded
    const csv = klinesToCsv(klines, '1m', 0, klines.length, false);
    expect(csv.split('\n')[0].split(',')[4]).toBe('3.56251');
    expect(parseKlineCsv(csv).klines.close[0]).toBe(3.56251);
  });
});

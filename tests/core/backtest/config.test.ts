import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG, parseBacktestConfig, validateStrategies } from '../../../src/core/backtest/config.js';
import { ConfigError } from '../../../src/core/config/load.js';
import { builtins } from './helpers.js';

const parseError = (text: string): ConfigError => {
  try {
    parseBacktestConfig(text, 'bt.yaml');
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('parsed');
};

describe('backtest configuration', () => {
  it('parses the example with every key and its defaults', () => {
    const { config } = parseBacktestConfig(EXAMPLE_CONFIG, 'example.yaml');
    expect(config.account).toEqual({ initialBalance: '10000', marginType: 'CROSSED', makerFeeRate: '0.0002', takerFeeRate: '0.0005', slippageBps: 1, allocationRatio: 1 });
    expect(config.positions.map((p) => [p.symbol, p.interval, p.leverage, p.strategy.name, p.control.assumedRatio, p.control.priority])).toEqual([
      ['BTCUSDT', '15m', 3, 'sma-cross', 0.5, 0],
      ['ETHUSDT', '1h', 2, 'rqpm', 0.5, 1],
    ]);
    expect(config.positions[0].control.maxAllocatedBalance).toBe('5000');
    expect(config.positions[1].strategy.cac).toMatchObject({ pip: { mode: 'classical' } }); // the PIP trade control reads its CAC
    expect(() => validateStrategies(parseBacktestConfig(EXAMPLE_CONFIG, 'example.yaml'), builtins)).not.toThrow();
  });

  it('reads JSON too, and decimal amounts given as numbers as their text', () => {
    const { config } = parseBacktestConfig('{"account": {"initialBalance": 2500.5}, "positions": [{"symbol": "BTCUSDT", "strategy": {"name": "buy-and-hold"}}]}', 'bt.json');
    expect(config.account.initialBalance).toBe('2500.5');
    expect(config.positions[0]).toMatchObject({ interval: '1m', leverage: 1, control: { assumedRatio: 1, priority: 0 } });
  });

  it('names the file, the line and the key of a mistake', () => {
    const text = 'account:\n  initialBalance: "1000"\n  marginTyp: CROSSED\npositions: []\n';
    expect(parseError(text).message).toBe("bt.yaml:3: 'account.marginTyp' is not valid: unknown key (check the spelling against atm backtest --example)");
    const interval = 'account:\n  initialBalance: 1000\npositions:\n  - symbol: BTCUSDT\n    interval: 7m\n    strategy: { name: buy-and-hold }\n';
    expect(parseError(interval).message).toMatch(/^bt\.yaml:5: 'positions\.0\.interval' = "7m" is not valid: allowed values are "1m", "3m"/);
    expect(parseError('account: [\n').message).toMatch(/^bt\.yaml:\d+: the file is not valid: YAML syntax error/);
    expect(parseError('account:\n  initialBalance: -5\npositions: []\n').message).toMatch(/^bt\.yaml:2: 'account\.initialBalance' = -5 is not valid: must be greater than 0/);
  });

  it('reports a strategy mistake on the line of its key', () => {
    const text = 'account:\n  initialBalance: 1000\npositions:\n  - symbol: BTCUSDT\n    strategy:\n      name: sma-cross\n      params:\n        fast: 1\n';
    expect(() => validateStrategies(parseBacktestConfig(text, 'bt.yaml'), builtins)).toThrow(/^bt\.yaml:8: 'positions\.0\.strategy\.params\.fast' = 1 is not valid/);
    const twice = 'account:\n  initialBalance: 1000\npositions:\n  - symbol: BTCUSDT\n    strategy: { name: buy-and-hold }\n  - symbol: BTCUSDT\n    strategy: { name: buy-and-hold }\n';
    expect(() => validateStrategies(parseBacktestConfig(twice, 'bt.yaml'), builtins)).toThrow(/^bt\.yaml:6: 'positions\.1\.symbol' = "BTCUSDT" is not valid: position 0 trades it already/);
  });
});

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempHome } from '../../helpers/app.js';
import { makeRows, toCsv, writeZip } from './fixtures.js';

const H = 3_600_000;

/** `atm data import|status` with funding-rate archive files, as a user runs them (the built program). */
describe('atm data with funding files (command line)', () => {
  const tmp = tempHome('atm-cli-funding-');
  const archive = join(tmp.home, 'archive');
  const atm = (...args: string[]) => spawnSync(process.execPath, ['bin/atm.js', '--home', join(tmp.home, 'home'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
    mkdirSync(archive);
  });
  afterAll(() => tmp.cleanup());

  it('imports funding and kline files from one folder, shows funding coverage with its gaps, and names a bad row', () => {
    const T0 = Date.UTC(2024, 2, 1);
    // March: 8-hourly, one funding (the 11th) missing; written without header, with checksum
    const times = Array.from({ length: 93 }, (_, i) => T0 + i * 8 * H + 1).filter((_, i) => i !== 10);
    const csv = times.map((t, i) => `${t},8,${i % 2 ? '-' : ''}0.000${String(10 + i).padStart(5, '0')}`).join('\n') + '\n';
    writeZip(archive, 'DOGEUSDT-fundingRate-2024-03', csv);
    writeZip(archive, 'DOGEUSDT-1m-2024-03-01', toCsv(makeRows(T0, 1440, '1m', 4), '1m', true));

    let r = atm('data', 'import', archive);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('DOGEUSDT-fundingRate-2024-03.zip (DOGEUSDT-fundingRate-2024-03.csv): 92 funding rates, 92 imported, 0 duplicates skipped, checksum ok');
    expect(r.stdout).toContain('DOGEUSDT funding (binance, every 8 h): 2024-03-01 00:00 .. 2024-03-31 16:00, 92 rates 1 gap(s), 1 funding time(s) missing');
    expect(r.stdout).toContain('funding gap after 2024-03-04 00:00, before 2024-03-04 16:00 (1 missing)');
    expect(r.stdout).toContain('DOGEUSDT-1m-2024-03-01.zip (DOGEUSDT-1m-2024-03-01.csv): 1440 rows, 1440 imported');

    r = atm('data', 'import', join(archive, 'DOGEUSDT-fundingRate-2024-03.zip'), '--json');
    expect(r.status).toBe(0);
    const again = JSON.parse(r.stdout) as { funding: { inserted: number; duplicates: number } };
    expect(again.funding).toMatchObject({ inserted: 0, duplicates: 92 });

    r = atm('data', 'status', '--funding', '--json');
    expect(JSON.parse(r.stdout)).toEqual([
      { symbol: 'DOGEUSDT', source: 'binance', first: times[0], firstIso: new Date(times[0]).toISOString(), last: times[91], lastIso: new Date(times[91]).toISOString(), count: 92, intervalHours: 8, gaps: [{ after: times[9], before: times[10], missing: 1 }], missing: 1 },
    ]);
    expect(JSON.parse(r.stdout)[0].firstIso).toBe('2024-03-01T00:00:00.001Z'); // the UTC date beside the epoch time
    r = atm('data', 'status');
    expect(r.stdout).toMatch(/funding rates\nsymbol\s+source\s+interval \(h\)\s+first \(UTC\)\s+last \(UTC\)\s+rates\s+gaps\s+missing\nDOGEUSDT\s+binance\s+8\s+2024-03-01 00:00\s+2024-03-31 16:00\s+92\s+1\s+1/);
    expect(r.stdout).toContain('DOGEUSDT  1m'); // the kline table follows

    const bad = join(archive, 'XRPUSDT-fundingRate-2024-04.csv');
    writeFileSync(bad, 'calc_time,funding_interval_hours,last_funding_rate\n1711929600000,8,0.0001\n1711958400000,8,1e-4\n');
    r = atm('data', 'import', bad);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain(`${bad}: refused, nothing imported: ${bad}: line 3, column 3 (last_funding_rate): rate "1e-4" is not a decimal number`);
    expect(JSON.parse(atm('data', 'status', '--funding', '--json', '--symbol', 'XRPUSDT').stdout)).toEqual([]);
  });
});

import { basename } from 'node:path';
import type { App } from '../../core/app.js';
import type { TFunction } from '../../core/i18n.js';
import { DeepDataService } from '../../core/market/deepService.js';
import { FundingService } from '../../core/market/funding.js';
import { listArchiveFiles } from '../../core/market/importer.js';
import { parseInterval, type Interval } from '../../core/market/klines.js';

/**
 * The Market page's long work, run as jobs (`app.jobs`: the Dashboard lists them, quitting asks):
 * an archive import (files or a folder picked in the file browser) and a kline download. Both go
 * through the facade only, exactly as `atm data import|download` do; the page shows the progress.
 */

/** Imports archive files (or folders) file by file, yielding between files; returns the job id. */
export function startImport(app: App, paths: readonly string[], t: TFunction): string {
  // the label names the file or folder (its last part: the list cuts long labels)
  const what = paths.length === 1 ? basename(paths[0]) || paths[0] : t('market.jobs.files', { count: paths.length });
  const job = app.jobs.start(t('market.jobs.importLabel', { what }));
  void (async () => {
    try {
      // funding-rate archive files (SYMBOL-fundingRate-YYYY-MM) go to the funding store, as
      // `atm data import` does; they are small (a month is about 90 rows): one step, first
      const files = listArchiveFiles(paths);
      const fundingFiles = files.filter((f) => FundingService.isFundingFile(f));
      // aggTrades and bookDepth files go to the deep store, one file per turn of the event loop
      const deepFiles = files.filter((f) => DeepDataService.isDeepFile(f));
      const klineFiles = files.filter((f) => !FundingService.isFundingFile(f) && !DeepDataService.isDeepFile(f));
      const funding = fundingFiles.length > 0 ? app.funding.importArchives(fundingFiles) : undefined;
      let deep: { files: number; inserted: number; duplicates: number; failed: number; error?: string } | undefined;
      for (const file of deepFiles) {
        if (job.signal.aborted) break;
        const one = app.market.deep.importArchives([file]);
        deep ??= { files: 0, inserted: 0, duplicates: 0, failed: 0 };
        deep.files++;
        deep.inserted += one.inserted;
        deep.duplicates += one.duplicates;
        deep.failed += one.failed;
        deep.error ??= one.files.find((f) => f.error)?.error;
        await new Promise((resolve) => setImmediate(resolve));
      }
      const summary = klineFiles.length > 0
        ? await app.market.importArchivesInSlices(klineFiles, { signal: job.signal, onProgress: (done, total) => job.progress(done, total) })
        : undefined;
      let result = summary ? t('market.jobs.importResult', { files: summary.files.length, inserted: summary.inserted, duplicates: summary.duplicates, failed: summary.failed }) : '';
      if (funding) result = [result, t('market.jobs.fundingResult', { files: funding.files.length, inserted: funding.inserted, failed: funding.failed })].filter(Boolean).join('; ');
      if (deep) result = [result, t('deep.jobResult', { files: deep.files, inserted: deep.inserted, failed: deep.failed })].filter(Boolean).join('; ');
      const stored = (summary ? summary.inserted + summary.duplicates : 0) + (funding ? funding.inserted + funding.duplicates : 0) + (deep ? deep.inserted + deep.duplicates : 0);
      const failed = (summary?.failed ?? 0) + (funding?.failed ?? 0) + (deep?.failed ?? 0);
      if (summary?.cancelled || (deep && job.signal.aborted)) job.cancel();
      else if (failed > 0 && stored === 0) job.fail(summary?.files.find((f) => f.error)?.error ?? funding?.files.find((f) => f.error)?.error ?? deep?.error ?? result);
      else job.done(result);
    } catch (error) {
      job.fail(error);
    }
  })();
  return job.id;
}

export interface DownloadRequest {
  symbol: string;
  interval: Interval;
  from?: number;
  to?: number;
}

/** Connects the exchange (if not yet), downloads the klines and stores them; returns the job id. */
export function startDownload(app: App, request: DownloadRequest, t: TFunction): string {
  const job = app.jobs.start(t('market.jobs.downloadLabel', { symbol: request.symbol, interval: request.interval }));
  void (async () => {
    try {
      const venue = await app.connectExchange();
      // auto mode fell back to the local exchange: never store its klines among real ones by accident
      if (venue.simulated && app.exchangeMode !== 'sim') throw new Error(t('data.simulatedFallback'));
      const report = await app.market.download({ ...request, signal: job.signal, onProgress: (p) => job.progress(p.done, p.total) });
      if (report.cancelled) job.cancel();
      else job.done(t('market.jobs.downloadResult', { stored: report.stored, requests: report.requests }));
    } catch (error) {
      job.fail(error);
    }
  })();
  return job.id;
}

/** Parses a form time: YYYY-MM-DD or "YYYY-MM-DD HH:MM" (UTC); blank is undefined; NaN when not a time. */
export function parseFormTime(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}))?$/.exec(s);
  if (!m) return NaN;
  const [, y, mo, d, h, mi] = m;
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31 || Number(h ?? 0) > 23 || Number(mi ?? 0) > 59) return NaN;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0));
}

export const DOWNLOAD_FIELDS = ['symbol', 'interval', 'from', 'to'] as const;
export type DownloadField = (typeof DOWNLOAD_FIELDS)[number];

/** The download form: four text fields, one focused; `request()` checks them. */
export class DownloadForm {
  values: Record<DownloadField, string>;
  focus = 0;
  error: string | undefined;

  constructor(symbol: string, interval: string) {
    this.values = { symbol, interval, from: '', to: '' };
  }

  get field(): DownloadField {
    return DOWNLOAD_FIELDS[this.focus];
  }

  moveFocus(by: number): void {
    this.focus = (this.focus + by + DOWNLOAD_FIELDS.length) % DOWNLOAD_FIELDS.length;
  }

  type(ch: string): void {
    if (ch.length === 1 && ch >= ' ' && ch !== '\x7f') this.values[this.field] += ch;
  }

  backspace(): void {
    this.values[this.field] = this.values[this.field].slice(0, -1);
  }

  /** The request, or sets `error` (an i18n text naming the field) and returns undefined. */
  request(t: TFunction): DownloadRequest | undefined {
    this.error = undefined;
    const symbol = this.values.symbol.trim().toUpperCase();
    if (!/^[A-Z0-9]{2,30}$/.test(symbol)) return this.fail(t('market.download.badSymbol', { value: this.values.symbol }), 0);
    let interval: Interval;
    try {
      interval = parseInterval(this.values.interval.trim());
    } catch {
      return this.fail(t('market.download.badInterval', { value: this.values.interval }), 1);
    }
    const from = parseFormTime(this.values.from);
    if (Number.isNaN(from)) return this.fail(t('market.download.badTime', { field: t('market.download.from'), value: this.values.from }), 2);
    const to = parseFormTime(this.values.to);
    if (Number.isNaN(to)) return this.fail(t('market.download.badTime', { field: t('market.download.to'), value: this.values.to }), 3);
    if (from !== undefined && to !== undefined && from > to) return this.fail(t('market.download.fromAfterTo'), 2);
    return { symbol, interval, from, to };
  }

  private fail(message: string, focus: number): undefined {
    this.error = message;
    this.focus = focus;
    return undefined;
  }
}

import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { AnalysisView } from '../core/analysis/service.js';
import type { StoredCac } from '../core/analysis/repository.js';
import { bindKeys, defineKeys } from './keys.js';
import type { Page, PageContext, PageModule } from './page.js';
import { paint } from './theme.js';
import { chartLayers } from './analysis-overlays.js';
import { CandleChart } from './widgets/candles.js';
import { esc, fit, panel, restyle } from './widgets.js';

export const keys = defineKeys({
  up: { keys: ['k', 'up'], label: 'analysis.keys.up' },
  down: { keys: ['j', 'down'], label: 'analysis.keys.down' },
  focus: { keys: ['f'], label: 'analysis.keys.focus', hint: true },
  open: { keys: ['enter'], label: 'analysis.keys.open', hint: true },
  newCac: { keys: ['n'], label: 'analysis.keys.new', hint: true },
  editCac: { keys: ['e'], label: 'analysis.keys.edit' },
  apply: { keys: ['a'], label: 'analysis.keys.apply', hint: true },
  remove: { keys: ['d'], label: 'analysis.keys.remove' },
  stop: { keys: ['s'], label: 'analysis.keys.stop' },
  left: { keys: ['h', 'left'], label: 'analysis.keys.left' },
  right: { keys: ['l', 'right'], label: 'analysis.keys.right' },
  zoomIn: { keys: ['+', '='], label: 'analysis.keys.zoomIn' },
  zoomOut: { keys: ['-'], label: 'analysis.keys.zoomOut' },
});

/** Output rows the chart shows: the newest ones, as kept by the analysis' worker. */
const CHART_ROWS = 4096;
interface FormField {
  key: string;
  value: string;
}

interface Form {
  kind: 'cac' | 'apply';
  fields: FormField[];
  cursor: number;
  error?: string;
  /** The CAC being edited (cac form) or applied (apply form). */
  cacId?: number;
}

/** "mode=classical,swing=5" → object; "off" or blank → null. */
function parsePip(text: string): Record<string, string> | null {
  const t = text.trim();
  if (t === '' || t.toLowerCase() === 'off') return null;
  const out: Record<string, string> = {};
  for (const part of t.split(',')) {
    const [k, v] = part.split('=');
    if (k.trim() === '' || v === undefined) {
      out[part.trim() || '?'] = '';
      continue;
    }
    out[k.trim()] = v.trim();
  }
  return out;
}

function cacToFormText(c: StoredCac['cac']): { indicators: string; pip: string } {
  const indicators = c.indicators.map((i) => `${i.type}:${Object.entries(i.params).map(([k, v]) => `${k}=${v}`).join(',')}`).join(' ');
  const pip = c.pip ? [`mode=${c.pip.mode}`, ...Object.entries(c.pip.params).map(([k, v]) => `${k}=${v}`)].join(',') : 'off';
  return { indicators, pip };
}

/**
 * Currency Analysis: CACs (list, form with validation), applying one to a symbol, the analyses,
 * and the chart of the selected analysis (candles, overlays, oscillator sub-panels, PIP markers).
 */
export function mount(ctx: PageContext): Page {
  const { app } = ctx;
  const root = blessed.box({ parent: ctx.body, top: 0, left: 0, width: '100%', height: '100%', hidden: true });
  const cacBox = panel(root, { top: 0, left: 0, width: 40, height: '50%', theme: ctx.theme() });
  const listBox = panel(root, { top: '50%', left: 0, width: 40, height: '50%', theme: ctx.theme() });
  const chartBox = panel(root, { top: 0, left: 40, width: '100%-40', height: '100%', theme: ctx.theme() });
  const chart = new CandleChart(ctx.theme());
  chart.attach(chartBox, { top: 1, left: 1, width: '100%-2', height: '100%-2' });
  const info = blessed.box({ parent: chartBox, top: 1, left: 2, right: 2, bottom: 1, tags: true, wrap: true } as Widgets.BoxOptions);
  const formBox = panel(root, { top: 0, left: 40, width: '100%-40', height: '100%', theme: ctx.theme(), hidden: true });

  let cacs: StoredCac[] = [];
  let analyses: AnalysisView[] = [];
  let focus: 'cacs' | 'analyses' = 'cacs';
  let cacCursor = 0;
  let listCursor = 0;
  let viewed: number | undefined;
  let chartReady = false;
  let loading = false;
  let reloadPending = false;
  let form: Form | undefined;
  /** The key that opened the form reaches our keypress listener too (after the shell's): skip it. */
  let skipKey = false;
  let visible = false;
  let destroyed = false;

  async function refresh(): Promise<void> {
    try {
      [cacs, analyses] = await Promise.all([app.analysis.listCacs(), app.analysis.list()]);
    } catch (error) {
      ctx.toast(ctx.t('toast.error', { message: (error as Error).message }), 'error');
    }
    if (destroyed) return;
    cacCursor = Math.min(cacCursor, Math.max(0, cacs.length - 1));
    listCursor = Math.min(listCursor, Math.max(0, analyses.length - 1));
    page.update();
    ctx.markDirty();
  }

  /** Loads the chart of analysis `id`: the newest output rows from its worker and their candles. */
  async function loadChart(id: number): Promise<void> {
    if (loading) {
      reloadPending = true;
      return;
    }
    loading = true;
    try {
      const a = analyses.find((x) => x.id === id);
      const tail = a ? await app.analysis.tail(id, CHART_ROWS) : undefined;
      if (!a || !tail || tail.openTime.length === 0 || viewed !== id) {
        chartReady = false;
        return;
      }
      const n = tail.openTime.length;
      const klines = app.analysis.loadKlines(a.symbol, a.interval, tail.openTime[0], tail.openTime[n - 1]);
      const { overlays, panels, markers } = chartLayers(tail, klines.openTime.subarray(0, klines.length), app.analysis.catalog().indicators);
      chart.setData(klines);
      chart.setOverlays(overlays);
      chart.setPanels(panels);
      chart.setMarkers(markers);
      chart.title = `${a.symbol} ${a.interval} · ${a.cacName}`;
      chartReady = true;
    } catch (error) {
      chartReady = false;
      ctx.toast(ctx.t('toast.error', { message: (error as Error).message }), 'error');
    } finally {
      loading = false;
      if (!destroyed) {
        page.update();
        ctx.markDirty();
        if (reloadPending && viewed !== undefined) {
          reloadPending = false;
          void loadChart(viewed);
        }
      }
    }
  }

  const offChanged = app.bus.on('analysis.changed', () => {
    if (visible) void refresh();
  });
  const offUpdated = app.bus.on('analysis.updated', (e) => {
    if (visible && e.id === viewed) void loadChart(e.id);
  });

  // ---- the form (typed text; the shell pauses global keys while it is open) ----

  function openCacForm(edit?: StoredCac): void {
    const text = edit ? cacToFormText(edit.cac) : { indicators: 'EMA:n=20 BOL:n=20,k=2 DMIXADX:n=14 MFI:n=14', pip: 'mode=classical' };
    form = {
      kind: 'cac', cursor: 0, cacId: edit?.id,
      fields: [{ key: 'name', value: edit?.cac.name ?? '' }, { key: 'indicators', value: text.indicators }, { key: 'pip', value: text.pip }],
    };
    skipKey = true;
    page.update();
  }

  function openApplyForm(c: StoredCac): void {
    form = { kind: 'apply', cursor: 0, cacId: c.id, fields: [{ key: 'symbol', value: 'BTCUSDT' }, { key: 'interval', value: '1m' }] };
    skipKey = true;
    page.update();
  }

  async function submit(): Promise<void> {
    const f = form;
    if (!f) return;
    const value = (key: string) => f.fields.find((x) => x.key === key)!.value;
    try {
      if (f.kind === 'cac') {
        const saved = await app.analysis.saveCac(
          { name: value('name'), indicators: value('indicators').split(/\s+/).filter(Boolean), pip: parsePip(value('pip')) },
          f.cacId,
        );
        ctx.toast(ctx.t('analysis.saved', { name: saved.cac.name }));
      } else {
        const view = await app.analysis.createAnalysis(f.cacId!, value('symbol').trim(), value('interval').trim());
        ctx.toast(ctx.t('analysis.applied', { id: view.id, symbol: view.symbol, count: view.count }));
        viewed = view.id;
        focus = 'analyses';
      }
      form = undefined;
      await refresh();
      if (viewed !== undefined) void loadChart(viewed);
    } catch (error) {
      f.error = (error as Error).message;
      page.update();
      ctx.markDirty();
    }
  }

  const onKey = (ch: string | undefined, key: Widgets.Events.IKeyEventArg) => {
    if (!visible || !form || !key) return;
    if (skipKey) {
      skipKey = false;
      return;
    }
    const f = form;
    const field = f.fields[f.cursor];
    switch (key.full) {
      case 'return':
        return;
      case 'enter':
        void submit();
        return;
      case 'escape':
        form = undefined;
        break;
      case 'up':
      case 'S-tab':
        f.cursor = (f.cursor + f.fields.length - 1) % f.fields.length;
        break;
      case 'down':
      case 'tab':
        f.cursor = (f.cursor + 1) % f.fields.length;
        break;
      case 'backspace':
        field.value = field.value.slice(0, -1);
        break;
      case 'C-u':
        field.value = '';
        break;
      default:
        if (ch && ch.length === 1 && ch >= ' ' && !key.ctrl && !key.meta) field.value += ch;
        else return;
    }
    f.error = undefined;
    page.update();
    ctx.markDirty();
  };
  ctx.screen.on('keypress', onKey);

  function renderForm(): void {
    const { t } = ctx;
    const theme = ctx.theme();
    const f = form!;
    formBox.setLabel(` ${t(f.kind === 'cac' ? (f.cacId ? 'analysis.form.editTitle' : 'analysis.form.newTitle') : 'analysis.form.applyTitle')} `);
    const width = Math.max(10, (formBox.width as number) - 4);
    const lines: string[] = [esc(t(f.kind === 'cac' ? 'analysis.form.cacHelp' : 'analysis.form.applyHelp')), ''];
    f.fields.forEach((field, i) => {
      const label = fit(t(`analysis.form.${field.key}`), 12);
      const shown = field.value.length > width - 16 ? '…' + field.value.slice(field.value.length - (width - 17)) : field.value;
      const line = `${esc(label)}  ${esc(shown)}${i === f.cursor ? '█' : ''}`;
      lines.push(i === f.cursor ? paint(theme, 'accent', `▸ `) + line : `  ${line}`);
    });
    lines.push('');
    if (f.error) lines.push(paint(theme, 'error', esc(t('analysis.form.invalid', { message: f.error })), { bold: true }), '');
    lines.push(paint(theme, 'muted', esc(t('analysis.form.keys'))), '');
    if (f.kind === 'cac') {
      const catalog = app.analysis.catalog();
      lines.push(paint(theme, 'accent', esc(t('analysis.form.catalog'))));
      for (const s of catalog.indicators) {
        lines.push(`${esc(fit(s.type, 11))} ${esc(s.params.map((p) => `${p.name}=${p.default}`).join(','))}  ${paint(theme, 'muted', esc(s.summary))}`);
      }
      lines.push(`${esc(fit('PIP', 11))} ${esc(t('analysis.form.pipModes', { modes: catalog.pip.modes.join(', ') }))}`);
      lines.push(`${' '.repeat(12)}${paint(theme, 'muted', esc(catalog.pip.params.map((p) => `${p.name}=${p.default}`).join(',')))}`);
    }
    formBox.setContent(lines.join('\n'));
  }

  function renderLists(): void {
    const { t } = ctx;
    const theme = ctx.theme();
    const w = 36;
    const sel = (active: boolean, text: string) =>
      active ? (theme.color ? `{${theme.colors.selectedBg}-bg}{${theme.colors.selectedFg}-fg}${text}{/${theme.colors.selectedFg}-fg}{/${theme.colors.selectedBg}-bg}` : `{inverse}${text}{/inverse}`) : text;
    cacBox.setLabel(` ${t('analysis.cacs')}${focus === 'cacs' ? ' ●' : ''} `);
    cacBox.setContent(
      cacs.length === 0
        ? paint(theme, 'muted', esc(t('analysis.noCacs')))
        : cacs.map((c, i) => sel(focus === 'cacs' && i === cacCursor, esc(fit(`${c.cac.name} ${c.cac.indicators.map((x) => x.type).join(' ')}${c.cac.pip ? ' +PIP' : ''}`, w)))).join('\n'),
    );
    listBox.setLabel(` ${t('analysis.analyses')}${focus === 'analyses' ? ' ●' : ''} `);
    listBox.setContent(
      analyses.length === 0
        ? paint(theme, 'muted', esc(t('analysis.noAnalyses')))
        : analyses
            .map((a, i) => {
              const text = fit(`#${a.id} ${a.cacName} ${a.symbol} ${a.interval} ${t(`analysis.states.${a.liveState}`)}${a.id === viewed ? ' ◆' : ''}`, w);
              return sel(focus === 'analyses' && i === listCursor, esc(text));
            })
            .join('\n'),
    );
  }

  function renderChart(): void {
    const { t } = ctx;
    const theme = ctx.theme();
    chart.setTheme(theme);
    chart.labels = { open: t('analysis.chart.open'), high: t('analysis.chart.high'), low: t('analysis.chart.low'), close: t('analysis.chart.close'), volume: t('analysis.chart.volume'), empty: t('analysis.chart.empty') };
    const a = analyses.find((x) => x.id === viewed);
    chartBox.setLabel(` ${a ? t('analysis.chartTitle', { id: a.id, symbol: a.symbol, interval: a.interval, cac: a.cacName }) : t('analysis.chartNone')} `);
    if (viewed !== undefined && chartReady) {
      info.hide();
      chart.element?.show();
      chart.render();
    } else {
      chart.element?.hide();
      info.show();
      const lines = [esc(t('analysis.intro')), ''];
      if (viewed !== undefined) lines.push(paint(theme, 'muted', esc(t(loading ? 'analysis.loading' : 'analysis.noRows'))));
      else lines.push(paint(theme, 'muted', esc(t(analyses.length ? 'analysis.pickAnalysis' : cacs.length ? 'analysis.applyHint' : 'analysis.newHint'))));
      if (a?.error) lines.push('', paint(theme, 'error', esc(a.error)));
      lines.push('', paint(theme, 'muted', esc(t('analysis.headless'))));
      info.setContent(lines.join('\n'));
    }
  }

  const selectedCac = () => cacs[cacCursor];
  const selectedAnalysis = () => analyses[listCursor];

  const page: Page = {
    id: 'analysis',
    bindings: bindKeys(keys, {
      up: () => {
        if (focus === 'cacs') cacCursor = Math.max(0, cacCursor - 1);
        else listCursor = Math.max(0, listCursor - 1);
        page.update();
      },
      down: () => {
        if (focus === 'cacs') cacCursor = Math.min(Math.max(0, cacs.length - 1), cacCursor + 1);
        else listCursor = Math.min(Math.max(0, analyses.length - 1), listCursor + 1);
        page.update();
      },
      focus: () => {
        focus = focus === 'cacs' ? 'analyses' : 'cacs';
        page.update();
      },
      open: () => {
        if (focus === 'cacs') {
          const c = selectedCac();
          if (c) openCacForm(c);
          return;
        }
        const a = selectedAnalysis();
        if (!a) return;
        viewed = a.id;
        chartReady = false;
        page.update();
        void loadChart(a.id);
      },
      newCac: () => openCacForm(),
      editCac: () => {
        const c = selectedCac();
        if (c) openCacForm(c);
      },
      apply: () => {
        const c = selectedCac();
        if (c) openApplyForm(c);
        else ctx.toast(ctx.t('analysis.newHint'), 'error');
      },
      remove: () => {
        void (async () => {
          if (focus === 'cacs') {
            const c = selectedCac();
            if (!c) return;
            await app.analysis.deleteCac(c.id);
            ctx.toast(ctx.t('analysis.deleted', { name: c.cac.name }));
          } else {
            const a = selectedAnalysis();
            if (!a) return;
            await app.analysis.deleteAnalysis(a.id);
            if (viewed === a.id) viewed = undefined;
            ctx.toast(ctx.t('analysis.removed', { id: a.id }));
          }
          await refresh();
        })();
      },
      stop: () => {
        const a = selectedAnalysis();
        if (!a || focus !== 'analyses') return;
        void app.analysis.stopAnalysis(a.id).then(refresh);
      },
      left: () => {
        chart.moveCursor(-1);
        page.update();
      },
      right: () => {
        chart.moveCursor(1);
        page.update();
      },
      zoomIn: () => {
        chart.zoom(1);
        page.update();
      },
      zoomOut: () => {
        chart.zoom(-1);
        page.update();
      },
    }, app.readonly),
    capturesInput: () => form !== undefined,
    show: () => {
      visible = true;
      root.show();
      void app.analysis.resume().then(refresh, (error: unknown) => app.reportError('analysis', error));
      void refresh();
    },
    hide: () => {
      visible = false;
      root.hide();
    },
    update: () => {
      const theme = ctx.theme();
      for (const box of [cacBox, listBox, chartBox, formBox]) restyle(box, theme);
      renderLists();
      if (form) {
        formBox.show();
        chartBox.hide();
        renderForm();
      } else {
        formBox.hide();
        chartBox.show();
        renderChart();
      }
    },
    destroy: () => {
      destroyed = true;
      offChanged();
      offUpdated();
      ctx.screen.removeListener('keypress', onKey);
      root.destroy();
    },
  };
  return page;
}

export const analysis: PageModule = { id: 'analysis', keys, mount };

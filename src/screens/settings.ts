import blessed from 'blessed';
import { LANGUAGES, LOG_LEVELS, THEMES } from '../core/config/schema.js';
import { bindKeys, defineKeys } from './keys.js';
import type { Page, PageContext, PageModule } from './page.js';
import { paint } from './theme.js';
import { esc, fit, panel, restyle } from './widgets.js';

export const keys = defineKeys({
  up: { keys: ['k', 'up'], label: 'keys.up' },
  down: { keys: ['j', 'down'], label: 'keys.down' },
  change: { keys: ['enter', 'space', 'l', 'right'], label: 'keys.change', hint: true },
  changeBack: { keys: ['h', 'left'], label: 'keys.changeBack' },
});

interface Row {
  label: string;
  values: readonly string[];
  current(): string;
  display(value: string): string;
  apply(value: string): Promise<void> | void;
}

/** Settings: language, theme, bell and log level, applied at once and saved to the user config. */
export function mount(ctx: PageContext): Page {
  const { app } = ctx;
  const box = panel(ctx.body, { top: 0, left: 0, width: '100%', height: '100%', theme: ctx.theme(), hidden: true });
  const content = blessed.box({ parent: box, top: 1, left: 2, right: 2, bottom: 1, tags: true });
  let cursor = 0;
  const onOff = (v: string) => ctx.t(v === 'true' ? 'settings.on' : 'settings.off');
  const rows: Row[] = [
    {
      label: 'settings.language', values: LANGUAGES, current: () => app.settings().language,
      display: (v) => ctx.t(`settings.languages.${v}`), apply: (v) => app.setLanguage(v as any),
    },
    {
      label: 'settings.theme', values: THEMES, current: () => app.settings().theme,
      display: (v) => ctx.t(`settings.themes.${v}`), apply: (v) => app.setTheme(v as any),
    },
    {
      label: 'settings.bellTrade', values: ['true', 'false'], current: () => String(app.settings().bellTrade),
      display: onOff, apply: (v) => app.setBell('trade', v === 'true'),
    },
    {
      label: 'settings.bellError', values: ['true', 'false'], current: () => String(app.settings().bellError),
      display: onOff, apply: (v) => app.setBell('error', v === 'true'),
    },
    {
      label: 'settings.logLevel', values: LOG_LEVELS, current: () => app.settings().logLevel,
      display: (v) => v, apply: (v) => app.setLogLevel(v as any),
    },
  ];

  async function cycle(step: number): Promise<void> {
    const row = rows[cursor];
    const index = row.values.indexOf(row.current());
    const next = row.values[(index + step + row.values.length) % row.values.length];
    try {
      await row.apply(next);
      ctx.toast(ctx.t('toast.saved', { what: ctx.t(row.label) }));
    } catch (error) {
      ctx.toast(ctx.t('toast.error', { message: (error as Error).message }), 'error');
    }
    page.update();
    ctx.markDirty();
  }

  const page: Page = {
    id: 'settings',
    bindings: bindKeys(keys, {
      up: () => {
        cursor = (cursor + rows.length - 1) % rows.length;
        page.update();
      },
      down: () => {
        cursor = (cursor + 1) % rows.length;
        page.update();
      },
      change: () => void cycle(1),
      changeBack: () => void cycle(-1),
    }, app.readonly),
    show: () => box.show(),
    hide: () => box.hide(),
    update: () => {
      const { t } = ctx;
      const theme = ctx.theme();
      restyle(box, theme);
      box.setLabel(` ${t('settings.title')} `);
      const lines = [esc(t('settings.intro', { file: app.userConfigFile })), ''];
      rows.forEach((row, i) => {
        const label = fit(t(row.label), 20);
        const value = `‹ ${row.display(row.current())} ›`;
        const line = `${esc(label)}  ${esc(value)}`;
        if (i !== cursor) lines.push(`  ${line}`);
        else if (theme.color) lines.push(`{${theme.colors.selectedBg}-bg}{${theme.colors.selectedFg}-fg}▸ ${line}{/${theme.colors.selectedFg}-fg}{/${theme.colors.selectedBg}-bg}`);
        else lines.push(`{inverse}▸ ${line}{/inverse}`);
      });
      if (!theme.color) lines.push('', paint(theme, 'muted', esc(t('settings.noColor'))));
      content.setContent(lines.join('\n'));
    },
    destroy: () => box.destroy(),
  };
  return page;
}

export const settings: PageModule = { id: 'settings', keys, mount };

import blessed from 'blessed';
import { defineKeys, type KeyMap } from './keys.js';
import type { Page, PageContext, PageId, PageModule } from './page.js';
import { paint } from './theme.js';
import { esc, panel, restyle } from './widgets.js';

/**
 * A page whose backend does not exist yet. It says so in words and shows no numbers: nothing
 * invented. Each such page is replaced by its real module when its issue lands.
 */
export function placeholderPage(id: PageId, headlessCommand: string): PageModule {
  const keys: KeyMap = defineKeys({});
  return {
    id,
    keys,
    mount(ctx: PageContext): Page {
      const box = panel(ctx.body, { top: 0, left: 0, width: '100%', height: '100%', theme: ctx.theme(), hidden: true });
      const text = blessed.box({ parent: box, top: 1, left: 2, right: 2, bottom: 1, tags: true, wrap: true } as any);
      return {
        id,
        bindings: [],
        show: () => box.show(),
        hide: () => box.hide(),
        update: () => {
          const { t } = ctx;
          const theme = ctx.theme();
          restyle(box, theme);
          box.setLabel(` ${t(`pages.${id}.title`)} `);
          text.setContent(
            [
              paint(theme, 'warn', esc(t('placeholder.notBuilt')), { bold: true }),
              '',
              esc(t('placeholder.explain')),
              '',
              paint(theme, 'accent', esc(t('placeholder.planned'))),
              esc(t(`placeholder.${id}`)),
              '',
              paint(theme, 'muted', esc(t('placeholder.headless', { command: headlessCommand }))),
            ].join('\n'),
          );
        },
        destroy: () => box.destroy(),
      };
    },
  };
}

import type { Command } from 'commander';
import { LANGUAGES, type Language } from '../../core/config/schema.js';
import { createI18n } from '../../core/i18n.js';
import { UserError } from '../context.js';

export function register(program: Command): void {
  program
    .command('keys')
    .description("print every page's key bindings (the README's key table is generated with `atm keys --markdown`)")
    .option('--markdown', 'print a Markdown table')
    .option('--lang <language>', 'language of the descriptions (en, ko)', 'en')
    .action(async (options: { markdown?: boolean; lang: string }) => {
      if (!(LANGUAGES as readonly string[]).includes(options.lang)) throw new UserError(`--lang ${JSON.stringify(options.lang)} is not valid: allowed values are ${LANGUAGES.join(', ')}`);
      const [{ PAGES }, { GLOBAL_KEYS }, { displayKey }] = await Promise.all([
        import('../../screens/pages.js'),
        import('../../screens/shell.js'),
        import('../../screens/keys.js'),
      ]);
      const i18n = createI18n(options.lang as Language);
      const t = (key: string) => i18n.t(key, { n: '' }) as string;
      const sections: { title: string; rows: { keys: string; label: string; dangerous: boolean }[] }[] = [];
      const rows = (map: Record<string, { keys: string[]; label: string; dangerous?: boolean }>) =>
        Object.entries(map).map(([id, def]) => ({
          keys: id === 'pages' ? '1 … 9, 0' : def.keys.map(displayKey).join(', '),
          label: t(def.label),
          dangerous: def.dangerous ?? false,
        }));
      sections.push({ title: t('help.global'), rows: rows(GLOBAL_KEYS) });
      for (const page of PAGES) {
        const pageRows = rows(page.keys);
        if (pageRows.length > 0) sections.push({ title: t(`pages.${page.id}.title`), rows: pageRows });
      }
      const out: string[] = [];
      if (options.markdown) {
        out.push('| where | keys | action |', '|---|---|---|');
        for (const section of sections) {
          for (const row of section.rows) out.push(`| ${section.title} | ${row.keys.replace(/\|/g, '\\|')} | ${row.label}${row.dangerous ? ' (not in --readonly)' : ''} |`);
        }
      } else {
        for (const section of sections) {
          out.push(section.title);
          for (const row of section.rows) out.push(`  ${row.keys.padEnd(22)} ${row.label}${row.dangerous ? ' [dangerous]' : ''}`);
        }
      }
      process.stdout.write(out.join('\n') + '\n');
    });
}

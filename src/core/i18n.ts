import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import i18next, { type i18n, type TFunction } from 'i18next';
import { packageRoot } from './paths.js';
import { LANGUAGES, type Language } from './config/schema.js';

export type { TFunction } from 'i18next';

export function loadLocale(language: Language): Record<string, unknown> {
  return JSON.parse(readFileSync(join(packageRoot(), 'locales', `${language}.json`), 'utf8'));
}

/**
 * Creates the i18next instance: every user-visible string comes from locales/<lang>.json.
 * Both languages are loaded up front (synchronously), so switching at runtime is instant.
 */
export function createI18n(language: Language): i18n {
  const instance = i18next.createInstance();
  const resources: Record<string, { translation: Record<string, unknown> }> = {};
  for (const lang of LANGUAGES) resources[lang] = { translation: loadLocale(lang) };
  void instance.init({
    lng: language,
    fallbackLng: 'en',
    resources,
    initAsync: false,
    interpolation: { escapeValue: false },
    returnNull: false,
    showSupportNotice: false,
  } as any);
  return instance;
}

export function fixedT(instance: i18n): TFunction {
  return ((...args: Parameters<TFunction>) => (instance.t as any)(...args)) as TFunction;
}

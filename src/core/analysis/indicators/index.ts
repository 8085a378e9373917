import { BOL } from './bol.js';
import { DMIXADX } from './dmi.js';
import { IVP } from './ivp.js';
import { EMA, SMA, WMA } from './ma.js';
import { MFI } from './mfi.js';
import { MMACD, MMACDLONG, MMACDSHORT } from './mmacd.js';
import { NES } from './nes.js';
import { PSAR } from './psar.js';
import type { IndicatorSpec } from './types.js';
import { WOI } from './woi.js';

export * from './types.js';

/** Every indicator type a CAC can use, by type name. */
export const INDICATORS: Record<string, IndicatorSpec> = Object.fromEntries(
  [SMA, EMA, WMA, PSAR, BOL, IVP, MMACD, MMACDSHORT, MMACDLONG, DMIXADX, MFI, WOI, NES].map((s) => [s.type, s]),
);

export const INDICATOR_TYPES = Object.keys(INDICATORS);

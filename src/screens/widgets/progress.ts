/** `[#####.....]` of `width` cells (brackets included) for done/total; empty when total is unknown. */
export function progressBar(done: number, total: number, width: number): string {
  const inner = Math.max(1, width - 2);
  const filled = total > 0 ? Math.max(0, Math.min(inner, Math.floor((done / total) * inner))) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(inner - filled)}]`;
}

/** A percentage with no decimals ("45%"), "" when the total is unknown. */
export function percentText(done: number, total: number): string {
  return total > 0 ? `${Math.floor(Math.min(1, done / total) * 100)}%` : '';
}

/** Milliseconds as m:ss, or h:mm:ss from an hour on ("" when unknown). */
export function durationText(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

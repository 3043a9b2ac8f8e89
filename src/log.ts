/**
 * The Worker's log lines: one JSON object per event, so that Workers Logs
 * (wrangler.jsonc "observability") can search them by field. A line carries the
 * event's name and its figures (table code, sizes, counts, durations, error
 * codes) and never a secret, a token, a portal address with credentials or a
 * cell value.
 */
export type LogValue = string | number | boolean | null | undefined;

export function logEvent(event: string, fields: Record<string, LogValue> = {}, level: "info" | "error" = "info"): void {
  const line = JSON.stringify({ event, ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
}

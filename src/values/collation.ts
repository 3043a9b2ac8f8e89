/**
 * Text comparison as the portal's database collation does it for filters:
 * case-insensitive for every script (Cyrillic included), and `ё` equal to `е`
 * as Russian users expect.
 */
export function foldText(text: string): string {
  const lower = text.toLowerCase();
  return lower.includes("ё") ? lower.replaceAll("ё", "е") : lower;
}

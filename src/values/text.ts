/**
 * Text comparison as the portal's database collation does it for filters:
 * case-insensitive for every script (Cyrillic included), and `ё` equal to `е`
 * as Russian users expect.
 */
export function foldText(text: string): string {
  return text.toLowerCase().replace(/ё/g, "е");
}

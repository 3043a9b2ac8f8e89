/** Windows-1251 bytes for Cyrillic text: what Excel writes on a Russian Windows (no encoder ships for it). */
export function cp1251(text: string): Uint8Array {
  return Uint8Array.from(
    [...text].map((ch) => {
      const c = ch.codePointAt(0)!;
      if (c < 0x80) return c;
      if (c >= 0x410 && c <= 0x44f) return c - 0x410 + 0xc0;
      if (c === 0x401) return 0xa8;
      if (c === 0x451) return 0xb8;
      if (c === 0xa0) return 0xa0;
      throw new Error(`no Windows-1251 byte for ${ch}`);
    }),
  );
}

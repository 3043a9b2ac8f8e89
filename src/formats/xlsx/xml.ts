/**
 * Streaming XML for workbook parts, through saxes: well-formedness errors,
 * no DTD (a `<!DOCTYPE` is refused: Excel never writes one, and entity
 * expansion is how XML bombs work), strict UTF-8. Elements are told by their
 * local name (`x:c` and `c` alike: some producers prefix the main namespace).
 */
import { SaxesParser } from "saxes";
import { AppError } from "../../errors";
import type { Bytes } from "../../model";
import { malformed } from "./zip";

export interface XmlHandlers {
  open?(name: string, attributes: Record<string, string>): void;
  close?(name: string): void;
  text?(text: string): void;
}

/** One text run or attribute never reaches this many characters in a real part (Excel's cell limit is 32,767). */
export const MAX_OPEN_CHARS = 16 * 1024 * 1024;

const local = (name: string) => {
  const at = name.indexOf(":");
  return at < 0 ? name : name.slice(at + 1);
};

/** Text is given to the parser in slices of this many characters at most, so that `full` is asked often. */
const SLICE_CHARS = 1024;

/**
 * Parses one part. Yields after each chunk, so that a caller collecting rows
 * in its handlers can hand them on in batches while the part streams; and
 * within a chunk whenever `full()` says the caller holds enough (a chunk of
 * 64 KB can hold thousands of rows, and a row of one cell at XFD is 16,384
 * wide).
 */
export async function* parseXml(
  bytes: Bytes,
  part: string,
  handlers: XmlHandlers,
  full?: () => boolean,
): AsyncGenerator<void, void, undefined> {
  const parser = new SaxesParser({ position: false });
  // Characters since the last element started: saxes holds an unfinished text or tag in memory.
  let open = 0;
  parser.on("doctype", () => {
    throw malformed(`its part ${part} has a <!DOCTYPE> (Excel never writes one; DTDs are refused)`);
  });
  parser.on("opentag", (tag) => {
    open = 0;
    handlers.open?.(local(tag.name), tag.attributes as Record<string, string>);
  });
  if (handlers.close) {
    const close = handlers.close;
    parser.on("closetag", (tag) => close(local(tag.name)));
  }
  if (handlers.text) parser.on("text", handlers.text);
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  const write = (text: string) => {
    try {
      parser.write(text);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw malformed(`its part ${part} is not well-formed XML (${(err as Error).message})`);
    }
  };
  const decode = (chunk?: Uint8Array) => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw malformed(`its part ${part} is not valid UTF-8`);
    }
  };
  try {
    for await (const chunk of bytes) {
      const text = decode(chunk);
      open += text.length;
      if (open > MAX_OPEN_CHARS) throw malformed(`its part ${part} has a text or tag longer than ${MAX_OPEN_CHARS} characters`);
      if (!full || text.length <= SLICE_CHARS) write(text);
      else
        for (let at = 0; at < text.length; ) {
          let end = Math.min(text.length, at + SLICE_CHARS);
          const last = text.charCodeAt(end - 1);
          if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--; // a surrogate pair stays whole
          write(text.slice(at, end));
          at = end;
          if (at < text.length && full()) yield;
        }
      yield;
    }
    write(decode());
    try {
      parser.close();
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw malformed(`its part ${part} ends early (${(err as Error).message})`);
    }
    yield;
  } finally {
    await bytes.return(undefined);
  }
}

/** Parses a whole (small) part. */
export async function readXml(bytes: Bytes, part: string, handlers: XmlHandlers): Promise<void> {
  for await (const _ of parseXml(bytes, part, handlers));
}

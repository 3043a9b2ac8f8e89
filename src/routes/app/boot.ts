/**
 * The JSON the Worker puts into the app page and the page script reads
 * (frame.ts writes it, app/main.ts parses it; never executed). Types only,
 * so the browser bundle can share them without pulling in Worker code.
 */
import type { Lang } from "./messages";

/** One line of a registration summary as the page shows it (register/register.ts SummaryLine on the wire). */
export interface SummaryLine {
  object: string;
  outcome: string;
  detail?: string;
  table?: string;
  changes?: { added: string[]; removed: string[]; retyped: string[] };
}

export interface Boot {
  lang: Lang;
  session: string;
  expires: number;
  portal: string;
  member: string;
  /** The file picker's `accept`: every table extension the Worker reads (formats/registry.ts), and `.gz`. */
  accept: string;
  /** The first install's registration, when this open did it. */
  install?: { lines: SummaryLine[]; failed: boolean };
}

/**
 * Filter keys: `[!]op FIELD`. Longest operators first, so `>=` is not read
 * as `>` followed by a field called `=DATE`.
 */
import { AppError } from "../errors";

export type Operator = "eq" | "in" | "contains" | "like" | "between" | "gt" | "ge" | "lt" | "le";

const OPERATORS: [string, Operator][] = [
  ["><", "between"],
  [">=", "ge"],
  ["<=", "le"],
  ["=%", "like"],
  ["%=", "like"],
  [">", "gt"],
  ["<", "lt"],
  ["=", "eq"],
  ["%", "contains"],
  ["@", "in"],
];

const OPERATOR_CHARS = /^[!<>=%@~^$*]/;

export interface ParsedKey {
  negate: boolean;
  op: Operator;
  field: string;
}

export function parseKey(key: string, path: string): ParsedKey {
  let rest = key;
  const negate = rest.startsWith("!");
  if (negate) rest = rest.slice(1);
  let op: Operator = "eq"; // no operator: equality, as in Bitrix filters
  for (const [prefix, name] of OPERATORS) {
    if (rest.startsWith(prefix)) {
      op = name;
      rest = rest.slice(prefix.length);
      break;
    }
  }
  if (rest === "" || OPERATOR_CHARS.test(rest)) {
    throw new AppError(
      "FILTER_INVALID",
      `Filter key ${path} has an unknown operator or no field: "${key}". A key is [!]<operator><FIELD> with an operator among = % =% %= >< > >= < <= @ (or none).`,
    );
  }
  return { negate, op, field: rest };
}

/**
 * fwknop's line rules for fwknopd.conf, access.conf and %include_keys files.
 *
 * Upstream reads each line with `sscanf("%s %[^;\n\r]")` after a first-character comment test, so:
 * - a line is skipped only when its very first character is `#`, `;`, CR or LF (an indented `#`
 *   is a variable called "#");
 * - the name is the first run of non-whitespace (leading whitespace is skipped);
 * - the value starts after the following whitespace and ends before the first `;`, CR or LF;
 * - trailing whitespace of the value is trimmed (2.6.11 behaviour; 2.6.10 kept it);
 * - a line with a name but no value is "invalid" (a warning in fwknopd.conf, fatal in access.conf,
 *   so the caller decides); a whitespace-only line is skipped (upstream access.conf dies on it).
 */

export interface ConfigLine {
  name: string;
  value: string;
  file: string;
  line: number;
}

export interface TokenizeOptions {
  /** access.conf: cut the name at its last `:` (`SOURCE:` works like `SOURCE`). */
  stripNameColon?: boolean;
  /** Called for each line that has a name but no value (line text without its newline). */
  onInvalid?: (line: number, text: string) => void;
}

/** C isspace() for the ASCII whitespace characters sscanf skips. */
export function isCSpace(ch: string | undefined): boolean {
  return ch === " " || ch === "\t" || ch === "\n" || ch === "\v" || ch === "\f" || ch === "\r";
}

function isCommentStart(ch: string | undefined): boolean {
  return ch === undefined || ch === "#" || ch === ";" || ch === "\r" || ch === "\n" || ch === "\0";
}

export function tokenizeConfig(
  text: string,
  file: string,
  opts: TokenizeOptions = {},
): ConfigLine[] {
  const out: ConfigLine[] = [];
  const lines = text.split("\n");
  // A final newline does not start another line.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    // C strings end at the first NUL byte.
    const nul = raw.indexOf("\0");
    const full = nul >= 0 ? raw.slice(0, nul) : raw;
    if (isCommentStart(full[0])) return;
    let pos = 0;
    while (pos < full.length && isCSpace(full[pos])) pos++;
    const nameStart = pos;
    while (pos < full.length && !isCSpace(full[pos])) pos++;
    let name = full.slice(nameStart, pos);
    while (pos < full.length && isCSpace(full[pos])) pos++;
    let end = pos;
    while (end < full.length && full[end] !== ";" && full[end] !== "\r" && full[end] !== "\n") {
      end++;
    }
    let value = full.slice(pos, end);
    while (value.length > 0 && isCSpace(value[value.length - 1])) value = value.slice(0, -1);
    // Whitespace-only lines are fatal in upstream access.conf; we treat them as blank lines.
    if (name === "") return;
    if (value === "") {
      opts.onInvalid?.(lineNo, full.replace(/\r$/, ""));
      return;
    }
    if (opts.stripNameColon) {
      const colon = name.lastIndexOf(":");
      if (colon >= 0) name = name.slice(0, colon);
    }
    out.push({ name, value, file, line: lineNo });
  });
  return out;
}

/**
 * C strtol(text, &end, 10) as fwknop uses it: leading whitespace, optional sign, decimal digits;
 * whatever follows the digits is ignored and no digits at all means 0. `trailing` tells the caller
 * that characters were ignored so it can warn.
 */
export function parseCInt(text: string): { value: number; trailing: boolean } {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)/.exec(text);
  const digits = m?.[2] ?? "";
  const consumed = digits === "" ? 0 : (m?.[0].length ?? 0);
  const magnitude = digits === "" ? 0 : Number(digits);
  return { value: m?.[1] === "-" ? -magnitude : magnitude, trailing: consumed < text.length };
}

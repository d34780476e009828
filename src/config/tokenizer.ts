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

/**
 * fwknop reads these files with fgets() into a 1024-byte buffer (MAX_LINE_LEN), so a physical
 * line of 1023 characters or more arrives in pieces, each counted as a line of its own: the rest
 * of an over-long `KEY` line becomes a name without a value ("Invalid access file entry"), and
 * the line numbers after it shift. We read them the same way.
 */
const FGETS_CHUNK = 1023;

function fgetsLines(text: string): { raw: string; line: number }[] {
  const physical = text.split("\n");
  const endsWithNewline = physical.length > 0 && physical[physical.length - 1] === "";
  // A final newline does not start another line.
  if (endsWithNewline) physical.pop();
  const out: { raw: string; line: number }[] = [];
  physical.forEach((raw, i) => {
    const hasNewline = i < physical.length - 1 || endsWithNewline;
    let rest = raw;
    while (rest.length >= FGETS_CHUNK) {
      out.push({ raw: rest.slice(0, FGETS_CHUNK), line: out.length + 1 });
      rest = rest.slice(FGETS_CHUNK);
    }
    if (rest.length > 0 || hasNewline || raw.length === 0) {
      out.push({ raw: rest, line: out.length + 1 });
    }
  });
  return out;
}

export function tokenizeConfig(
  text: string,
  file: string,
  opts: TokenizeOptions = {},
): ConfigLine[] {
  const out: ConfigLine[] = [];
  for (const { raw, line: lineNo } of fgetsLines(text)) {
    // C strings end at the first NUL byte.
    const nul = raw.indexOf("\0");
    const full = nul >= 0 ? raw.slice(0, nul) : raw;
    if (isCommentStart(full[0])) continue;
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
    if (name === "") continue;
    if (value === "") {
      opts.onInvalid?.(lineNo, full.replace(/\r$/, ""));
      continue;
    }
    if (opts.stripNameColon) {
      const colon = name.lastIndexOf(":");
      if (colon >= 0) name = name.slice(0, colon);
    }
    out.push({ name, value, file, line: lineNo });
  }
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

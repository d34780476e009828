/**
 * The one escaping function for text that came from a packet (or anything else an outsider
 * chose) before it goes into a log line, in every sink (stderr, syslog, JSON): a command message
 * with a newline must not forge a second "Added access rule …" line, and terminal escape
 * sequences must not reach an operator's terminal. Control characters (C0, DEL, C1) and the
 * Unicode line/paragraph separators become `\n`, `\r`, `\t` or `\xHH` / `\uHHHH`; a backslash
 * becomes `\\`, so an escaped line can be read back without ambiguity. Printable text (ASCII or
 * not) is left as it is.
 */
const NAMED: Readonly<Record<string, string>> = {
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\\": "\\\\",
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\x00-\x1f\x7f-\x9f\\\u2028\u2029]/g;

export function escapeLogText(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/**
 * ~/.fwknoprc as fwknop 2.6.10 reads and writes it (spec §13.3): `[name]` stanzas (names compared
 * case-insensitively, whitespace around the brackets allowed), `NAME value` lines whose value
 * ends at the first space, tab, `;`, `#`, CR or LF, names optionally ending in `:`. Only the lines
 * of the stanzas in use are checked, so a broken stanza elsewhere does not stop the client.
 *
 * Writing keeps every line we do not own (comments, other stanzas) and lays out the variables
 * it writes as upstream does: name left-justified to 24 columns, four spaces, value.
 */

export type RcLine =
  | { kind: "blank"; line: number; text: string }
  | { kind: "stanza"; line: number; text: string; name: string }
  | { kind: "entry"; line: number; text: string; name: string; value: string }
  | { kind: "invalid"; line: number; text: string };

export interface RcStanza {
  name: string;
  /** Line number of the `[name]` header. */
  line: number;
  /** Entries and invalid lines of the stanza, in file order. */
  lines: RcLine[];
}

/** Lines skipped without a look, by their first character (as fwknopd.conf treats them). */
function isCommentLine(text: string): boolean {
  const c = text[0];
  return c === undefined || c === "#" || c === ";" || c === "\r" || c === "\n";
}

function isBlank(ch: string | undefined): boolean {
  return ch === " " || ch === "\t";
}

const VALUE_END = new Set([" ", "\t", ";", "#", "\r", "\n"]);

/** Classifies one line (without its newline). */
export function classifyRcLine(text: string, line: number): RcLine {
  if (isCommentLine(text)) return { kind: "blank", line, text };
  let i = 0;
  while (isBlank(text[i])) i++;
  if (i >= text.length) return { kind: "blank", line, text };
  if (text[i] === "[") {
    const close = text.indexOf("]", i + 1);
    if (close > i + 1) return { kind: "stanza", line, text, name: text.slice(i + 1, close) };
    return { kind: "invalid", line, text };
  }
  const nameStart = i;
  while (i < text.length && !isBlank(text[i]) && text[i] !== "\r") i++;
  let name = text.slice(nameStart, i);
  while (isBlank(text[i])) i++;
  const valueStart = i;
  while (i < text.length && !VALUE_END.has(text[i] as string)) i++;
  const value = text.slice(valueStart, i);
  if (value === "") return { kind: "invalid", line, text };
  if (name.endsWith(":")) name = name.slice(0, -1);
  return { kind: "entry", line, text, name, value };
}

function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export function parseFwknoprc(text: string): RcStanza[] {
  const stanzas: RcStanza[] = [];
  let current: RcStanza | undefined;
  splitLines(text).forEach((raw, i) => {
    const l = classifyRcLine(raw, i + 1);
    if (l.kind === "stanza") {
      current = { name: l.name, line: l.line, lines: [] };
      stanzas.push(current);
    } else if (l.kind !== "blank" && current) {
      current.lines.push(l);
    }
  });
  return stanzas;
}

export function findStanza(stanzas: readonly RcStanza[], name: string): RcStanza | undefined {
  const lower = name.toLowerCase();
  // Upstream applies the first stanza of that name.
  return stanzas.find((s) => s.name.toLowerCase() === lower);
}

/** One `NAME value` line in upstream's layout. */
export function formatRcEntry(name: string, value: string): string {
  return `${name.padEnd(24)}    ${value}`;
}

export interface StanzaUpdate {
  stanza: string;
  /** Variables to write, in the order to write them. */
  entries: readonly (readonly [name: string, value: string])[];
  /** Replace the whole stanza instead of merging into it (--force-stanza). */
  replace: boolean;
  /**
   * Asked before an existing variable in `critical` is overwritten during a merge; false keeps
   * the old line.
   */
  confirm: (name: string) => boolean;
  critical: ReadonlySet<string>;
  /**
   * The other spelling of the same secret (KEY ↔ KEY_BASE64, …): writing one asks about an
   * existing line of the other, and a yes removes that line, so no stale secret stays behind.
   */
  twins?: ReadonlyMap<string, string>;
  /** Told about every variable actually written (C's "Updating param" lines). */
  onWrite?: (name: string, value: string) => void;
}

/** Returns the new file text with the stanza created, merged or replaced. */
export function updateFwknoprc(text: string, u: StanzaUpdate): string {
  const lines = splitLines(text);
  const classified = lines.map((l, i) => classifyRcLine(l, i + 1));
  const lower = u.stanza.toLowerCase();
  const start = classified.findIndex((l) => l.kind === "stanza" && l.name.toLowerCase() === lower);
  const fresh = u.entries.map(([n, v]) => formatRcEntry(n, v));
  const wrote = (entries: readonly (readonly [string, string])[]) => {
    for (const [n, v] of entries) u.onWrite?.(n, v);
  };
  if (start < 0) {
    wrote(u.entries);
    const out = [...lines];
    if (out.length > 0 && out[out.length - 1]?.trim() !== "") out.push("");
    out.push(`[${u.stanza}]`, ...fresh);
    return `${out.join("\n")}\n`;
  }
  let end = classified.findIndex((l, i) => i > start && l.kind === "stanza");
  if (end < 0) end = classified.length;
  // Trailing blank lines and comments stay with the gap before the next stanza.
  let bodyEnd = end;
  while (bodyEnd > start + 1 && classified[bodyEnd - 1]?.kind === "blank") bodyEnd--;

  let body: string[];
  if (u.replace) {
    body = fresh;
    wrote(u.entries);
  } else {
    const pending = new Map(u.entries.map(([n, v]) => [n, v]));
    const written: [string, string][] = [];
    body = [];
    for (let i = start + 1; i < bodyEnd; i++) {
      const l = classified[i] as RcLine;
      const twin = l.kind === "entry" ? u.twins?.get(l.name) : undefined;
      if (l.kind === "entry" && pending.has(l.name)) {
        const value = pending.get(l.name) as string;
        pending.delete(l.name);
        const keep = u.critical.has(l.name) && l.value !== value && !u.confirm(l.name);
        body.push(keep ? l.text : formatRcEntry(l.name, value));
        if (!keep) written.push([l.name, value]);
      } else if (l.kind === "entry" && twin !== undefined && pending.has(twin)) {
        if (!u.confirm(l.name)) body.push(l.text);
      } else {
        body.push(l.text);
      }
    }
    for (const [n, v] of pending) {
      body.push(formatRcEntry(n, v));
      written.push([n, v]);
    }
    wrote(written);
  }
  const out = [...lines.slice(0, start + 1), ...body, ...lines.slice(bodyEnd)];
  return `${out.join("\n")}\n`;
}

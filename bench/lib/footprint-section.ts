/**
 * The "Start-up and footprint" section of docs/benchmarks.md belongs to bench/footprint.ts, the
 * rest to bench/run.ts. Each rewrites only its own part: the section sits between these markers,
 * and bench/run.ts carries it over when it renders the file anew.
 */
const BEGIN = "<!-- footprint:begin (bench/footprint.ts) -->";
const END = "<!-- footprint:end -->";

/** The marked block of `doc` (markers included), if any. */
export function footprintSection(doc: string): string | undefined {
  const b = doc.indexOf(BEGIN);
  const e = doc.indexOf(END);
  return b >= 0 && e > b ? doc.slice(b, e + END.length) : undefined;
}

/** `doc` with its footprint section replaced by `md` (appended when it has none). */
export function withFootprintSection(doc: string, md: string): string {
  const block = `${BEGIN}\n${md.trimEnd()}\n${END}`;
  const old = footprintSection(doc);
  return old !== undefined ? doc.replace(old, () => block) : `${doc.trimEnd()}\n\n${block}\n`;
}

/** A freshly rendered benchmarks.md keeps the footprint section of the previous one. */
export function keepFootprintSection(previous: string, rendered: string): string {
  const old = footprintSection(previous);
  return old === undefined ? rendered : `${rendered.trimEnd()}\n\n${old}\n`;
}

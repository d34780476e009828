/**
 * A getopt_long work-alike: the C client parses its argv with glibc getopt_long, so scripts
 * rely on its rules — clustered short flags (`-vT`), attached or separate arguments (`-A22`,
 * `-A 22`), `--name=value`, unambiguous long-option prefixes (`--key-rij`), non-options left
 * in place, and `--` ending option processing. Error texts are glibc's, which operators know.
 */

export interface OptionSpec {
  /** Long name without the leading dashes. */
  readonly long: string;
  /** Single-letter alias, if any. */
  readonly short?: string;
  readonly takesArg: boolean;
  /** With takesArg false: `--name=value` is still accepted (getopt_long's optional_argument). */
  readonly optionalArg?: boolean;
  /**
   * Our addition to upstream's option set: it never makes a prefix ambiguous that upstream
   * resolves (or calls ambiguous with its own list), so `--ver` still reads as upstream's.
   */
  readonly extension?: boolean;
  /** Identifies the option to the caller; several long names may share one id (aliases). */
  readonly id: string;
}

export interface ParsedOption {
  readonly id: string;
  /** The spelling the user typed, e.g. `-A` or `--access`, for error messages. */
  readonly spelling: string;
  readonly value?: string;
}

export type GetoptResult =
  | { ok: true; options: ParsedOption[]; operands: string[] }
  | { ok: false; error: string };

/** Parses `argv` (without the program name). Errors carry glibc's wording, prefixed by `prog`. */
export function getoptLong(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  prog: string,
): GetoptResult {
  const options: ParsedOption[] = [];
  const operands: string[] = [];
  const shorts = new Map<string, OptionSpec>();
  for (const s of specs) if (s.short) shorts.set(s.short, s);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const found = lookupLong(name, specs);
      if (found.kind === "none")
        return { ok: false, error: `${prog}: unrecognized option '${arg}'` };
      if (found.kind === "ambiguous") {
        const list = found.names.map((n) => `'--${n}'`).join(" ");
        return {
          ok: false,
          error: `${prog}: option '--${name}' is ambiguous; possibilities: ${list}`,
        };
      }
      const spec = found.spec;
      const spelling = `--${spec.long}`;
      if (!spec.takesArg) {
        if (eq >= 0 && !spec.optionalArg)
          return { ok: false, error: `${prog}: option '${spelling}' doesn't allow an argument` };
        options.push(
          eq >= 0 ? { id: spec.id, spelling, value: arg.slice(eq + 1) } : { id: spec.id, spelling },
        );
        continue;
      }
      if (eq >= 0) {
        options.push({ id: spec.id, spelling, value: arg.slice(eq + 1) });
        continue;
      }
      const next = argv[i + 1];
      if (next === undefined)
        return { ok: false, error: `${prog}: option '${spelling}' requires an argument` };
      options.push({ id: spec.id, spelling, value: next });
      i++;
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const ch = arg[j] as string;
        const spec = shorts.get(ch);
        if (!spec) return { ok: false, error: `${prog}: invalid option -- '${ch}'` };
        const spelling = `-${ch}`;
        if (!spec.takesArg) {
          options.push({ id: spec.id, spelling });
          continue;
        }
        if (j + 1 < arg.length) {
          options.push({ id: spec.id, spelling, value: arg.slice(j + 1) });
        } else {
          const next = argv[i + 1];
          if (next === undefined)
            return { ok: false, error: `${prog}: option requires an argument -- '${ch}'` };
          options.push({ id: spec.id, spelling, value: next });
          i++;
        }
        break;
      }
      continue;
    }
    // glibc permutes non-options to the end; the client ignores them, we keep them for callers.
    operands.push(arg);
  }
  return { ok: true, options, operands };
}

type LongLookup =
  | { kind: "exact" | "prefix"; spec: OptionSpec }
  | { kind: "ambiguous"; names: string[] }
  | { kind: "none" };

function lookupLong(name: string, specs: readonly OptionSpec[]): LongLookup {
  const exact = specs.find((s) => s.long === name);
  if (exact) return { kind: "exact", spec: exact };
  const matching = name === "" ? [] : specs.filter((s) => s.long.startsWith(name));
  const upstream = matching.filter((s) => !s.extension);
  const candidates = upstream.length > 0 ? upstream : matching;
  const first = candidates[0];
  if (!first) return { kind: "none" };
  // glibc only calls a prefix ambiguous when the candidates would act differently.
  const distinct = candidates.some((c) => c.id !== first.id || c.takesArg !== first.takesArg);
  if (distinct) return { kind: "ambiguous", names: candidates.map((c) => c.long) };
  return { kind: "prefix", spec: first };
}

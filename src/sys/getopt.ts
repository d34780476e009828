/**
 * GNU getopt_long semantics for a flat option table, as fwknop's C tools parse argv:
 * bundled short flags (`-vv`), `-ofile` and `-o file`, `--long=value` and `--long value`,
 * unambiguous long-option prefixes (`--acc` for `--access`), and `--` ending options.
 */
export interface OptionDef {
  /** Long name without dashes, e.g. "access-file". */
  long: string;
  /** Single-letter short form, if any. */
  short?: string;
  /** True when the option takes a value. */
  arg: boolean;
}

export interface ParsedOption {
  long: string;
  value?: string;
}

export interface ParsedArgv {
  options: ParsedOption[];
  positionals: string[];
}

export class GetoptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GetoptError";
  }
}

export function getopt(argv: readonly string[], table: readonly OptionDef[]): ParsedArgv {
  const options: ParsedOption[] = [];
  const positionals: string[] = [];
  const byShort = new Map(table.filter((o) => o.short).map((o) => [o.short as string, o]));
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    const next = (name: string): string => {
      const v = argv[++i];
      if (v === undefined) throw new GetoptError(`option '${name}' requires an argument`);
      return v;
    };
    if (word === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (word.startsWith("--")) {
      const eq = word.indexOf("=");
      const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
      const def = findLong(name, table);
      if (def.arg) {
        options.push({
          long: def.long,
          value: eq < 0 ? next(`--${def.long}`) : word.slice(eq + 1),
        });
      } else {
        if (eq >= 0) throw new GetoptError(`option '--${def.long}' doesn't allow an argument`);
        options.push({ long: def.long });
      }
    } else if (word.startsWith("-") && word.length > 1) {
      for (let j = 1; j < word.length; j++) {
        const ch = word[j] as string;
        const def = byShort.get(ch);
        if (!def) throw new GetoptError(`invalid option -- '${ch}'`);
        if (def.arg) {
          const rest = word.slice(j + 1);
          options.push({ long: def.long, value: rest !== "" ? rest : next(`-${ch}`) });
          break;
        }
        options.push({ long: def.long });
      }
    } else {
      positionals.push(word);
    }
  }
  return { options, positionals };
}

function findLong(name: string, table: readonly OptionDef[]): OptionDef {
  const exact = table.find((o) => o.long === name);
  if (exact) return exact;
  const candidates = table.filter((o) => o.long.startsWith(name));
  if (candidates.length === 1 && name !== "") return candidates[0] as OptionDef;
  if (candidates.length > 1) {
    throw new GetoptError(
      `option '--${name}' is ambiguous; possibilities: ${candidates.map((o) => `'--${o.long}'`).join(" ")}`,
    );
  }
  throw new GetoptError(`unrecognized option '--${name}'`);
}

/**
 * A recording stand-in for pfctl(8) that keeps state (see standin-state.ts), for the pf backend's
 * end-to-end tests on Linux. It understands the calls fwknopd makes — `-s Anchor`,
 * `-a A -s rules`, `-a A -f -`, `-a A -F all`, `-s rules` — and prints anchor rules the way pfctl
 * does (protocol names, `port = N`, `flags S/SA` for TCP, quoted labels), so the parser is fed
 * the real shape. Usage: pfctl-standin --state FILE [pfctl args]; `--state FILE link NAME`
 * links an anchor (what `anchor "NAME"` in pf.conf does).
 */
import { fail, readStdin, standinCall } from "./standin-state.js";

interface PfState {
  linked: string[];
  anchors: Record<string, string[]>;
}

const call = standinCall<PfState>(process.argv.slice(2), () => ({ linked: [], anchors: {} }));
const { args, state } = call;
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const anchor = flag("-a");

const PROTO = { "6": "tcp", "17": "udp", tcp: "tcp", udp: "udp" } as Record<string, string>;

/** pfctl's own rendering of a loaded rule; a line it cannot parse is a syntax error. */
function normalise(line: string, n: number): string {
  const m =
    /^pass in quick proto (\S+) from (\S+) to (\S+) port (?:= )?(\d+)(?: flags \S+)? keep state label "?([^"\s]+)"?$/.exec(
      line.trim(),
    );
  const proto = PROTO[m?.[1] ?? ""];
  if (!m || !proto) fail(`stdin:${n}: syntax error`);
  const flags = proto === "tcp" ? " flags S/SA" : "";
  return `pass in quick proto ${proto} from ${m[2]} to ${m[3]} port = ${m[4]}${flags} keep state label "${m[5]}"`;
}

if (args[0] === "link" && args[1]) {
  if (!state.linked.includes(args[1])) state.linked.push(args[1]);
  call.save();
} else if (flag("-s") === "Anchor") {
  process.stdout.write(state.linked.map((a) => `  ${a}\n`).join(""));
} else if (flag("-s") === "rules") {
  if (anchor === undefined) {
    process.stdout.write(state.linked.map((a) => `anchor "${a}" all\n`).join(""));
  } else {
    process.stdout.write((state.anchors[anchor] ?? []).map((l) => `${l}\n`).join(""));
  }
} else if (anchor !== undefined && flag("-f") === "-") {
  const lines = readStdin()
    .split("\n")
    .filter((l) => l.trim() !== "");
  state.anchors[anchor] = lines.map((l, i) => normalise(l, i + 1));
  call.save();
} else if (anchor !== undefined && flag("-F") === "all") {
  const had = state.anchors[anchor]?.length ?? 0;
  delete state.anchors[anchor];
  call.save();
  process.stderr.write(`rules cleared\n${had} states cleared\n`);
} else {
  fail(`pfctl stand-in: unsupported arguments: ${args.join(" ")}`, 64);
}

/**
 * A recording stand-in for ipfw(8) (FreeBSD syntax) that keeps state (see standin-state.ts), for
 * the ipfw backend's end-to-end tests on Linux: numbered rules in sets, disabled sets, and
 * dynamic states per rule number. It understands the calls fwknopd makes (`add`, `set move rule`,
 * `set disable`, `set N delete M`, `delete set N`, `[-d] [-S] [-T] [set N] list`) and prints rules
 * as ipfw does (`allow tcp from A to me dst-port 22 setup keep-state // _exp_…`). Two calls of its
 * own stand in for traffic: `_dyn N` gives rule N a dynamic state, `_undyn N` lets it time out.
 */
import { fail, standinCall } from "./standin-state.js";

interface IpfwRule {
  num: number;
  set: number;
  body: string;
}
interface IpfwState {
  rules: IpfwRule[];
  disabled: number[];
  dynamic: number[];
}

const call = standinCall<IpfwState>(process.argv.slice(2), () => ({
  rules: [],
  disabled: [],
  dynamic: [],
}));
const { state } = call;
const opts = new Set<string>();
let args = call.args;
while (args[0]?.startsWith("-")) {
  opts.add(args[0]);
  args = args.slice(1);
}
const num = (s: string | undefined) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`ipfw: illegal rule number "${s}"`, 64);
  return n;
};
const PROTO = { "6": "tcp", "17": "udp", tcp: "tcp", udp: "udp" } as Record<string, string>;

function list(set: number | undefined): void {
  const rules = state.rules
    .filter((r) => set === undefined || r.set === set)
    .sort((a, b) => a.num - b.num);
  const pad = (n: number) => String(n).padStart(5, "0");
  const out = rules.map(
    (r) =>
      `${pad(r.num)} ${opts.has("-T") ? "0 " : ""}${opts.has("-S") ? `set ${r.set} ` : ""}${r.body}\n`,
  );
  if (opts.has("-d")) {
    const dyn = state.dynamic.filter((n) => rules.some((r) => r.num === n));
    out.push(`## Dynamic rules (${dyn.length}):\n`);
    for (const n of dyn)
      out.push(`${pad(n)} 1 60 (5s) STATE tcp 198.18.0.2 40000 <-> 198.18.0.1 22\n`);
  }
  process.stdout.write(out.join(""));
}

const [verb, ...rest] = args;
if (verb === "add") {
  const [n, setWord, set, action, ...body] = rest;
  if (setWord !== "set") fail("ipfw: expected set", 64);
  if (action === "check-state") {
    state.rules.push({ num: num(n), set: num(set), body: "check-state :default" });
  } else if (action === "pass" || action === "allow") {
    const proto = PROTO[body[0] ?? ""];
    if (!proto || body[1] !== "from" || body[3] !== "to" || body[5] !== "dst-port")
      fail(`ipfw: invalid rule: ${rest.join(" ")}`, 64);
    const text = `allow ${proto} ${body.slice(1).join(" ")}`;
    state.rules.push({ num: num(n), set: num(set), body: text });
    process.stdout.write(`${String(num(n)).padStart(5, "0")} ${text}\n`);
  } else {
    fail(`ipfw: unsupported action ${action}`, 64);
  }
  call.save();
} else if (verb === "set" && rest[0] === "move" && rest[1] === "rule" && rest[3] === "to") {
  const n = num(rest[2]);
  for (const r of state.rules) if (r.num === n) r.set = num(rest[4]);
  call.save();
} else if (verb === "set" && (rest[0] === "disable" || rest[0] === "enable")) {
  const s = num(rest[1]);
  state.disabled = state.disabled.filter((d) => d !== s);
  if (rest[0] === "disable") state.disabled.push(s);
  call.save();
} else if (verb === "set" && rest[1] === "delete") {
  const s = num(rest[0]);
  const n = num(rest[2]);
  if (!state.rules.some((r) => r.set === s && r.num === n))
    fail(`ipfw: rule ${n}: setsockopt(IP_FW_XDEL): Invalid argument`, 71);
  state.rules = state.rules.filter((r) => !(r.set === s && r.num === n));
  state.dynamic = state.dynamic.filter((d) => state.rules.some((r) => r.num === d));
  call.save();
} else if (verb === "delete" && rest[0] === "set") {
  const s = num(rest[1]);
  state.rules = state.rules.filter((r) => r.set !== s);
  state.dynamic = state.dynamic.filter((d) => state.rules.some((r) => r.num === d));
  call.save();
} else if (verb === "set" && rest[1] === "list") {
  list(num(rest[0]));
} else if (verb === "list") {
  list(undefined);
} else if (verb === "_dyn" || verb === "_undyn") {
  const n = num(rest[0]);
  state.dynamic = state.dynamic.filter((d) => d !== n);
  if (verb === "_dyn") state.dynamic.push(n);
  call.save();
} else {
  fail(`ipfw stand-in: unsupported arguments: ${args.join(" ")}`, 64);
}

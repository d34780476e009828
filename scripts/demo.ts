/**
 * The live demo behind the README's first command: two network namespaces, our fwknopd guarding
 * a hidden TCP service with iptables, a knock with our fwknop client, the port opening, and the
 * port closing again when the access times out. Everything is torn down at the end.
 */
import { run } from "../src/sys/run.js";
import {
  accessStanza,
  knock,
  OUR_FWKNOP,
  randomKeys,
  startDaemon,
  writeConfigDir,
} from "../test/helpers/daemon.js";
import {
  canConnect,
  canUseNetns,
  createNetnsPair,
  hideServices,
  startHiddenService,
} from "../test/helpers/netns.js";

const PORT = 22;
const TIMEOUT = 8;

function say(step: string, text: string): void {
  process.stdout.write(`\n\x1b[1m[${step}]\x1b[0m ${text}\n`);
}
function show(text: string): void {
  process.stdout.write(`${text.replace(/^/gm, "      ")}\n`);
}

async function main(): Promise<void> {
  if (!canUseNetns()) throw new Error("the demo needs root and iproute2 (ip netns)");
  say("1/7", "Creating two hosts as network namespaces joined by a virtual cable.");
  const pair = await createNetnsPair("demo");
  const stops: (() => Promise<unknown>)[] = [() => pair.cleanup()];
  try {
    show(`server ${pair.server} = ${pair.serverIp}\nclient ${pair.client} = ${pair.clientIp}`);

    say(
      "2/7",
      `Starting a service on the server (TCP port ${PORT}) and hiding it behind a default-drop firewall.`,
    );
    const svc = await startHiddenService(pair.server, PORT);
    stops.unshift(async () => svc.kill());
    await hideServices(pair.server);
    show((await run(["iptables", "-S", "INPUT"], { netns: pair.server })).stdout.trim());

    say("3/7", "Starting our fwknopd in the server namespace with fresh keys.");
    const keys = randomKeys();
    const cfg = writeConfigDir({}, accessStanza(keys, { FW_ACCESS_TIMEOUT: String(TIMEOUT) }));
    const daemon = await startDaemon(cfg, { netns: pair.server, args: ["-v"] });
    stops.unshift(() => daemon.stop());
    show(
      `access.conf: SOURCE ANY, KEY_BASE64 <32 random bytes>, HMAC_KEY_BASE64 <64 random bytes>, FW_ACCESS_TIMEOUT ${TIMEOUT}`,
    );

    say("4/7", `The client tries to connect to ${pair.serverIp}:${PORT}...`);
    show(
      (await canConnect(pair.client, pair.serverIp, PORT, 1000))
        ? "OPEN (unexpected!)"
        : "no answer: the port is invisible",
    );

    say("5/7", "Knocking: one encrypted, HMAC-signed UDP packet from our fwknop client.");
    show(
      `$ fwknop -A tcp/${PORT} -a ${pair.clientIp} -D ${pair.serverIp} --key-base64-rijndael ... --use-hmac`,
    );
    await knock(pair, keys, { binary: OUR_FWKNOP, port: PORT });
    show((await daemon.waitForLog(/Added access rule/)).trim());

    say("6/7", "The client connects again...");
    show(
      (await canConnect(pair.client, pair.serverIp, PORT))
        ? "CONNECTED: the port is open for this client only"
        : "still closed (unexpected!)",
    );
    show((await run(["iptables", "-S", "FWKNOP_INPUT"], { netns: pair.server })).stdout.trim());

    say("7/7", `Waiting ${TIMEOUT} seconds for the access to time out...`);
    show((await daemon.waitForLog(/Removed rule/, (TIMEOUT + 5) * 1000)).trim());
    show(
      (await canConnect(pair.client, pair.serverIp, PORT, 1000))
        ? "OPEN (unexpected!)"
        : "no answer: the port is hidden again",
    );
    process.stdout.write("\nDone. Namespaces, rules and processes are being removed.\n");
  } finally {
    for (const stop of stops) await stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);

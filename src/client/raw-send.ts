/**
 * Sends a hand-built IPv4 packet through the optional `raw-socket` module (an IPPROTO_RAW
 * socket, so the kernel takes our IP header as is). Node has no raw sockets of its own; without
 * the module, or without root (CAP_NET_RAW), the error says exactly that.
 */
import { createRequire } from "node:module";
import { FwknopError } from "../errors.js";

interface RawSocket {
  send(
    buf: Buffer,
    offset: number,
    length: number,
    address: string,
    done: (err: Error | null, bytes: number) => void,
  ): void;
  close(): void;
  on(event: "error", fn: (e: Error) => void): void;
}

interface RawModule {
  createSocket(o: { protocol: number }): RawSocket;
}

const IPPROTO_RAW = 255;

function loadRawSocket(mode: string): RawModule {
  try {
    return createRequire(import.meta.url)("raw-socket") as RawModule;
  } catch (e) {
    throw new FwknopError(
      "FWK_ERR_CLIENT_RAW_UNAVAILABLE",
      `-P ${mode} needs raw IP sockets, which Node.js lacks; the optional module raw-socket is not installed or did not build (${(e as Error).message.split("\n")[0]}). Install it with "npm install raw-socket" (needs a C++ toolchain), or use -P udp, tcp or http`,
    );
  }
}

export function sendRawPacket(mode: string, packet: Buffer, dst: string): Promise<number> {
  const raw = loadRawSocket(mode);
  let sock: RawSocket;
  try {
    sock = raw.createSocket({ protocol: IPPROTO_RAW });
  } catch (e) {
    throw new FwknopError(
      "FWK_ERR_CLIENT_SEND",
      `send_spa_packet_${mode}: create socket: ${(e as Error).message} (raw sockets need root or CAP_NET_RAW)`,
    );
  }
  return new Promise((resolve, reject) => {
    // raw-socket's poll handle does not hold the event loop open while a send is queued: when
    // nothing else is pending (the bundled client loaded through bin/fwknop), the process
    // would exit before the datagram left. A bounded timer keeps it alive until the callback.
    const keepAlive = setTimeout(
      () => reject(new FwknopError("FWK_ERR_CLIENT_SEND", `send_spa_packet_${mode}: timed out`)),
      10_000,
    );
    sock.on("error", (e) => {
      clearTimeout(keepAlive);
      reject(new FwknopError("FWK_ERR_CLIENT_SEND", `send_spa_packet_${mode}: ${e.message}`));
    });
    sock.send(packet, 0, packet.length, dst, (err, bytes) => {
      clearTimeout(keepAlive);
      sock.close();
      if (err)
        reject(
          new FwknopError(
            "FWK_ERR_CLIENT_SEND",
            `send_spa_packet_${mode}: sendto error: ${err.message}`,
          ),
        );
      else resolve(bytes);
    });
  });
}

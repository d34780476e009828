/**
 * The SPA message as fields (spec §4): what the client encodes and what the server decodes.
 * Its own file so the encoder (spa.ts) and the inner decoder (decode-inner.ts) both use it
 * without importing each other.
 */
import type { DigestName, MessageTypeId } from "./constants.js";

export interface SpaMessage {
  /** 16 decimal digits. */
  randomValue: string;
  username: string;
  /** Unix seconds. */
  timestamp: number;
  /** libfko always writes "3.0.0"; older clients sent other values. */
  version: string;
  messageType: MessageTypeId;
  /** `allowIP,proto/port[,…]`, or `allowIP,command` for type 0. */
  message: string;
  /** `host,port` for the NAT types. */
  natAccess?: string;
  serverAuth?: string;
  /** Seconds; promotes the type to its client-timeout variant when > 0. */
  clientTimeout?: number;
}

export interface DecodedSpa extends SpaMessage {
  digestType: DigestName;
  digest: string;
  /** Inner message before the digest, as received. */
  encoded: string;
}

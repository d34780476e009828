/** Our release and the fwknop protocol we speak. */
export const VERSION = "0.1.0";
export const FKO_PROTOCOL_VERSION = "3.0.0";

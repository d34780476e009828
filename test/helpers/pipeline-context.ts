/** A pipeline context with upstream's defaults (plain UDP, packet aging on at 120 s), for tests and the in-process bench. */
import type { PipelineContext } from "../../src/server/pipeline.js";

export function defaultPipelineContext(
  over: Partial<PipelineContext> & Pick<PipelineContext, "stanzas">,
): PipelineContext {
  return {
    replay: undefined,
    precheck: { http: false, anyUserAgent: false, xForwardedFor: false },
    policy: {
      packetAging: true,
      maxPacketAge: 120,
      natForwarding: false,
      localNat: false,
      testMode: false,
    },
    now: () => Math.floor(Date.now() / 1000),
    ...over,
  };
}

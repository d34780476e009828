import assert from "node:assert/strict";
import { test } from "node:test";
import {
  canConnect,
  canUseNetns,
  createNetnsPair,
  hideServices,
  startHiddenService,
} from "../helpers/netns.js";

test("namespaces: a dropped service is unreachable until an ACCEPT rule exists", async (t) => {
  if (!canUseNetns()) assert.fail("needs root and iproute2 (ip netns) - run the suite as root");
  const pair = await createNetnsPair("smoke");
  t.after(() => pair.cleanup());
  const svc = await startHiddenService(pair.server, 2222);
  t.after(() => svc.kill());
  assert.equal(await canConnect(pair.client, pair.serverIp, 2222), true);
  await hideServices(pair.server);
  assert.equal(await canConnect(pair.client, pair.serverIp, 2222, 400), false);
});

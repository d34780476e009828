/**
 * The nftables backend's native-syntax lines (nft-native.ts): the exact text of element-only
 * batches, millisecond timeouts that never expire before `_exp_`, and when a batch stays JSON.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { elementTimeoutMs, nativeElementBatch } from "../../src/firewall/nft-native.js";
import type { Rule } from "../../src/firewall/rule.js";

const AT = 1795771323;
const access = (src: string, over: Partial<Rule> = {}): Rule => ({
  chain: "input",
  proto: "tcp",
  src,
  dst: "0.0.0.0/0",
  dport: 22,
  expiresAt: AT,
  ...over,
});

describe("nft native element batches", () => {
  test("an addition: table as configured, set by address family, ms timeout, _exp_ comment", () => {
    const now = AT * 1000 - 30_000.4;
    assert.equal(
      nativeElementBatch("fw_knop-2", [access("198.18.0.2")], [], now),
      `add element inet fw_knop-2 allow4 { 198.18.0.2 . tcp . 22 timeout 30001ms comment "_exp_${AT}" }`,
    );
    assert.equal(
      nativeElementBatch("fwknop", [access("2001:db8::7", { proto: "udp", dport: 53 })], [], now),
      `add element inet fwknop allow6 { 2001:db8::7 . udp . 53 timeout 30001ms comment "_exp_${AT}" }`,
    );
  });

  test("a destination other than any selects the _dst set and joins the key", () => {
    const line = nativeElementBatch("fwknop", [access("198.18.0.2", { dst: "192.0.2.9" })], [], 0);
    assert.match(
      line ?? "",
      /^add element inet fwknop allow4_dst \{ 198\.18\.0\.2 \. tcp \. 22 \. 192\.0\.2\.9 timeout /,
    );
  });

  test("removal is add + delete of the element, before the additions, in one line", () => {
    const old = access("198.18.0.2", { expiresAt: AT - 10 });
    const renewed = access("198.18.0.2");
    const now = (AT - 20) * 1000;
    assert.equal(
      nativeElementBatch("fwknop", [renewed], [old], now),
      [
        `add element inet fwknop allow4 { 198.18.0.2 . tcp . 22 timeout 10000ms comment "_exp_${AT - 10}" }`,
        "delete element inet fwknop allow4 { 198.18.0.2 . tcp . 22 }",
        `add element inet fwknop allow4 { 198.18.0.2 . tcp . 22 timeout 20000ms comment "_exp_${AT}" }`,
      ].join("; "),
    );
  });

  test("a batch with a chain rule stays JSON (undefined)", () => {
    const forward: Rule = {
      chain: "forward",
      proto: "tcp",
      src: "198.18.0.2",
      dport: 22,
      expiresAt: AT,
    };
    assert.equal(nativeElementBatch("fwknop", [access("198.18.0.3"), forward], [], 0), undefined);
    assert.equal(
      nativeElementBatch("fwknop", [access("198.18.0.3", { sport: 1000 })], [], 0),
      undefined,
    );
  });

  test("timeout: milliseconds rounded up to _exp_, never 0, never before _exp_", () => {
    assert.equal(elementTimeoutMs(access("198.18.0.2"), AT * 1000 - 1500), 1500);
    assert.equal(elementTimeoutMs(access("198.18.0.2"), AT * 1000 - 1499.2), 1500);
    assert.equal(elementTimeoutMs(access("198.18.0.2"), AT * 1000), 1);
    assert.equal(elementTimeoutMs(access("198.18.0.2"), AT * 1000 + 5000), 1);
    for (const now of [AT * 1000 - 0.1, AT * 1000 - 999.9, AT * 1000 - 3_600_000.5]) {
      assert.ok(now + elementTimeoutMs(access("198.18.0.2"), now) >= AT * 1000);
      assert.ok(now + elementTimeoutMs(access("198.18.0.2"), now) < AT * 1000 + 1);
    }
  });
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { formatSpaDump } from "../../src/protocol/dump.js";

// Printed by `fwknop -T -v` 2.6.10 (Appendix-A-like values).
const C_CLIENT_DUMP = `SPA Field Values:
=================
   Random Value: 8820396471095669
       Username: alice
      Timestamp: 1795771607
    FKO Version: 3.0.0
   Message Type: 1 (Access msg)
 Message String: 192.0.2.10,tcp/22
     Nat Access: <NULL>
    Server Auth: <NULL>
 Client Timeout: 0
    Digest Type: 3 (SHA256)
      HMAC Type: 3 (SHA256)
Encryption Type: 1 (Rijndael)
Encryption Mode: 2 (CBC)
   Encoded Data: 8820396471095669:YWxpY2U:1795771607:3.0.0:1:MTkyLjAuMi4xMCx0Y3AvMjI
SPA Data Digest: RRmXR2iM4BgXqMcnmxhyKAr5WRmmQKsmzDkEXFE1sBU
           HMAC: NNAVc033AhjLZ8UmlhgBLEKhsL4599GMH0NBgQVj7ZU
 Final SPA Data: +eKLtCKH2uGHb3CFTHh852rluc5hxRFhh/2rjUUVo1+vTS3Lrnd0FGYxuVw3FFVtrbdY4zG/BB6AmQpHFg4rMpO21rrVqaNlrsmeg35X3q8pDiVftqe4RK3FdK/vYzL2SrlWMx3o2tLTD6ZG0p3TAvvHzEfRzN8nANNAVc033AhjLZ8UmlhgBLEKhsL4599GMH0NBgQVj7ZU`;

test("the field dump matches fwknop's layout byte for byte", () => {
  const dump = formatSpaDump({
    randomValue: "8820396471095669",
    username: "alice",
    timestamp: 1795771607,
    version: "3.0.0",
    messageType: 1,
    message: "192.0.2.10,tcp/22",
    digestType: "sha256",
    hmacType: "sha256",
    encryptionType: "rijndael",
    encMode: "CBC",
    encoded: "8820396471095669:YWxpY2U:1795771607:3.0.0:1:MTkyLjAuMi4xMCx0Y3AvMjI",
    digest: "RRmXR2iM4BgXqMcnmxhyKAr5WRmmQKsmzDkEXFE1sBU",
    hmac: "NNAVc033AhjLZ8UmlhgBLEKhsL4599GMH0NBgQVj7ZU",
    finalData:
      "+eKLtCKH2uGHb3CFTHh852rluc5hxRFhh/2rjUUVo1+vTS3Lrnd0FGYxuVw3FFVtrbdY4zG/BB6AmQpHFg4rMpO21rrVqaNlrsmeg35X3q8pDiVftqe4RK3FdK/vYzL2SrlWMx3o2tLTD6ZG0p3TAvvHzEfRzN8nANNAVc033AhjLZ8UmlhgBLEKhsL4599GMH0NBgQVj7ZU",
  });
  assert.equal(dump, C_CLIENT_DUMP);
});

test("missing values print as <NULL>, no HMAC as 0 (None)", () => {
  const dump = formatSpaDump({
    randomValue: "1",
    username: "u",
    timestamp: 0,
    version: "3.0.0",
    messageType: 6,
    message: "m",
    clientTimeout: 30,
    encryptionType: "rijndael",
    encMode: "legacy",
  });
  assert.match(dump, /^ {6}HMAC Type: 0 \(None\)$/m);
  assert.match(dump, /^ {3}Message Type: 6 \(Client timeout local NAT access msg\)$/m);
  assert.match(dump, /^ Client Timeout: 30$/m);
  assert.match(dump, /^Encryption Mode: 8 \(legacy\)$/m);
  assert.match(dump, /^ {11}HMAC: <NULL>$/m);
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CommandSession } from "../../src/sys/session.js";

/** The script of a stand-in interpreter that runs `body` for each line it reads (as `line`). */
const eachLine = (body: string, before = "") => `
${before}
let buf = "";
process.stdin.on("data", (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf("\\n")) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    ${body}
  }
});
`;

/**
 * A stand-in interpreter with ipset's habits: silent on success, errors on stderr, keeps going
 * after an error, answers the ack command on stderr, exits on `die`.
 */
const INTERPRETER = eachLine(`
    if (line === "ack") process.stderr.write("probe is NOT in set\\n");
    else if (line.startsWith("bad")) process.stderr.write("Syntax error: " + line + "\\n");
    else if (line === "die") process.exit(3);
    else process.stdout.write("prompt> ");
`);

function session(timeoutMs = 5000): CommandSession {
  return new CommandSession([process.execPath, "-e", INTERPRETER], {
    ackCommand: "ack",
    ackMarker: "is NOT in set",
    timeoutMs,
  });
}

/**
 * A stand-in with nft's habit: a refused line is answered as "Error: ...", the line itself, then
 * carets. With `lateCarets` the carets come only once the next line is read (the worst case of
 * nft writing them in system calls of their own).
 */
function nftLikeSession(lateCarets: boolean): CommandSession {
  const script = eachLine(
    `
    process.stderr.write(owed);
    owed = "";
    if (line.startsWith("ok")) continue;
    process.stderr.write("Error: syntax error\\n" + line + "\\n");
    const carets = "^".repeat(line.length) + "\\n";
    if (late) owed = carets;
    else process.stderr.write(carets);
`,
    `const late = ${String(lateCarets)};\nlet owed = "";`,
  );
  return new CommandSession([process.execPath, "-e", script], {
    ackCommand: "the-ack",
    ackMarker: "the-ack",
    ackLinesBefore: 1,
    ackLinesAfter: 1,
    timeoutMs: 5000,
  });
}

describe("CommandSession (long-lived interpreter fed over stdin)", () => {
  test("each request resolves at its ack with the errors it produced", async () => {
    const s = session();
    try {
      assert.equal(await s.request("ok 1\nok 2"), "");
      assert.equal(await s.request("ok 3\nbad x\nok 4"), "Syntax error: bad x");
      assert.equal(await s.request("ok 5\n"), "", "errors do not leak into the next request");
    } finally {
      await s.close();
    }
  });

  test("concurrent requests are answered in order, each with its own errors", async () => {
    const s = session();
    try {
      const answers = await Promise.all([
        s.request("bad a"),
        s.request("ok"),
        s.request("bad c\nbad d"),
      ]);
      assert.deepEqual(answers, [
        "Syntax error: bad a",
        "",
        "Syntax error: bad c\nSyntax error: bad d",
      ]);
    } finally {
      await s.close();
    }
  });

  test("a tool that dies fails the pending request; the next request starts a new one", async () => {
    const s = session();
    try {
      await assert.rejects(s.request("die"), /exited with status 3/);
      assert.equal(await s.request("ok"), "");
    } finally {
      await s.close();
    }
  });

  test("a request that is never acknowledged times out", async () => {
    const s = new CommandSession([process.execPath, "-e", "process.stdin.resume()"], {
      ackCommand: "ack",
      ackMarker: "never",
      timeoutMs: 300,
    });
    try {
      await assert.rejects(s.request("anything"), /did not answer within 300 ms/);
    } finally {
      await s.close();
    }
  });

  for (const late of [false, true]) {
    // With late carets, waiting for them would hang each request until its timeout.
    test(`an ack in several lines (nft's message, line, carets${late ? " that come only with the next line" : ""}) answers at its marker; its carets never reach the next request`, async () => {
      const s = nftLikeSession(late);
      try {
        assert.equal(await s.request("ok 1"), "");
        assert.equal(await s.request("bad"), "Error: syntax error\nbad\n^^^");
        assert.equal(await s.request("ok 2"), "", "no caret of an earlier ack is left over");
        assert.equal(await s.request("worse"), "Error: syntax error\nworse\n^^^^^");
      } finally {
        await s.close();
      }
    });
  }

  test("the tool gets the extra environment variables", async () => {
    const echoHome = `
process.stdin.on("data", () => process.stderr.write("HOME=" + process.env.HOME + " ack\\n"));
`;
    // Answered only if HOME reached the tool (otherwise the request times out).
    const s = new CommandSession([process.execPath, "-e", echoHome], {
      ackCommand: "ack",
      ackMarker: "HOME=/dev/null ack",
      env: { HOME: "/dev/null" },
      timeoutMs: 5000,
    });
    try {
      assert.equal(await s.request(""), "");
    } finally {
      await s.close();
    }
  });
});

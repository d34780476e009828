/** `fwknop -h` and `-V`. The option names are upstream's; the descriptions are ours. */
import { FKO_PROTOCOL_VERSION } from "../protocol/constants.js";
import { VERSION } from "../version.js";

export const VERSION_LINE = `fwknop client ${VERSION} (fwknop-ts), FKO protocol version ${FKO_PROTOCOL_VERSION}`;

const OPTIONS: readonly (readonly [string, string])[] = [
  ["-n, --named-config NAME", "use stanza [NAME] of ~/.fwknoprc (command line overrides it)"],
  ["-A, --access PROTO/PORT,...", "ports to open on the server, e.g. tcp/22 or tcp/22,udp/53"],
  ["-a, --allow-ip IPv4", "address the server should let in"],
  ["-s, --source-ip", "let the server use the packet's source address (0.0.0.0)"],
  ["-R, --resolve-ip-https", "find the external address via HTTPS (see --resolve-url)"],
  ["    --resolve-url URL", "service that answers with the caller's address"],
  ["    --resolve-http-only", "resolve over plain HTTP (open to tampering)"],
  ["-D, --destination HOST", "the fwknopd server (name, IPv4 or IPv6 address)"],
  ["-p, --server-port PORT", "destination port (default 62201)"],
  ["-P, --server-proto PROTO", "udp (default), tcp, http; udpraw, tcpraw, icmp need raw sockets"],
  ["-r, --rand-port", "send to a random port 10000-65534"],
  ["-S, --source-port PORT", "source port of the packet"],
  ["-Q, --spoof-source IPv4", "source address (raw modes only)"],
  ["-H, --http-proxy HOST[:PORT]", "send over HTTP through this proxy"],
  ["-u, --user-agent TEXT", "HTTP User-Agent (default Fwknop/<version>)"],
  ["-C, --server-cmd CMD", "ask the server to run CMD (command message)"],
  ["-N, --nat-access HOST[:PORT]", "ask for NAT access to an internal host"],
  ["    --nat-local", "NAT to a port on the fwknopd host itself"],
  ["    --nat-port PORT", "external port to use for NAT access"],
  ["    --nat-rand-port", "random external port for NAT access"],
  ["-f, --fw-timeout SECONDS", "ask for this access time (0-131072)"],
  ["-m, --digest-type TYPE", "md5, sha1, sha256 (default), sha384, sha512, sha3_256, sha3_512"],
  ["-M, --encryption-mode MODE", "CBC (default), ECB, CFB, OFB, CTR, legacy"],
  ["    --use-hmac", "add an HMAC (asks for the key if none is given)"],
  ["    --hmac-digest-type TYPE", "HMAC algorithm (default sha256)"],
  ["    --key-rijndael KEY", "encryption key (visible in ps; prefer rc file or --stdin)"],
  ["    --key-base64-rijndael B64", "encryption key, base64"],
  ["    --key-hmac KEY", "HMAC key"],
  ["    --key-base64-hmac B64", "HMAC key, base64"],
  ["-G, --get-key FILE", "read the encryption key from FILE (lines 'host: key')"],
  ["    --get-hmac-key FILE", "read the HMAC key from FILE"],
  ["    --stdin / --fd N", "read the encryption key from stdin / file descriptor N"],
  ["-k, --key-gen", "generate keys (on a terminal also a QR code and access.conf stanza)"],
  ["-K, --key-gen-file FILE", "write generated keys to FILE"],
  ["    --key-len N / --hmac-key-len N", "lengths of generated keys in bytes"],
  ["-U, --spoof-user NAME", "username inside the packet"],
  ["    --time-offset-plus N[m|h|d]", "move the timestamp forward"],
  ["    --time-offset-minus N[m|h|d]", "move the timestamp back"],
  ["    --server-resolve-ipv4", "resolve -D to IPv4 only"],
  ["    --icmp-type N / --icmp-code N", "ICMP type/code for -P icmp"],
  ["    --ssh-proxy HOST:PORT", "OpenSSH ProxyCommand: knock, wait for PORT, relay stdin/stdout"],
  ["    --verify[=SECONDS]", "after the knock, wait for the -A TCP port(s); exit 1 if closed"],
  ["-B, --save-packet FILE", "save the packet data to FILE (-b appends)"],
  ["-T, --test", "build and show the packet, do not send it"],
  ["-v, --verbose", "more output (repeatable)"],
  ["    --rc-file FILE", "rc file instead of ~/.fwknoprc"],
  ["    --save-rc-stanza", "save the command-line options into stanza -n (or -D)"],
  ["    --force-stanza", "with --save-rc-stanza: replace the stanza without asking"],
  ["    --stanza-list", "list the stanzas of the rc file"],
  ["    --no-rc-file / --no-home-dir", "ignore ~/.fwknoprc / do not use $HOME"],
  ["-l, --last-cmd / --show-last", "re-run / show the arguments saved in ~/.fwknop.run"],
  ["-E, --save-args-file FILE", "save arguments to FILE instead of ~/.fwknop.run"],
  ["    --no-save-args", "do not save the arguments"],
  [
    "-w, --wget-cmd PATH / --use-wget-user-agent",
    "accepted for compatibility (resolution is built in)",
  ],
  ["-g, --gpg-encryption", "encrypt with GnuPG instead of Rijndael"],
  ["    --gpg-recipient-key ID", "the server's key (GPG mode)"],
  ["    --gpg-signer-key ID", "our signing key (GPG mode)"],
  ["    --gpg-home-dir DIR / --gpg-exe PATH", "GnuPG home directory / gpg binary"],
  ["    --gpg-agent / --gpg-no-signing-pw", "passphrase from gpg-agent / signing key has none"],
  ["-h, --help / -V, --version", "this text / version"],
];

export function usageText(): string {
  const width = 40;
  const body = OPTIONS.map(([o, d]) =>
    o.length >= width ? ` ${o}\n ${"".padEnd(width)}${d}` : ` ${o.padEnd(width)}${d}`,
  );
  return [
    `fwknop client ${VERSION} (fwknop-ts) - Single Packet Authorization client`,
    "",
    "Usage: fwknop -A <port list> [-s|-R|-a <ip>] -D <spa_server> [options]",
    "       fwknop -n <stanza> [options]",
    "",
    ...body,
    "",
    VERSION_LINE,
    "",
  ].join("\n");
}

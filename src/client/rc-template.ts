/**
 * The starter ~/.fwknoprc written when none exists (upstream creates one too, so both clients
 * leave the same kind of file behind). Our own wording; the variables are upstream's.
 */
export const RC_TEMPLATE = `# ~/.fwknoprc - settings for the fwknop SPA client
#
# A stanza starts with a line holding its name in square brackets. Use a stanza
# with "fwknop -n <name>"; [default] applies to every run, the named stanza
# overrides it, and command-line options override both.
#
# Lines are "VARIABLE value". A value ends at the first space, tab, ';' or '#',
# so values cannot contain those characters. Lines starting with '#' or ';'
# are comments. See "fwknop --help" and docs/client.md for every variable.
#
# "fwknop --save-rc-stanza -n <name> ..." writes the options given on the
# command line into stanza <name>.

[default]

#DIGEST_TYPE         sha256
#FW_TIMEOUT          30
#SPA_SERVER_PORT     62201
#SPA_SERVER_PROTO    udp
#ALLOW_IP            <ip addr>
#SPOOF_USER          <username>
#TIME_OFFSET         0
#NO_SAVE_ARGS        N

# Example named stanzas:
#
#[ssh-gw]
#SPA_SERVER          203.0.113.20
#ACCESS              tcp/22
#ALLOW_IP            resolve
#KEY_BASE64          <from fwknop --key-gen>
#HMAC_KEY_BASE64     <from fwknop --key-gen>
#
#[web-nat]
#SPA_SERVER          203.0.113.20
#ACCESS              tcp/8088
#ALLOW_IP            source
#NAT_ACCESS          192.0.2.55,80
#FW_TIMEOUT          60
`;

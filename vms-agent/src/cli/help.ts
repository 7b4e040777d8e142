/** The --help text; kept next to the dispatcher in main.ts so both change together. */
import { COMMON_HELP } from './args.js';

export const HELP = `vms-agent — the manager side of Backchannel: links to every BMC, commands, approvals, alerts.

Usage: vms-agent COMMAND [options]

Service
  serve [--listen HOST:PORT] [--no-links]      run the API (default 127.0.0.1:8480) and the BMC links
        [--tls-cert FILE --tls-key FILE]       HTTPS only (PEM chain and key); clients trust it with
                                               NODE_EXTRA_CA_CERTS=CA.pem and --url https://...

Local administration (needs --db and the master key, not a token)
  keygen --out FILE [--force]                  new Ed25519 key (operator key for "approve"): FILE (0600)
                                               and FILE.pub (the public key, for principals add and policies)
  keygen --master-key --out FILE               new master key for secrets at rest
  hosts add HOST --bmc ADDR[:PORT] --user USER --password-file FILE|-
            [--privilege operator|administrator] [--cipher-suites 17,3] [--iana N]
            [--host-key ed25519:...] [--policy-info TEXT]
  hosts list | hosts remove HOST               the inventory in the store (hosts status asks the service)
  hosts set-host-key HOST ed25519:...          verify this host's alerts with its key
  hosts enrollment HOST --out FILE             bundle for "hypervisor-agent enroll" (0600)
  principals add NAME (--public-key KEY | --public-key-file FILE | --custodial)
            [--roles ROLE,...]                 roles: operator, approver, security, viewer
                                               (default operator,approver,viewer; see docs/security.md)
  principals list | principals remove NAME     remove also deletes its tokens
  principals roles NAME [ROLE,...|none]        show or replace a principal's roles
  tokens create PRINCIPAL [--expires 30d|12h|2027-01-31|never] [--label TEXT]
                                               prints a new API token once (default: no expiry)
  tokens list [--principal P] | tokens revoke ID

Through the API (needs --url and --token)
  hosts status [HOST] [--wait SECONDS]         link state, unacknowledged messages, BMC queue depths,
                                               last status report, clock offset; --wait: until the
                                               link is up and a report has arrived
  vm list HOST                                 domains from the host's latest status report
  vm start|shutdown|destroy|reboot|reset|suspend|resume HOST DOMAIN
            [--param KEY=VALUE]... [--wait [--timeout SECONDS] [--key FILE]]
                                               --wait follows the command until it is final (default
                                               timeout 120 s) or awaits approval (exit 9); with --key
                                               it signs the challenge here and goes on waiting
  commands show ID | commands list [--host H] [--state S]
  approve ID --key FILE [--wait]               sign the challenge here (operator-held key)
  approve ID [--wait]                          sign with your custodial key
  alerts list [--host H] [--kind K] [--principal P] [--since TIME] [--unacked] [--limit N]
  alerts ack ID --comment TEXT                 role security; never an alert about yourself

BMC diagnostics
  bmc info|raw ... --bmc HOST[:PORT] --user U --password-file F   see "vms-agent bmc --help"
  bmc queue-info HOST                          Get Queue Info on both OEM queues of a configured host
                                               (local store: needs --db and the master key)

${COMMON_HELP}

Exit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 not authenticated or not permitted
(or a malformed token), 5 cannot reach the server or BMC, 6 command denied, 7 command expired
or --wait timed out, 8 conflict (wrong state, already exists), 9 --wait stopped at
awaiting_approval (someone must approve).`;

export const HELP = `Usage:
  hypervisor-agent --config agent.json [--metrics 127.0.0.1:PORT]
      Run the daemon: read manager commands from the BMC (queue 1), verify them
      (request-challenge-verify against the policy file), apply them with libvirt,
      and send results, status reports and signed alerts back (queue 2).
      SIGHUP reloads the policy file; SIGTERM/SIGINT stop gracefully.
  hypervisor-agent enroll BUNDLE --config agent.json [--force]
      Install the enrolment bundle vms-agent exported for this host (BUNDLE - reads
      standard input): writes the
      seed file, the manager keys file and (if the bundle has one) the policy
      file, all mode 0600. The bundle's hostId must match the config's.
  hypervisor-agent keygen --config agent.json [--force]
  hypervisor-agent keygen --out FILE [--force]
      Create the host's Ed25519 alert-signing key (mode 0600) and print its
      public key ("ed25519:...") to register with vms-agent.
  hypervisor-agent check-config --config agent.json
      Validate the config, seed, host key and policy files and exit.

Options:
  -c, --config FILE     agent configuration (JSON; see docs/hypervisor-agent.md)
      --metrics ADDR    serve Prometheus metrics on http://ADDR/metrics
      --force           allow enroll/keygen to replace existing files
      --out FILE        keygen: where to write the key (instead of config.hostKeyFile)
  -h, --help            show this help
  -v, --version         print the version

BMC link URIs (config "link"):
  vm+tcp://HOST:PORT, vm+unix:///PATH, vm+serial:///DEV?baud=115200, ipmi:///dev/ipmi0
  serial:/dev/ttyS1@115200 (the manager comes over SOL through a stock BMC; the
  queues are held here; tcp:HOST:PORT and unix:/PATH stand in for the line in tests)

Environment:
  BACKCHANNEL_FAULT_DELAY_BEFORE_COMMIT_MS   fault injection for crash tests only

Exit codes:
  0  success, or a clean stop on SIGTERM/SIGINT
  1  failure: cannot start, a fatal error, or a stop that overran its grace period
  2  usage or configuration error (bad flag; invalid config, policy, seed, key or bundle)
  8  enroll/keygen would replace an existing file (pass --force)
`;

// One daemon's Debian package (dpkg-deb), for people who run hypervisors and
// manager hosts: everything under /usr/lib/backchannel/NAME (the npm
// tarball's files, the bundled proto, and the whole runtime dependency tree
// with native modules already compiled from source for this architecture
// and Node's major version), /usr/bin/NAME, the systemd unit, and maintainer
// scripts that add the service user and its directories. No compiler, no
// registry and no npm are needed on the target: only Node (and libvirt0 for
// the hypervisor-agent).
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyClosure } from './npm-tarball.mjs';

/** What each daemon's package adds besides the common layout. */
export const DEB_SPECS = {
  'bmc-oem': {
    summary: 'Backchannel software BMC (RMCP+ server, OEM buffer queues)',
    depends: [],
    groups: ['dialout'],
    docs: ['bmc-oem.md', 'bmc-queues.md', 'system-interface.md', 'rmcp.md'],
    extra: [],
  },
  'hypervisor-agent': {
    summary: 'Backchannel hypervisor-agent (VM commands through the BMC)',
    // libvirt0 is the library the binding loads; the daemon (libvirt-daemon-system) is the
    // hypervisor's own business and not pulled in (it brings systemd, dnsmasq, nftables...).
    depends: ['libvirt0'],
    groups: ['libvirt', 'dialout'],
    docs: ['hypervisor-agent.md', 'policy.md', 'protocol.md'],
    extra: [{ from: 'systemd/60-hypervisor-agent-ipmi.rules', to: 'lib/udev/rules.d/60-hypervisor-agent-ipmi.rules' }],
  },
  'vms-agent': {
    summary: 'Backchannel vms-agent (manager side: BMC links, REST API, CLI)',
    depends: [],
    groups: [],
    docs: ['vms-agent.md', 'api.md', 'security.md'],
    extra: [],
  },
};

const hasNative = (closure) => [...closure.values()].some((p) => existsSync(join(p.dir, 'binding.gyp')));

function duKib(dir) {
  let bytes = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) bytes += statSync(p).size;
    }
  };
  walk(dir);
  return Math.ceil(bytes / 1024);
}

function postinst(name, groups) {
  const joinGroups = groups.map((g) => `  if getent group ${g} >/dev/null; then usermod -a -G ${g} ${name}; fi\n`).join('');
  return `#!/bin/sh
# backchannel-${name}: the service user and its directories (docs/deploy.md).
set -e
if [ "$1" = configure ]; then
  if ! getent passwd ${name} >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/${name} --no-create-home --shell /usr/sbin/nologin ${name}
  fi
${joinGroups}  # Configuration: root's to change, readable by the service. State: the service's alone.
  install -d -m 0750 -o root -g ${name} /etc/${name}
  install -d -m 0700 -o ${name} -g ${name} /var/lib/${name}
  if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null || true; fi
  if [ -e /lib/udev/rules.d/60-hypervisor-agent-ipmi.rules ] && command -v udevadm >/dev/null; then
    udevadm trigger --subsystem-match=ipmi >/dev/null 2>&1 || true
  fi
fi
exit 0
`;
}

function prerm(name) {
  return `#!/bin/sh
# Stop the service before its files go (an upgrade restarts it in postinst's place: see docs/deploy.md "Upgrades").
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then systemctl stop ${name}.service >/dev/null 2>&1 || true; fi
exit 0
`;
}

function postrm(name) {
  return `#!/bin/sh
# /etc/${name} and /var/lib/${name} (keys, seed, store, queue journal) are kept even on purge:
# they are the host's identity and data, not the package's. Remove them by hand when meant.
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
exit 0
`;
}

/**
 * @param stageDir the unpacked npm tarball (package.json, dist/, systemd/, node_modules/@backchannel/proto)
 * @returns the .deb's path
 */
export function buildDeb({ root, name, manifest, closure, stageDir, work, out }) {
  const spec = DEB_SPECS[name];
  const debRoot = join(work, `${name}-deb`);
  rmSync(debRoot, { recursive: true, force: true });
  const lib = join(debRoot, 'usr', 'lib', 'backchannel', name);
  const arch = process.arch === 'x64' ? 'x64' : process.arch;
  cpSync(stageDir, lib, { recursive: true, filter: (src) => !src.endsWith('npm-shrinkwrap.json') });
  copyClosure(closure, lib, { arch });
  chmodSync(join(lib, 'dist', 'main.js'), 0o755);
  mkdirSync(join(debRoot, 'usr', 'bin'), { recursive: true });
  symlinkSync(`../lib/backchannel/${name}/dist/main.js`, join(debRoot, 'usr', 'bin', name));
  const unitDir = join(debRoot, 'lib', 'systemd', 'system');
  mkdirSync(unitDir, { recursive: true });
  cpSync(join(stageDir, 'systemd', `${name}.service`), join(unitDir, `${name}.service`));
  for (const x of spec.extra) {
    mkdirSync(join(debRoot, x.to, '..'), { recursive: true });
    cpSync(join(stageDir, x.from), join(debRoot, x.to));
  }
  const doc = join(debRoot, 'usr', 'share', 'doc', `backchannel-${name}`);
  mkdirSync(doc, { recursive: true });
  for (const f of ['deploy.md', ...spec.docs]) if (existsSync(join(root, 'docs', f))) cpSync(join(root, 'docs', f), join(doc, f));
  writeFileSync(join(doc, 'copyright'), `Backchannel ${name} ${manifest.version}\nLicense: ${manifest.license}\nThird-party modules under /usr/lib/backchannel/${name}/node_modules keep their own licenses.\n`);

  const native = hasNative(closure);
  const debArch = native ? execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim() : 'all';
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  // Native modules are built for this Node's ABI: the same major version only.
  const nodeDep = native ? `nodejs (>= ${manifest.engines.node.replace(/^>=\s*/, '')}), nodejs (<< ${nodeMajor + 1})` : `nodejs (>= ${manifest.engines.node.replace(/^>=\s*/, '')})`;
  const debian = join(debRoot, 'DEBIAN');
  mkdirSync(debian);
  const control = [
    `Package: backchannel-${name}`,
    `Version: ${manifest.version}`,
    `Architecture: ${debArch}`,
    'Maintainer: Backchannel <backchannel@localhost>',
    `Installed-Size: ${duKib(debRoot)}`,
    `Depends: ${[nodeDep, 'passwd', ...spec.depends].join(', ')}`,
    ...(spec.recommends ? [`Recommends: ${spec.recommends.join(', ')}`] : []),
    'Section: admin',
    'Priority: optional',
    `Description: ${spec.summary}`,
    ` ${manifest.description}`,
    ` Built with Node ${process.versions.node}. See /usr/share/doc/backchannel-${name}/deploy.md.`,
    '',
  ].join('\n');
  writeFileSync(join(debian, 'control'), control);
  for (const [file, text] of [['postinst', postinst(name, spec.groups)], ['prerm', prerm(name)], ['postrm', postrm(name)]]) {
    writeFileSync(join(debian, file), text, { mode: 0o755 });
  }
  mkdirSync(out, { recursive: true });
  const deb = join(out, `backchannel-${name}_${manifest.version}_${debArch}.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', debRoot, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
  return deb;
}

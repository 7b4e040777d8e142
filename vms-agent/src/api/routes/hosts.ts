/** The fleet: hosts with link health, and the domains of one host from its latest status report. */
import { ServiceError } from '../../errors.js';
import type { ApiDeps, ApiInstance } from '../app.js';
import { Domains, HostList, HostParam } from '../schemas.js';
import { domainsView, hostView } from '../views.js';
import { authErrors, forbidden, notFound } from './errors.js';

/** Every role reads the fleet: an operator needs it to act, the others to watch. */
const FLEET_READERS = ['operator', 'approver', 'security', 'viewer'] as const;

export function registerHostRoutes(app: ApiInstance, deps: ApiDeps): void {
  app.get(
    '/v1/hosts',
    {
      config: { roles: FLEET_READERS },
      schema: { summary: 'Hosts, the health of their links and the age of their last status report', tags: ['hosts'], response: { 200: HostList, ...authErrors, ...forbidden } },
    },
    async () => {
      const now = deps.clock();
      const hosts = await deps.store.listHosts();
      return { hosts: await Promise.all(hosts.map(async (h) => hostView(h, await deps.store.getStatus(h.id), deps.linkHealth?.(h.id), now))) };
    },
  );

  app.get(
    '/v1/hosts/:host/domains',
    {
      config: { roles: FLEET_READERS },
      schema: { summary: "The host's domains as of its latest status report", tags: ['hosts'], params: HostParam, response: { 200: Domains, ...authErrors, ...forbidden, ...notFound } },
    },
    async (req) => {
      const host = await deps.store.getHost(req.params.host);
      if (!host) throw new ServiceError('HOST_NOT_FOUND', `no host "${req.params.host}"; list them with GET /v1/hosts`);
      const status = await deps.store.getStatus(host.id);
      if (!status) {
        throw new ServiceError('NO_STATUS_YET', `no status report from ${host.id} yet; check that its hypervisor-agent runs and is enrolled, and the link in GET /v1/hosts`);
      }
      return domainsView(host.id, status, deps.clock());
    },
  );
}

/** Issuing commands, reading them back, approving them. */
import { decodePublicKey, keyId } from '@backchannel/proto';
import type { CommandState } from '../../commands/lifecycle.js';
import type { ApiDeps, ApiInstance } from '../app.js';
import { ActionBody, ApprovalBody, Command, CommandList, CommandListQuery, CommandWaitQuery, HostDomainParams, IdParam } from '../schemas.js';
import { commandSummaryView, commandView } from '../views.js';
import { authErrors, conflict, notFound } from './errors.js';

export function registerCommandRoutes(app: ApiInstance, deps: ApiDeps): void {
  app.post(
    '/v1/hosts/:host/domains/:domain/actions',
    {
      schema: {
        summary:
          'Issue a VM action; answers 202 once the command is stored, or with ?wait=MS once it is final or awaiting approval (or MS have passed), saving a GET',
        tags: ['commands'],
        params: HostDomainParams,
        querystring: CommandWaitQuery,
        body: ActionBody,
        response: { 202: Command, ...authErrors, ...notFound },
      },
    },
    async (req, reply) => {
      const issued = await deps.commands.issue({ principal: req.principal, hostId: req.params.host, domain: req.params.domain, action: req.body.action, params: req.body.params ?? {} });
      deps.metrics.commandsIssued.inc({ action: issued.action });
      // The command is stored before the wait: a client that gives up (or a wait that
      // times out) still has it, at the Location given.
      const c = req.query.wait ? await deps.commands.waitSettled(issued.id, req.query.wait) : issued;
      return reply.code(202).header('location', `/v1/commands/${c.id}`).send(commandView(c));
    },
  );

  app.get(
    '/v1/commands/:id',
    {
      schema: {
        summary: 'A command with its challenge, approvals, result and event trail; ?wait=MS long-polls until it is final or awaiting approval',
        tags: ['commands'],
        params: IdParam,
        querystring: CommandWaitQuery,
        response: { 200: Command, ...authErrors, ...notFound },
      },
    },
    async (req) => commandView(req.query.wait ? await deps.commands.waitSettled(req.params.id, req.query.wait) : await deps.commands.get(req.params.id)),
  );

  app.get(
    '/v1/commands',
    { schema: { summary: 'Recent commands, oldest first', tags: ['commands'], querystring: CommandListQuery, response: { 200: CommandList, ...authErrors } } },
    async (req) => {
      const filter: { hostId?: string; states?: CommandState[]; limit?: number } = { limit: req.query.limit ?? 100 };
      if (req.query.host) filter.hostId = req.query.host;
      if (req.query.state) filter.states = [req.query.state as CommandState];
      return { commands: (await deps.store.listCommands(filter)).map(commandSummaryView) };
    },
  );

  app.post(
    '/v1/commands/:id/approvals',
    {
      schema: {
        summary: "Approve a command's challenge: post your signature, or post {} to sign with your custodial key",
        tags: ['commands'],
        params: IdParam,
        body: ApprovalBody,
        response: { 200: Command, ...authErrors, ...notFound, ...conflict },
      },
    },
    async (req) => {
      let signature;
      if (req.body.signature) {
        const principal = await deps.store.getPrincipal(req.principal);
        signature = {
          keyId: req.body.keyId ?? (principal ? keyId(decodePublicKey(principal.publicKey)) : ''),
          signature: new Uint8Array(Buffer.from(req.body.signature, 'base64')),
        };
      }
      return commandView(await deps.commands.approve(req.params.id, req.principal, signature));
    },
  );
}

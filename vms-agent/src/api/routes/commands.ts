/**
 * Issuing commands (operator), reading them back (an operator its own;
 * viewer, approver and security every one), approving them (approver; the
 * requester itself answers the challenge of its own command as operator).
 */
import type { FastifyRequest } from 'fastify';
import { decodePublicKey, keyId } from '@backchannel/proto';
import type { CommandState } from '../../commands/lifecycle.js';
import { parseIdempotencyKey } from '../../commands/idempotency.js';
import { ServiceError } from '../../errors.js';
import type { CommandDetail } from '../../store/store.js';
import { readsAllCommands } from '../access.js';
import type { ApiDeps, ApiInstance } from '../app.js';
import { ActionBody, ApprovalBody, Command, CommandList, CommandListQuery, CommandWaitQuery, HostDomainParams, IdempotencyHeaders, IdParam } from '../schemas.js';
import { commandSummaryView, commandView } from '../views.js';
import { authErrors, conflict, forbidden, notFound, unprocessable } from './errors.js';

const READERS = ['operator', 'approver', 'security', 'viewer'] as const;

/** The command, if the caller may read it. */
function readable(req: FastifyRequest, c: CommandDetail): CommandDetail {
  if (c.principal !== req.principal && !readsAllCommands(req)) {
    throw new ServiceError('FORBIDDEN', `command ${c.id} was issued by another principal; an operator reads only its own commands (viewer, approver and security read every one)`);
  }
  return c;
}

export function registerCommandRoutes(app: ApiInstance, deps: ApiDeps): void {
  /** A command as the API shows it, its challenge's expiry also on our clock (the host's may be skewed). */
  const view = async (c: CommandDetail) => commandView(c, await deps.commands.hostClockOffsetMs(c.hostId));

  app.post(
    '/v1/hosts/:host/domains/:domain/actions',
    {
      config: { roles: ['operator'] },
      schema: {
        summary:
          'Issue a VM action; answers 202 once the command is stored, or with ?wait=MS once it is final or awaiting approval (or MS have passed), saving a GET. With an Idempotency-Key header, a retry with the same key and body returns the first command (header Idempotent-Replayed: true); the same key with another body is refused (422 IDEMPOTENCY_KEY_REUSED)',
        tags: ['commands'],
        params: HostDomainParams,
        querystring: CommandWaitQuery,
        body: ActionBody,
        headers: IdempotencyHeaders,
        response: { 202: Command, ...authErrors, ...forbidden, ...notFound, ...unprocessable },
      },
    },
    async (req, reply) => {
      const input = { principal: req.principal, hostId: req.params.host, domain: req.params.domain, action: req.body.action, params: req.body.params ?? {} };
      const key = parseIdempotencyKey(req.headers['idempotency-key']);
      const { command: issued, replayed } = key ? await deps.commands.issueIdempotent(input, key) : { command: await deps.commands.issue(input), replayed: false };
      if (replayed) reply.header('idempotent-replayed', 'true');
      else deps.metrics.commandsIssued.inc({ action: issued.action });
      // The command is stored before the wait: a client that gives up (or a wait that
      // times out) still has it, at the Location given.
      const c = req.query.wait ? await deps.commands.waitSettled(issued.id, req.query.wait) : issued;
      return reply.code(202).header('location', `/v1/commands/${c.id}`).send(await view(c));
    },
  );

  app.get(
    '/v1/commands/:id',
    {
      config: { roles: READERS },
      schema: {
        summary: 'A command with its challenge, approvals, result and event trail; ?wait=MS long-polls until it is final or awaiting approval',
        tags: ['commands'],
        params: IdParam,
        querystring: CommandWaitQuery,
        response: { 200: Command, ...authErrors, ...forbidden, ...notFound },
      },
    },
    async (req) => {
      // Checked before a long-poll starts, so nobody waits for a command they may not read.
      const c = readable(req, await deps.commands.get(req.params.id));
      return view(req.query.wait ? await deps.commands.waitSettled(c.id, req.query.wait) : c);
    },
  );

  app.get(
    '/v1/commands',
    {
      config: { roles: READERS },
      schema: {
        summary: 'Recent commands, oldest first (an operator without another role sees only its own)',
        tags: ['commands'],
        querystring: CommandListQuery,
        response: { 200: CommandList, ...authErrors, ...forbidden },
      },
    },
    async (req) => {
      const filter: { hostId?: string; principal?: string; states?: CommandState[]; limit?: number } = { limit: req.query.limit ?? 100 };
      if (req.query.host) filter.hostId = req.query.host;
      if (req.query.principal) filter.principal = req.query.principal;
      if (!readsAllCommands(req)) {
        if (filter.principal !== undefined && filter.principal !== req.principal) {
          throw new ServiceError('FORBIDDEN', `an operator lists only its own commands; ${req.principal} may not list those of ${filter.principal}`);
        }
        filter.principal = req.principal;
      }
      if (req.query.state) filter.states = [req.query.state as CommandState];
      return { commands: (await deps.store.listCommands(filter)).map(commandSummaryView) };
    },
  );

  app.post(
    '/v1/commands/:id/approvals',
    {
      config: { roles: ['approver', 'operator'] },
      schema: {
        summary:
          "Approve a command's challenge: post your signature, or post {} to sign with your custodial key (role: approver; the requester answers its own command's challenge as operator). Idempotency-Key as for issuing",
        tags: ['commands'],
        params: IdParam,
        body: ApprovalBody,
        headers: IdempotencyHeaders,
        response: { 200: Command, ...authErrors, ...notFound, ...conflict, ...unprocessable },
      },
    },
    async (req, reply) => {
      if (!req.roles.includes('approver')) {
        const c = await deps.commands.get(req.params.id);
        if (c.principal !== req.principal) {
          throw new ServiceError('FORBIDDEN', `approving another principal's command needs the approver role; ${req.principal} may only answer the challenge of commands it issued`);
        }
      }
      let signature;
      if (req.body.signature) {
        const principal = await deps.store.getPrincipal(req.principal);
        signature = {
          keyId: req.body.keyId ?? (principal ? keyId(decodePublicKey(principal.publicKey)) : ''),
          signature: new Uint8Array(Buffer.from(req.body.signature, 'base64')),
        };
      }
      const key = parseIdempotencyKey(req.headers['idempotency-key']);
      if (!key) return view(await deps.commands.approve(req.params.id, req.principal, signature));
      const { command, replayed } = await deps.commands.approveIdempotent(req.params.id, req.principal, signature, key);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return view(command);
    },
  );
}

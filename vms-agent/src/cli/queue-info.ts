/** `vms-agent bmc queue-info HOST`: Get Queue Info on both queues through the host's BMC session. */
import { rmcpConnector } from '../link/rmcp-connector.js';
import { OemQueueClient, QueueId } from '@backchannel/proto';
import { need, parse } from './args.js';
import { CliError, EXIT } from './cli-error.js';
import { openLocalStore } from './local-store.js';
import { emit, stdoutOut, table } from './output.js';

export async function queueInfo(argv: string[]): Promise<number> {
  const p = parse(argv);
  const hostId = need(p, 0, 'HOST');
  const store = await openLocalStore(p.config());
  try {
    const host = await store.getHost(hostId);
    const secrets = await store.getHostSecrets(hostId);
    if (!host || !secrets) throw new CliError(EXIT.notFound, 'HOST_NOT_FOUND', `no host ${hostId}`);
    let session;
    try {
      session = await rmcpConnector({ host: host.bmcAddress, port: host.bmcPort, user: host.bmcUser, password: secrets.bmcPassword, privilege: host.bmcPrivilege, cipherSuites: host.cipherSuites });
    } catch (err) {
      throw new CliError(EXIT.unreachable, 'BMC_UNREACHABLE', `cannot open an RMCP+ session to ${host.bmcAddress}:${host.bmcPort}: ${(err as Error).message}`);
    }
    try {
      const q = new OemQueueClient(session, host.iana);
      const infos = [await q.queueInfo(QueueId.ToHost), await q.queueInfo(QueueId.ToManager)];
      emit(stdoutOut(p.json), infos, () =>
        table(infos.map((i) => [i.queue === 1 ? '1 (to host)' : '2 (to manager)', `0x${i.bmcEpoch.toString(16).padStart(8, '0')}`, i.depth, `${i.usedBytes}/${i.capacityBytes}`, i.maxRecord, i.lastPutSeq, i.committedSeq]), ['QUEUE', 'EPOCH', 'DEPTH', 'BYTES', 'MAX-REC', 'LAST-PUT', 'COMMITTED']),
      );
      return EXIT.ok;
    } finally {
      await session.close();
    }
  } finally {
    await store.close();
  }
}

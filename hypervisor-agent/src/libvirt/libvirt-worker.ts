/**
 * A libvirt call thread (worker_threads): runs one blocking libvirt request
 * at a time for libvirt-threads.ts and answers with plain data or libvirt's
 * error (code, domain, message) read on this same thread.
 */
import { parentPort } from 'node:worker_threads';
import { type CallRequest, runCall, WorkerFailure } from './libvirt-calls.js';
import { NOT_A_LIBVIRT_ERROR } from './libvirt-errors.js';

export interface CallMessage {
  id: number;
  req: CallRequest;
}

export type CallReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { code: number; domain: number; message: string } };

parentPort?.on('message', ({ id, req }: CallMessage) => {
  let reply: CallReply;
  try {
    reply = { id, ok: true, value: runCall(req) };
  } catch (err) {
    const error = err instanceof WorkerFailure ? err.fields : { code: NOT_A_LIBVIRT_ERROR, domain: 0, message: err instanceof Error ? err.message : String(err) };
    reply = { id, ok: false, error };
  }
  parentPort?.postMessage(reply);
});

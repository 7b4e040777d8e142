import { afterEach } from 'vitest';
import { type Harness, startHarness } from '../harness.js';
import { VmTestClient } from '../vm-test-client.js';

export interface VmSession {
  /** Starts the harness for this test; it is closed after the test. */
  start(opts?: Parameters<typeof startHarness>[0]): Promise<Harness>;
  /** Registers a client connected by hand so it is destroyed after the test. */
  track(c: VmTestClient): VmTestClient;
  /** Connects to the VM listener on `port` and waits for the BMC's first control message. */
  client(port: number): Promise<VmTestClient>;
}

/**
 * One harness and its clients per test, torn down in an afterEach it registers, so a failing
 * test never leaves a listener or socket behind for the next. Call at the top level of a test file.
 */
export function useVmSession(): VmSession {
  let h: Harness | undefined;
  const clients: VmTestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await h?.close();
    h = undefined;
  });
  const track = (c: VmTestClient): VmTestClient => {
    clients.push(c);
    return c;
  };
  return {
    async start(opts) {
      h = await startHarness(opts);
      return h;
    },
    track,
    async client(port) {
      const c = track(await VmTestClient.connect(port));
      await c.until(() => c.controls.length > 0);
      return c;
    },
  };
}

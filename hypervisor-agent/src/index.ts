/** @backchannel/hypervisor-agent library exports (the daemon is src/main.ts). */
export type { BmcTransport, VmSerialTarget, OpenVmSerialTransport } from './transport/bmc-transport.js';
export { parseLinkUri, type LinkTarget } from './transport/link-uri.js';
export { openTransport } from './transport/open-transport.js';
export { IpmiDeviceTransport, IpmiDeviceError } from './transport/ipmi-dev-transport.js';
export { Agent, AGENT_VERSION, type AgentOptions } from './agent/agent.js';
export { CommandProcessor } from './agent/command-processor.js';
export { LibvirtAdapter, type ActionOutcome } from './libvirt/libvirt-adapter.js';
export { compilePolicy, loadPolicyFile, type Policy } from './policy/policy.js';
export { decide, type PolicyDecision } from './policy/policy-decision.js';
export { issueChallenge, judgeResponse } from './auth/challenge-flow.js';
export { loadAgentConfig, parseAgentConfig, type AgentConfig } from './config/agent-config.js';
export { readBundle, enroll, type EnrollmentBundle } from './cli/enroll.js';
export { AgentStore } from './store/agent-store.js';
export { AgentMetrics } from './observability/metrics.js';
export { createLogger } from './observability/logger.js';
export { libvirtLibraryVersion } from './libvirt/libvirt-version.js';

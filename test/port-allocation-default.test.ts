// The port allocation a gateway runs with when nobody chose one: `natgw provision` (every mode) writes a natgw-config
// whose parsed portAllocation is the agent's own default, and `natgw agent --validate` prints that same object.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { DEFAULT_PORT_ALLOCATION, parseAgentConfig, type AgentConfigInput } from '../agent/config.js';
import { connectCompute } from '../provision/gcp/client.js';
import { desiredState, discover, type Discovery } from '../provision/gateway.js';
import { desiredHa } from '../provision/ha/gateway.js';
import { desiredStateful } from '../provision/ha/stateful.js';
import { parseOptions } from '../provision/options.js';
import { baseArgs, startSeededFake } from './fixtures/provision/helpers.js';
import { captureStdout } from './helpers/capture-stdout.js';
import { testCallContext } from './helpers/call-context.js';

const ZONES: [string, string] = ['us-central1-a', 'us-central1-b'];
const STATEFUL_IPS = { natIp: '203.0.113.100', members: { a: '10.10.0.5', b: '10.10.0.6' } };

const fake = await startSeededFake();
t.teardown(() => fake.close());
const clients = await connectCompute(parseOptions('provision', baseArgs(fake), {}).endpoint, { requestTimeoutMs: 10_000 });
t.teardown(() => clients.close());

async function discovered(options: ReturnType<typeof parseOptions>): Promise<Discovery> {
  const ctx = testCallContext(clients, options.project);
  return discover(ctx, options);
}

/** The natgw-config text `natgw provision` would write to the NAT VM(s) of a mode, given its flags. */
async function writtenConfig(mode: 'single' | 'ha' | 'stateful', flags: string[] = []): Promise<string> {
  const modeFlags = { single: [], ha: ['--ha'], stateful: ['--ha', '--stateful'] }[mode];
  const options = parseOptions('provision', baseArgs(fake, [...modeFlags, ...flags]), {});
  const discovery = await discovered(options);
  let agentConfig: AgentConfigInput;
  if (mode === 'single') ({ agentConfig } = desiredState({ options, discovery, zone: ZONES[0]!, payload: {} }));
  else if (mode === 'ha') ({ agentConfig } = desiredHa({ options, discovery, zones: ZONES, payload: {} }));
  else ({ agentConfig } = desiredStateful({ options, discovery, zones: ZONES, payload: {}, ips: STATEFUL_IPS }));
  return JSON.stringify(agentConfig);
}

/** What the agent runs with, from that text (a stateful agent is asked as member a, the way provision checks it). */
const agentParsed = (text: string) => parseAgentConfig(text, 'natgw-config', () => [STATEFUL_IPS.members.a]);

async function agentValidateOutput(t: Test, text: string): Promise<unknown> {
  const { runAgentCli } = await import('../agent/main.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'natgw-port-default-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'natgw-config.json');
  writeFileSync(file, text);
  const { result: code, stdout } = await captureStdout(() => runAgentCli(['--validate', '--config', file]));
  t.equal(code, 0, 'natgw agent --validate accepts it');
  return JSON.parse(stdout);
}

t.test('no port-block flag: every mode deploys exactly the agent default, which is the shared pool', async (t) => {
  t.same(DEFAULT_PORT_ALLOCATION, { mode: 'shared' }, 'the decision of docs/agent.md, "Port allocation"');
  t.same(parseAgentConfig('{"sourceRanges":["10.0.0.0/8"]}', 'bare').portAllocation, DEFAULT_PORT_ALLOCATION, 'the agent default');
  for (const mode of ['single', 'ha', 'stateful'] as const) {
    const text = await writtenConfig(mode);
    t.same(agentParsed(text).portAllocation, DEFAULT_PORT_ALLOCATION, `${mode}: the agent runs the default`);
    const written = (JSON.parse(text) as { portAllocation?: unknown }).portAllocation;
    if (written !== undefined) t.same(written, DEFAULT_PORT_ALLOCATION, `${mode}: what provision writes is the default`);
  }
  const printed = (await agentValidateOutput(t, await writtenConfig('single'))) as { portAllocation: unknown };
  t.same(printed.portAllocation, DEFAULT_PORT_ALLOCATION, '--validate prints the default it will run with');
});

t.test('a port-block flag reaches the agent unchanged, in single and HA mode', async (t) => {
  const staticBlocks = { mode: 'static', portsPerVm: 64, releaseAfterIdleSeconds: 120 };
  const dynamicBlocks = { mode: 'dynamic', minPortsPerVm: 64, maxPortsPerVm: 1024, releaseAfterIdleSeconds: 120 };
  for (const mode of ['single', 'ha'] as const) {
    t.same(agentParsed(await writtenConfig(mode, ['--ports-per-vm', '64'])).portAllocation, staticBlocks, `${mode}: static`);
    t.same(
      agentParsed(await writtenConfig(mode, ['--min-ports-per-vm', '64', '--max-ports-per-vm', '1024'])).portAllocation,
      dynamicBlocks,
      `${mode}: dynamic`,
    );
  }
  const printed = (await agentValidateOutput(t, await writtenConfig('ha', ['--ports-per-vm', '64']))) as { portAllocation: unknown };
  t.same(printed.portAllocation, staticBlocks);
});

t.test('blocks with stateful HA are refused by provision and by the agent, each giving the reason', async (t) => {
  const reason = /stateful HA uses the shared pool .*its own half of the shared NAT IP's ports/;
  t.throws(() => parseOptions('provision', baseArgs(fake, ['--ha', '--stateful', '--ports-per-vm', '64']), {}), reason);
  const dir = mkdtempSync(path.join(tmpdir(), 'natgw-port-default-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'agent.json');
  writeFileSync(file, JSON.stringify({ portAllocation: { mode: 'dynamic', minPortsPerVm: 64, maxPortsPerVm: 128 } }));
  t.throws(() => parseOptions('provision', baseArgs(fake, ['--ha', '--stateful', '--agent-config', file]), {}), reason);
  const statefulWithBlocks = { ...JSON.parse(await writtenConfig('stateful')), portAllocation: { mode: 'static', portsPerVm: 64 } };
  t.throws(() => agentParsed(JSON.stringify(statefulWithBlocks)), reason);
});

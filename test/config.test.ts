import { statefulPair } from './helpers/stateful-pair.js';
import t from 'tap';
import { ConfigError, DEFAULT_TIMEOUTS, parseAgentConfig, validateAgentConfig } from '../agent/config.js';

t.test('defaults are Cloud NAT’s', async (t) => {
  const config = parseAgentConfig('{"sourceRanges":["10.0.0.0/8"]}', 'test');
  t.same(config.timeouts, DEFAULT_TIMEOUTS);
  t.same(config.timeouts, { udp: 30, tcpEstablished: 1200, tcpTransitory: 30, tcpTimeWait: 120, icmp: 30 });
  t.equal(config.reconcileIntervalSeconds, 10);
  t.equal(config.listen, '0.0.0.0:9731');
  t.equal(config.mssClamp, 'pmtu');
  t.equal(config.maxConnectionsPerVm, undefined);
  t.equal(config.flowtableOffload, false, 'flowtable offload is opt-in');
});

t.test('flowtableOffload is a boolean and nothing else', async (t) => {
  t.equal(validateAgentConfig({ sourceRanges: ['10.0.0.0/8'], flowtableOffload: true }, 'test').flowtableOffload, true);
  t.throws(
    () => validateAgentConfig({ sourceRanges: ['10.0.0.0/8'], flowtableOffload: 'yes' }, 'test'),
    /flowtableOffload: expected boolean, got string "yes"/,
  );
  t.throws(() => validateAgentConfig({ sourceRanges: ['10.0.0.0/8'], flowtable: true }, 'test'), /flowtable: unknown key/);
});

t.test('private address space, and the opt-in for privately used public ranges', async (t) => {
  for (const range of ['10.0.0.0/8', '172.16.0.0/12', '172.31.255.0/24', '192.168.1.0/24', '100.64.0.0/10']) {
    t.doesNotThrow(() => validateAgentConfig({ sourceRanges: [range] }, 'test'), range);
  }
  for (const range of ['172.32.0.0/16', '11.0.0.0/8', '8.0.0.0/7']) {
    t.throws(() => validateAgentConfig({ sourceRanges: [range] }, 'test'), ConfigError, range);
    t.doesNotThrow(() => validateAgentConfig({ sourceRanges: [range], allowNonPrivateRanges: true }, 'test'), `${range} with the opt-in`);
  }
  t.throws(
    () => validateAgentConfig({ sourceRanges: ['0.0.0.0/0'], allowNonPrivateRanges: true }, 'test'),
    /open relay/,
    'no opt-in opens the relay',
  );
});

t.test('every problem is reported at once, each naming its field', async (t) => {
  try {
    validateAgentConfig({ sourceRanges: ['10.0.0.0/8', 'x'], timeouts: { udp: 0 }, extra: true }, 'metadata attribute natgw-config');
    t.fail('should throw');
  } catch (error) {
    t.type(error, ConfigError);
    const problems = (error as ConfigError).problems;
    t.equal(problems.length, 3);
    t.match((error as Error).message, /invalid config from metadata attribute natgw-config/);
    t.match(problems.join('\n'), /sourceRanges\[1\]/);
    t.match(problems.join('\n'), /timeouts\.udp/);
    t.match(problems.join('\n'), /extra: unknown key/);
  }
});

t.test('portAllocation: shared by default; static and dynamic blocks are powers of two in 64-32768', async (t) => {
  const withPorts = (portAllocation: unknown) => validateAgentConfig({ sourceRanges: ['10.0.0.0/8'], portAllocation }, 'test');
  t.same(
    parseAgentConfig('{"sourceRanges":["10.0.0.0/8"]}', 'test').portAllocation,
    { mode: 'shared' },
    "today's shared pool stays the default",
  );
  t.same(withPorts({ mode: 'static', portsPerVm: 64 }).portAllocation, { mode: 'static', portsPerVm: 64, releaseAfterIdleSeconds: 120 });
  t.same(withPorts({ mode: 'dynamic', minPortsPerVm: 64, maxPortsPerVm: 1024, releaseAfterIdleSeconds: 5 }).portAllocation, {
    mode: 'dynamic',
    minPortsPerVm: 64,
    maxPortsPerVm: 1024,
    releaseAfterIdleSeconds: 5,
  });
  t.throws(() => withPorts({ mode: 'static', portsPerVm: 100 }), /portAllocation\.portsPerVm: must be a power of two/);
  t.throws(() => withPorts({ mode: 'static', portsPerVm: 32 }), /portAllocation\.portsPerVm: Number must be greater than or equal to 64/);
  t.throws(
    () => withPorts({ mode: 'static', portsPerVm: 65_536 }),
    /portAllocation\.portsPerVm: Number must be less than or equal to 32768/,
  );
  t.throws(() => withPorts({ mode: 'static' }), /portAllocation\.portsPerVm: expected number, got nothing/);
  t.throws(
    () => withPorts({ mode: 'static', portsPerVm: 64, minPortsPerVm: 64 }),
    /portAllocation\.minPortsPerVm: unknown key in portAllocation/,
  );
  t.throws(
    () => withPorts({ mode: 'dynamic', minPortsPerVm: 128, maxPortsPerVm: 64 }),
    /portAllocation\.maxPortsPerVm: must be at least minPortsPerVm \(128\), got 64/,
  );
  t.throws(() => withPorts({ mode: 'per-vm' }), /portAllocation\.mode: .*'shared' \| 'static' \| 'dynamic'/);
});

t.test("natgw provision's port-block flags become the agent config's portAllocation, checked before any API call", async (t) => {
  const { parseOptions } = await import('../provision/options.js');
  const provision = (...flags: string[]) =>
    parseOptions('provision', ['--project', 'my-project', '--region', 'us-central1', ...flags], {}).agent;
  t.same(provision('--ports-per-vm', '128').portAllocation, { mode: 'static', portsPerVm: 128 });
  t.same(provision('--min-ports-per-vm', '64', '--max-ports-per-vm', '1024').portAllocation, {
    mode: 'dynamic',
    minPortsPerVm: 64,
    maxPortsPerVm: 1024,
  });
  t.equal(provision().portAllocation, undefined, 'no flag: the agent default (shared pool)');
  t.throws(() => provision('--ports-per-vm', '100'), /portAllocation\.portsPerVm: must be a power of two/);
  t.throws(() => provision('--min-ports-per-vm', '256', '--max-ports-per-vm', '128'), /maxPortsPerVm: must be at least minPortsPerVm/);
  t.throws(() => provision('--min-ports-per-vm', '64'), /go together/);
  t.throws(() => provision('--ports-per-vm', '64', '--max-ports-per-vm', '128'), /not both/);
  t.throws(
    () => parseOptions('status', ['--project', 'my-project', '--region', 'us-central1', '--ports-per-vm', '64'], {}),
    /only 'natgw provision' takes this flag/,
  );
});

t.test('stateful: natIp, two members with distinct IPs and disjoint port halves, ha only, no port blocks', async (t) => {
  const { members } = statefulPair('10.10.0');
  const base = { sourceRanges: ['10.10.0.0/24'], deploymentMode: 'ha', stateful: statefulPair('10.10.0') };
  const here = () => ['127.0.0.1', '10.10.0.3'];
  const check = (config: unknown) => validateAgentConfig(config, 'test', here);
  t.same(check(base).stateful, { natIp: '203.0.113.100', members, syncPort: 3780 }, 'syncPort defaults to 3780');
  t.throws(() => check({ ...base, stateful: { ...base.stateful, natIp: '203.0.113' } }), /stateful\.natIp: must be an IPv4 address/);
  t.throws(
    () => check({ ...base, stateful: { ...base.stateful, members: [members[0]] } }),
    /stateful\.members: must list exactly two NAT VMs/,
  );
  t.throws(
    () => check({ ...base, stateful: { ...base.stateful, members: [members[0], { ...members[1], ip: '10.10.0.2' }] } }),
    /stateful\.members\[1\]\.ip: must differ from members\[0\]\.ip/,
  );
  t.throws(
    () => check({ ...base, stateful: { ...base.stateful, members: [members[0], { ...members[1], ports: '30000-65535' }] } }),
    /stateful\.members\[1\]\.ports: 30000-65535 overlaps members\[0\]\.ports 1024-33279/,
  );
  t.throws(
    () => check({ ...base, stateful: { ...base.stateful, members: [{ ...members[0], ports: '80-33279' }, members[1]] } }),
    /stateful\.members\[0\]\.ports: must lie within 1024-65535/,
  );
  t.throws(
    () => check({ ...base, stateful: { ...base.stateful, members: [{ ...members[0], ports: '1024' }, members[1]] } }),
    /must be a port range FIRST-LAST/,
  );
  t.throws(() => check({ ...base, stateful: { ...base.stateful, syncPort: 0 } }), /stateful\.syncPort/);
  t.throws(() => check({ ...base, stateful: { ...base.stateful, peer: 'x' } }), /stateful\.peer: unknown key in stateful/);
  t.throws(() => check({ ...base, deploymentMode: 'single' }), /stateful: requires "deploymentMode": "ha"/);
  t.throws(
    () => check({ ...base, portAllocation: { mode: 'static', portsPerVm: 64 } }),
    /stateful: cannot be combined with portAllocation mode "static"/,
  );
  t.throws(
    () => validateAgentConfig(base, 'test', () => ['127.0.0.1', '10.10.0.9']),
    /stateful\.members: none of 10\.10\.0\.2, 10\.10\.0\.3 is an address of this VM \(it has 127\.0\.0\.1, 10\.10\.0\.9\)/,
  );
  t.throws(() => parseAgentConfig(JSON.stringify(base), 'test', () => ['10.10.0.9']), ConfigError, 'parse checks membership too');
});

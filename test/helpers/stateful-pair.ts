// The stateful pair the agent tests configure: one shared NAT IP, members .2 and .3 of a /24, each with its half of
// the ports (the halves provision assigns).
export const STATEFUL_NAT_IP = '203.0.113.100';

export function statefulPair(prefix: string): { natIp: string; members: { ip: string; ports: string }[] } {
  return {
    natIp: STATEFUL_NAT_IP,
    members: [
      { ip: `${prefix}.2`, ports: '1024-33279' },
      { ip: `${prefix}.3`, ports: '33280-65535' },
    ],
  };
}

// The lab's load-balancer health checker: runs in the fabric namespace and probes each backend over HTTP like GCE does
// (interval, timeout, healthy/unhealthy thresholds; a new backend counts as unhealthy until it passes): addressed to the
// forwarding rule's IP from the backend's own prober address when it has one (the fabric routes that source to it).
// Prints one JSON line per state change; it stops when its parent closes stdin, so it can never outlive the lab.
import http from 'node:http';
import { HEALTH_PROBER, type HealthCheckTarget as Target } from '../model.js';

interface Settings {
  targets: Target[];
}

const settings = JSON.parse(process.argv[2] ?? '{}') as Settings;

// GCE's timeout runs from the probe's start (connect, request and answer included), not from the last byte.
function probe(target: Target): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(
      {
        host: target.address ?? target.ip,
        port: target.port,
        path: target.path,
        agent: false,
        localAddress: target.source ?? HEALTH_PROBER,
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          clearTimeout(deadline);
          resolve(response.statusCode === 200);
        });
      },
    );
    const deadline = setTimeout(() => {
      request.destroy();
      resolve(false);
    }, target.timeoutMs);
    request.on('error', () => {
      clearTimeout(deadline);
      resolve(false);
    });
  });
}

for (const target of settings.targets) {
  let healthy = target.initiallyHealthy === true;
  let streak = 0;
  const tick = async () => {
    const ok = await probe(target);
    streak = ok === healthy ? 0 : streak + 1;
    if (streak >= (ok ? target.healthyThreshold : target.unhealthyThreshold)) {
      healthy = ok;
      streak = 0;
      process.stdout.write(`${JSON.stringify({ group: target.group, ip: target.ip, healthy, at: Date.now() })}\n`);
    }
  };
  setInterval(() => void tick(), target.intervalMs);
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

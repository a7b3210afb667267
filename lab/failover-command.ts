// `natgw lab failover`: builds the stateful pair, runs the failover measurement (lab/failover.ts) on it, prints the
// report for a person or as JSON, and tears everything down.
import { describeFailover, failoverToolsMissing, flowsSurvived, runFailover, type FailoverReport } from './failover.js';
import { buildProvisionedPair } from './stateful/provisioned-pair.js';

/**
 * `natgw lab failover`: builds the lab, measures, tears it down. Exit 0 when the flows came through (with sync) or
 * when the control ran (without); 1 when flows were lost with sync on.
 */
export async function runFailoverCommand(
  options: { flows: number; sync: boolean; bulk: boolean; failureDelayMs?: number | undefined },
  say: (line: string) => void,
  onReport: (report: FailoverReport) => void,
): Promise<number> {
  const missing = failoverToolsMissing(options);
  if (missing !== false) throw new Error(missing);
  say(
    `natgw lab failover: ${options.flows} long-lived TCP flows through natgw provision --ha --stateful (state sync ${options.sync ? 'on' : 'off'}${options.bulk ? ', iperf3 bulk alongside' : ''}); the active NAT VM fails like a host`,
  );
  const indent = (line: string) => say(`  ${line}`);
  const pair = await buildProvisionedPair({ sync: options.sync, say: indent });
  let report: FailoverReport;
  try {
    report = await runFailover(pair, { ...options, say: indent });
  } finally {
    await pair.close();
  }
  onReport(report);
  say('');
  for (const line of describeFailover(report)) say(line);
  if (!options.sync) {
    say('\ncontrol (--no-sync): without state sync the standby has no translation, so the flows are expected to be lost');
    return 0;
  }
  const ok = flowsSurvived(report);
  say(ok ? '\nthe flows came through the failure' : '\nFLOWS WERE LOST: see above');
  return ok ? 0 : 1;
}

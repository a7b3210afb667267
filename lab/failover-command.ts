// `natgw lab failover`: builds the pair the mode's provisioner builds (stateful HA by default, plain HA with --mode ha),
// runs the failover measurement (lab/failover.ts) on it, prints the report for a person or as JSON, and tears
// everything down.
import {
  describeFailover,
  describeHaFailover,
  failoverToolsMissing,
  flowsSurvived,
  runFailover,
  runHaFailover,
  survivorFlowsKept,
  type FailoverMeasurement,
  type FailoverMode,
} from './failover.js';
import { buildProvisionedHaPair } from './ha-pair.js';
import { buildProvisionedPair } from './stateful/provisioned-pair.js';

export interface FailoverCommandOptions {
  mode: FailoverMode;
  flows: number;
  sync: boolean;
  bulk: boolean;
  failureDelayMs?: number | undefined;
}

/**
 * `natgw lab failover`: builds the lab, measures, tears it down. Exit 0 when the flows came through (stateful, with
 * sync), when the control ran (without), or when plain HA kept the survivor's flows and new flows work again; 1 otherwise.
 */
export async function runFailoverCommand(
  options: FailoverCommandOptions,
  say: (line: string) => void,
  onReport: (report: FailoverMeasurement) => void,
): Promise<number> {
  const missing = failoverToolsMissing(options);
  if (missing !== false) throw new Error(missing);
  const indent = (line: string) => say(`  ${line}`);
  if (options.mode === 'ha') {
    say(
      `natgw lab failover --mode ha: ${options.flows} long-lived TCP flows through natgw provision --ha (both NAT VMs active, each with its own NAT IP, no state shared${options.bulk ? '; iperf3 bulk alongside' : ''}); one NAT VM fails like a host`,
    );
    const pair = await buildProvisionedHaPair({ say: indent });
    const report = await runHaFailover(pair, { ...options, say: indent }).finally(() => pair.close());
    onReport(report);
    say('');
    for (const line of describeHaFailover(report)) say(line);
    const kept = survivorFlowsKept(report);
    say(
      kept
        ? `\nplain HA: the survivor's flows carried on and new flows work again; ${report.onFailedVm.survived} of the ${report.onFailedVm.flows} flows through ${report.failed} survived`
        : '\nTHE SURVIVOR LOST FLOWS OR NEW FLOWS DID NOT RECOVER: see above',
    );
    return kept ? 0 : 1;
  }
  say(
    `natgw lab failover: ${options.flows} long-lived TCP flows through natgw provision --ha --stateful (state sync ${options.sync ? 'on' : 'off'}${options.bulk ? ', iperf3 bulk alongside' : ''}); the active NAT VM fails like a host`,
  );
  const pair = await buildProvisionedPair({ sync: options.sync, say: indent });
  const report = await runFailover(pair, { ...options, say: indent }).finally(() => pair.close());
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

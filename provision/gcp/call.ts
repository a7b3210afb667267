// Retries, requestIds, operation waiting and error translation: the behaviour every thin API module shares.
import { randomUUID } from 'node:crypto';
import type { protos } from '@google-cloud/compute';
import type { Clock } from '../../common/clock.js';
import { ProvisionError, type Refusal } from '../../common/errors.js';
import type { ComputeClients } from './client.js';

export { ProvisionError, type Refusal };

export type Operation = protos.google.cloud.compute.v1.IOperation;

export interface CallContext {
  clients: ComputeClients;
  project: string;
  /** Base delay of the exponential backoff; tests make it tiny. */
  retryBaseMs: number;
  maxAttempts: number;
  /** How long one operation may take before we give up waiting (the operation itself keeps going). */
  operationTimeoutMs: number;
  onRetry?: (what: string, attempt: number, reason: string, delayMs: number) => void;
  /** Every backoff, poll and deadline of the provisioner goes through it (tests pass a fake one). */
  clock: Clock;
}

interface ParsedApiError {
  status?: number;
  reason?: string;
  message: string;
  code?: string;
}

/** Pulls status, reason and message out of whatever the client threw (GaxiosError with a JSON body, or not). */
export function parseApiError(error: unknown): ParsedApiError {
  if (typeof error === 'string') return { message: error };
  const e = error as { code?: unknown; status?: unknown; message?: unknown; response?: { status?: number; data?: unknown } };
  const status =
    typeof e.status === 'number'
      ? e.status
      : typeof e.response?.status === 'number'
        ? e.response.status
        : typeof e.code === 'number'
          ? e.code
          : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  let message = typeof e.message === 'string' ? e.message : String(error);
  let reason: string | undefined;
  const bodies = [e.response?.data, message];
  for (const body of bodies) {
    let parsed: unknown = body;
    if (typeof body === 'string') {
      try {
        parsed = JSON.parse(body);
      } catch {
        continue;
      }
    }
    const inner = (parsed as { error?: { message?: string; errors?: { reason?: string }[] } } | undefined)?.error;
    if (inner !== undefined && typeof inner === 'object') {
      if (typeof inner.message === 'string') message = inner.message;
      reason = inner.errors?.[0]?.reason;
      break;
    }
  }
  return {
    ...(status === undefined ? {} : { status }),
    ...(reason === undefined ? {} : { reason }),
    ...(code === undefined ? {} : { code }),
    message,
  };
}

export function isNotFound(error: unknown): boolean {
  const parsed = parseApiError(error);
  return parsed.status === 404 || parsed.reason === 'notFound';
}

const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'UND_ERR_SOCKET']);
// GCE's transient answers (backendError/internalError, bad gateway, unavailable, gateway timeout, throttling): mutations
// are safe to repeat because every retry carries the same requestId.
const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

function retryable(error: unknown): string | undefined {
  const parsed = parseApiError(error);
  if (parsed.status !== undefined && RETRYABLE_STATUSES.has(parsed.status))
    return `HTTP ${parsed.status}${parsed.reason === undefined ? '' : ` ${parsed.reason}`}`;
  if (parsed.reason === 'rateLimitExceeded' || parsed.reason === 'userRateLimitExceeded')
    return `HTTP ${parsed.status ?? 403} ${parsed.reason}`;
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause?.code;
  for (const code of [parsed.code, cause]) if (code !== undefined && RETRYABLE_CODES.has(code)) return code;
  if (/socket hang up|ECONNRESET/i.test(parsed.message)) return 'connection reset';
  return undefined;
}

const CONSTRAINT = /constraints\/[A-Za-z0-9_.]+[A-Za-z0-9]/;
// "Quota 'CPUS' exceeded" (resource quotas) or "quota metric 'Read requests'" (API rate quotas).
const QUOTA_NAME = /Quota '([A-Z0-9_]+)'|quota metric '([^']+)'/i;
const quotaName = (message: string, fallback: string) => {
  const match = QUOTA_NAME.exec(message);
  return match?.[1] ?? match?.[2] ?? fallback;
};

/** Text ending in a full stop, so a sentence can follow it. */
export const sentence = (text: string) => (/[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`);

const POLICY_NEEDS: Record<string, string> = {
  'constraints/compute.vmExternalIpAccess': 'an external IP on the NAT VM (it is the NAT IP)',
  'constraints/compute.vmCanIpForward': 'IP forwarding on the NAT VM (canIpForward)',
  'constraints/compute.restrictLoadBalancerCreationForTypes':
    "an external passthrough Network Load Balancer (EXTERNAL_NETWORK_TCP_UDP) holding --stateful's shared NAT IP",
};

/** The one message for an organization-policy refusal (quoted in docs/deploy.md). */
export function policyRefusal(what: string, constraint: string, message: string): ProvisionError {
  return new ProvisionError(
    `${what}: ${sentence(message)} Refused by the organization policy ${constraint}: natgw needs ${POLICY_NEEDS[constraint] ?? 'what this constraint forbids'}. ` +
      'Ask your organization policy admin for an exception for this project, then re-run.',
    { kind: 'policy', constraint },
  );
}

/** The one message for a quota refusal (quoted in docs/deploy.md). */
export function quotaRefusal(what: string, quota: string, message: string): ProvisionError {
  return new ProvisionError(
    `${what}: ${sentence(message)} Quota ${quota} is exhausted: raise it (console: IAM & Admin > Quotas) or free some, then re-run.`,
    { kind: 'quota', quota },
  );
}

export interface ErrorEntry {
  code?: string | null;
  message?: string | null;
}

export const errorsText = (errors: ErrorEntry[]) => errors.map((error) => `${error.code ?? 'ERROR'}: ${error.message ?? ''}`).join('; ');

/** A policy or quota refusal among errors GCE reports without an HTTP status (operation errors, MIG errors). */
export function refusalIn(what: string, errors: ErrorEntry[]): ProvisionError | undefined {
  const text = errorsText(errors);
  const constraint = errors.map((error) => CONSTRAINT.exec(error.message ?? '')?.[0]).find((found) => found !== undefined);
  if (constraint !== undefined) return policyRefusal(what, constraint, text);
  const quota = errors.find((error) => /QUOTA/.test(String(error.code)));
  if (quota !== undefined) return quotaRefusal(what, quotaName(quota.message ?? '', String(quota.code)), text);
  return undefined;
}

/** Turns an API failure into one sentence an operator can act on. */
export function describeFailure(what: string, error: unknown): ProvisionError {
  if (error instanceof ProvisionError) return error;
  const parsed = parseApiError(error);
  // GCE names the constraint in a 4xx (412 conditionNotMet seen cited); any status, the constraint is what matters.
  const constraint = CONSTRAINT.exec(parsed.message)?.[0];
  if (constraint !== undefined && (parsed.status === undefined || (parsed.status >= 400 && parsed.status < 500)))
    return policyRefusal(what, constraint, parsed.message);
  const permission = /Required '([a-z]+\.[a-zA-Z]+\.[a-zA-Z]+)' permission/.exec(parsed.message)?.[1];
  if (parsed.status === 403 && permission !== undefined) {
    return new ProvisionError(
      `${what}: permission denied: the caller lacks '${permission}' (${parsed.message}). Grant a role that includes it (see docs/deploy.md) and re-run.`,
    );
  }
  if (parsed.status === 403 && /quota/i.test(`${parsed.reason ?? ''} ${parsed.message}`)) {
    return quotaRefusal(what, quotaName(parsed.message, parsed.reason ?? 'quotaExceeded'), parsed.message);
  }
  if (parsed.status === 403) return new ProvisionError(`${what}: permission denied: ${parsed.message}`);
  if (parsed.status === 401)
    return new ProvisionError(
      `${what}: not authenticated: ${parsed.message}. Run 'gcloud auth application-default login' or set GOOGLE_APPLICATION_CREDENTIALS.`,
    );
  const status =
    parsed.status === undefined
      ? (parsed.code ?? 'error')
      : `HTTP ${parsed.status}${parsed.reason === undefined ? '' : ` ${parsed.reason}`}`;
  return new ProvisionError(`${what}: ${status}: ${parsed.message}`);
}

/** Calls `fn` with retries for throttling, unavailability and dropped connections; everything else fails at once. */
export async function withRetry<T>(ctx: CallContext, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const reason = retryable(error);
      if (reason === undefined || attempt >= ctx.maxAttempts) throw error;
      const delay = Math.round(ctx.retryBaseMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5));
      ctx.onRetry?.(what, attempt, reason, delay);
      await ctx.clock.sleep(delay);
    }
  }
}

/** Reads a resource; a 404 is an answer (undefined), not an error. */
export async function getOrUndefined<T>(ctx: CallContext, what: string, fn: () => Promise<[T, ...unknown[]]>): Promise<T | undefined> {
  try {
    const [value] = await withRetry(ctx, what, fn);
    return value;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw describeFailure(what, error);
  }
}

export type OperationScope = { kind: 'global' } | { kind: 'region'; region: string } | { kind: 'zone'; zone: string };

/**
 * Runs one mutation to completion: a requestId shared by every retry (so a retried insert cannot create twice), then
 * waits for the operation and turns an operation error into a ProvisionError.
 */
export async function mutate(
  ctx: CallContext,
  what: string,
  scope: OperationScope,
  start: (requestId: string) => Promise<[unknown, ...unknown[]]>,
): Promise<Operation> {
  const requestId = randomUUID();
  let operation: Operation;
  try {
    const [lro] = await withRetry(ctx, what, () => start(requestId));
    // The LRO wrapper has no usable promise() in REST mode; the Compute Operation is its latestResponse.
    operation = ((lro as { latestResponse?: Operation }).latestResponse ?? lro) as Operation;
  } catch (error) {
    throw describeFailure(what, error);
  }
  return waitOperation(ctx, what, scope, operation);
}

async function waitOperation(ctx: CallContext, what: string, scope: OperationScope, first: Operation): Promise<Operation> {
  let operation = first;
  const deadline = ctx.clock.now() + ctx.operationTimeoutMs;
  // The cap matters: an unknown status decodes to undefined and would otherwise loop forever.
  for (let round = 0; String(operation.status) !== 'DONE'; round++) {
    if (ctx.clock.now() > deadline || round > 10_000) {
      throw new ProvisionError(
        `${what}: operation ${operation.name} still ${String(operation.status)} after ${Math.round(ctx.operationTimeoutMs / 1000)}s; it may still finish. Re-run to converge.`,
      );
    }
    const name = String(operation.name);
    try {
      const [next] = await withRetry(ctx, `${what} (waiting)`, async () => {
        switch (scope.kind) {
          case 'global':
            return ctx.clients.globalOperations.wait({ project: ctx.project, operation: name });
          case 'region':
            return ctx.clients.regionOperations.wait({ project: ctx.project, region: scope.region, operation: name });
          case 'zone':
            return ctx.clients.zoneOperations.wait({ project: ctx.project, zone: scope.zone, operation: name });
        }
      });
      operation = next as Operation;
    } catch (error) {
      throw describeFailure(`${what} (waiting for ${name})`, error);
    }
  }
  const errors = operation.error?.errors ?? [];
  if (errors.length > 0) {
    throw refusalIn(`${what} failed`, errors) ?? new ProvisionError(`${what} failed: ${errorsText(errors)}`);
  }
  return operation;
}

// What every API module of the fake shares: the request context, the handler shape, and the mutation helpers that make
// inserts, deletes and patches behave like the real API (synchronous 400/404/409, idempotent requestId, an operation).
// The modules depend on this file and on the store only, never on the HTTP server, so the server can compose them
// without an import cycle.
import { methodSpec, type MethodSpec } from './protos.js';
import {
  API_BASE,
  ApiError,
  ComputeStore,
  invalid,
  notFound,
  OperationFailure,
  relativePath,
  type Collection,
  type Json,
  type OperationError,
  type Scope,
} from './store.js';

export interface Fault {
  /** The method id (compute.instances.insert) or a pattern over it; absent = any method (then give `path`). */
  method?: string | RegExp;
  /** Matched against the request's URL path (no query), e.g. /global\/routes\/natgw-/. */
  path?: string | RegExp;
  /** Matched against the request body, e.g. an insert of one name: `(body) => body.name === 'natgw-nlb'`. */
  body?: (body: Json) => boolean;
  /** How many matching calls fail; default 1, Infinity for all. */
  times?: number;
  /** Answer this much later (alone: a slow but successful call). */
  delayMs?: number;
  /** Reply with this HTTP error … */
  status?: number;
  reason?: string;
  message?: string;
  /** … or accept the call and let its operation finish with this error … */
  operationError?: OperationError;
  /** … or drop the connection (ECONNRESET on the client). */
  reset?: boolean;
}

export interface Ctx {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body: Json;
  project: string;
  scope: Scope;
  /** The zone name of a zonal call, else ''. */
  zone: string;
  fault?: Fault;
}

export interface Handler {
  spec: MethodSpec;
  handle: (ctx: Ctx) => Json | Promise<Json>;
}

/** One handler per RPC, its HTTP binding read from protos.json, e.g. handler('Routes', 'Insert', …). */
export const handler = (service: string, method: string, handle: Handler['handle']): Handler => ({
  spec: methodSpec(service, method),
  handle,
});

export const NAME_REGEX = '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)';
const MAX_METADATA_VALUE = 256 * 1024;
const MAX_METADATA_TOTAL = 512 * 1024;

export const lastSegment = (url: unknown) =>
  String(url ?? '')
    .split('/')
    .pop() ?? '';

export const inUse = (kind: string, name: string, user: unknown) =>
  new ApiError(
    400,
    'resourceInUseByAnotherResource',
    `The ${kind} resource '${name}' is already being used by '${String(user).replace(API_BASE, '')}'`,
  );

export const fullLink = (project: string, scope: Scope, collection: Collection, name: string) =>
  `${API_BASE}${ComputeStore.key(project, scope, collection, name)}`;

export const metadataValue = (resource: Json, key: string) =>
  (((resource.metadata as Json | undefined)?.items as { key: string; value: string }[] | undefined) ?? []).find((item) => item.key === key)
    ?.value;

export function checkMetadata(metadata: Json): void {
  const items = (metadata.items as { key?: string; value?: string }[] | undefined) ?? [];
  let total = 0;
  const keys = new Set<string>();
  for (const [index, item] of items.entries()) {
    const key = String(item.key ?? '');
    if (!/^[a-zA-Z0-9-_]{1,128}$/.test(key)) throw invalid(`Invalid value for field 'resource.metadata.items[${index}].key': '${key}'.`);
    if (keys.has(key)) throw invalid(`Invalid value for field 'resource.metadata': duplicate key '${key}'.`);
    keys.add(key);
    const size = Buffer.byteLength(String(item.value ?? ''));
    if (size > MAX_METADATA_VALUE)
      throw invalid(
        `Value for field 'resource.metadata.items[${index}].value' is too large: maximum size ${MAX_METADATA_VALUE} character(s); actual size ${size}.`,
      );
    total += size + key.length;
  }
  if (total > MAX_METADATA_TOTAL)
    throw invalid(
      `Value for field 'resource.metadata' is too large: maximum size ${MAX_METADATA_TOTAL} character(s); actual size ${total}.`,
    );
}

/** The store plus the real API's mutation semantics, handed to every API module. */
export class HandlerKit {
  constructor(readonly store: ComputeStore) {}

  /** Runs a mutation as the real API does: idempotent per requestId, effect applied, operation returned. */
  mutate(ctx: Ctx, operationType: string, targetLink: string, apply: () => Json | undefined): Json {
    const requestId = ctx.query.requestId;
    const seen = this.store.operationForRequestId(requestId);
    if (seen !== undefined) return seen;
    const base = { project: ctx.project, scope: ctx.scope, operationType, targetLink, ...(requestId === undefined ? {} : { requestId }) };
    if (ctx.fault?.operationError !== undefined) return this.store.createOperation({ ...base, error: ctx.fault.operationError });
    let target: Json | undefined;
    try {
      target = apply();
    } catch (error) {
      // Quotas and the like: the call is accepted and its operation ends DONE with the error; nothing was applied.
      if (error instanceof OperationFailure) return this.store.createOperation({ ...base, error: error.error });
      throw error;
    }
    return this.store.createOperation({ ...base, ...(target?.id === undefined ? {} : { targetId: String(target.id) }) });
  }

  /** Insert with validation before the operation exists (400s are synchronous) and an optional effect after the put. */
  insert(ctx: Ctx, collection: Collection, prepare: (body: Json) => Json, after?: (stored: Json) => void): Json {
    const name = ctx.body.name;
    if (!ComputeStore.validName(name)) {
      throw invalid(`Invalid value for field 'resource.name': '${String(name ?? '')}'. Must be a match of regex '${NAME_REGEX}'`);
    }
    const path = ComputeStore.key(ctx.project, ctx.scope, collection, String(name));
    // A retried insert with the same requestId is answered before the duplicate-name check, like the real API.
    const seen = this.store.operationForRequestId(ctx.query.requestId);
    if (seen !== undefined) return seen;
    if (this.store.getByPath(path) !== undefined) throw new ApiError(409, 'alreadyExists', `The resource '${path}' already exists`);
    return this.mutate(ctx, 'insert', `${API_BASE}${path}`, () => {
      const stored = this.store.put(ctx.project, ctx.scope, collection, prepare(ctx.body));
      after?.(stored);
      return stored;
    });
  }

  remove(ctx: Ctx, collection: Collection, name: string, check: (resource: Json) => void = () => undefined): Json {
    const seen = this.store.operationForRequestId(ctx.query.requestId);
    if (seen !== undefined) return seen;
    const resource = this.store.require(ctx.project, ctx.scope, collection, name);
    check(resource);
    return this.mutate(ctx, 'delete', String(resource.selfLink), () => {
      this.store.remove(ctx.project, ctx.scope, collection, name);
      return resource;
    });
  }

  /**
   * A patch: merge the body into the resource (nested objects merged one level), after `check` saw the result. A
   * resource with a fingerprint gets a new one; a kind GCE gives none (a Router) says `fingerprinted: false`.
   */
  patch(
    ctx: Ctx,
    collection: Collection,
    name: string,
    check: (merged: Json, current: Json) => void,
    after?: (updated: Json, before: Json) => void,
    { fingerprinted = true }: { fingerprinted?: boolean } = {},
  ): Json {
    const seen = this.store.operationForRequestId(ctx.query.requestId);
    if (seen !== undefined) return seen;
    const current = this.store.require(ctx.project, ctx.scope, collection, name);
    if (ctx.body.name !== undefined && ctx.body.name !== name)
      throw invalid(`Invalid value for field 'resource.name': '${String(ctx.body.name)}'. Resource name cannot be changed.`);
    if (ctx.body.fingerprint !== undefined && current.fingerprint !== undefined && ctx.body.fingerprint !== current.fingerprint) {
      throw new ApiError(412, 'conditionNotMet', 'Supplied fingerprint does not match current fingerprint.');
    }
    const merged: Json = structuredClone(current);
    for (const [key, value] of Object.entries(ctx.body)) {
      if (key === 'fingerprint') continue;
      const old = merged[key];
      merged[key] =
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        old !== null &&
        typeof old === 'object' &&
        !Array.isArray(old)
          ? { ...(old as Json), ...(value as Json) }
          : value;
    }
    check(merged, current);
    const before = structuredClone(current);
    return this.mutate(ctx, 'patch', String(current.selfLink), () => {
      const updated = this.store.update(ctx.project, ctx.scope, collection, name, (resource) => {
        for (const key of Object.keys(resource)) delete resource[key];
        Object.assign(resource, merged, fingerprinted ? { fingerprint: ComputeStore.fingerprint(merged) } : {});
      });
      after?.(updated, before);
      return updated;
    });
  }

  /** setLabels with the real API's optimistic locking: the caller's labelFingerprint must be the current one. */
  setLabels(ctx: Ctx, collection: Collection, name: string): Json {
    const current = this.store.require(ctx.project, ctx.scope, collection, name);
    if (ctx.body.labelFingerprint !== current.labelFingerprint)
      throw new ApiError(412, 'conditionNotMet', 'Labels fingerprint either invalid or resource labels have changed');
    return this.mutate(ctx, 'setLabels', String(current.selfLink), () =>
      this.store.update(ctx.project, ctx.scope, collection, name, (resource) => {
        resource.labels = ctx.body.labels ?? {};
        resource.labelFingerprint = ComputeStore.fingerprint(resource.labels);
      }),
    );
  }

  listOf(ctx: Ctx, collection: Collection, kind: string, items: Json[] = this.store.list(ctx.project, ctx.scope, collection)): Json {
    return {
      kind: `compute#${kind}List`,
      id: `projects/${ctx.project}/${ctx.scope}/${collection}`,
      items,
      selfLink: `${API_BASE}projects/${ctx.project}/${ctx.scope}/${collection}`,
    };
  }

  requireNetwork(ctx: Ctx, reference: unknown, field: string): Json {
    if (typeof reference !== 'string' || reference === '')
      throw invalid(`Invalid value for field '${field}': ''. The network must be specified.`);
    const path = relativePath(reference, ctx.project, 'global', 'networks');
    const network = this.store.getByPath(path);
    if (network === undefined) throw notFound(path);
    return network;
  }

  requireRef(ref: unknown, ctx: Ctx, scope: Scope, collection: Collection, field: string): Json {
    if (typeof ref !== 'string' || ref === '') throw invalid(`Invalid value for field '${field}': ''. Must be specified.`);
    const path = relativePath(ref, ctx.project, scope, collection);
    const found = this.store.getByPath(path);
    if (found === undefined) throw notFound(path);
    return found;
  }

  /** Internal IPs in use (VMs, forwarding rules, reserved internal addresses), so one is never handed out twice. */
  usedInternalIps(): Set<string> {
    const used = new Set(
      this.store.all('instances').map((entry) => String(((entry.resource.networkInterfaces as Json[])[0] as Json).networkIP)),
    );
    for (const entry of this.store.all('forwardingRules'))
      if (entry.resource.loadBalancingScheme === 'INTERNAL') used.add(String(entry.resource.IPAddress));
    for (const entry of this.store.all('addresses'))
      if (entry.resource.addressType === 'INTERNAL') used.add(String(entry.resource.address));
    return used;
  }
}

// The HTTP face of the fake Compute API: the real client's paths and bodies (from protos.json), strict validation,
// operations, fault injection and a request log. State lives in ComputeStore.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import { methodSpec, validateMessage, type MethodSpec } from './protos.js';
import { haHandlers } from './ha.js';
import { API_BASE, ApiError, ComputeStore, invalid, notFound, relativePath, type Collection, type Json, type OperationError, type Scope } from './store.js';

export interface LoggedRequest {
  /** compute.routes.insert, … */
  method: string;
  httpMethod: string;
  url: string;
  body: unknown;
  status?: number;
}

export interface Fault {
  /** The method id (compute.instances.insert) or a pattern over it. */
  method: string | RegExp;
  /** How many matching calls fail; default 1. */
  times?: number;
  /** Reply with this HTTP error … */
  status?: number;
  reason?: string;
  message?: string;
  /** … or accept the call and let its operation finish with this error … */
  operationError?: OperationError;
  /** … or drop the connection (ECONNRESET on the client). */
  reset?: boolean;
}

export interface Handler {
  spec: MethodSpec;
  handle: (ctx: Ctx) => Json | Promise<Json>;
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

/** POST methods that only read. */
export const READ_ONLY_POSTS = new Set([
  'compute.regionBackendServices.getHealth',
  'compute.regionInstanceGroupManagers.listManagedInstances',
  'compute.regionInstanceGroupManagers.listPerInstanceConfigs',
  'compute.regionInstanceGroupManagers.listErrors',
]);

const MAX_METADATA_VALUE = 256 * 1024;
const MAX_METADATA_TOTAL = 512 * 1024;
const NAME_REGEX = '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)';

function scopeOf(params: Record<string, string>): Scope {
  if (params.zone !== undefined) return `zones/${params.zone}`;
  if (params.region !== undefined) return `regions/${params.region}`;
  return 'global';
}

export const lastSegment = (url: unknown) => String(url ?? '').split('/').pop() ?? '';

export class FakeComputeApi {
  readonly requests: LoggedRequest[] = [];
  private readonly faults: (Fault & { left: number })[] = [];
  readonly app: FastifyInstance;

  constructor(readonly store: ComputeStore) {
    this.app = Fastify({ logger: false });
    // The real client sends content-type: application/json on every request, even a bodiless DELETE.
    this.app.removeAllContentTypeParsers();
    this.app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
      const text = String(body);
      if (text.trim() === '' || text.trim() === '""') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch {
        done(new ApiError(400, 'parseError', 'Parse Error') as unknown as Error, undefined);
      }
    });
    this.app.setErrorHandler((error, _request, reply) => {
      const api = error instanceof ApiError ? error : new ApiError(500, 'backendError', (error as Error).message);
      return reply.code(api.status).send(api.body());
    });
    for (const handler of this.handlers()) this.route(handler);
  }

  /** @internal Set by the HA handlers. */
  haOps?: { recreate(project: string, region: string, mig: string, instance: string): Json };

  /**
   * The lab's autohealing hook: recreates one member of a regional MIG — a store `delete` then `insert` event for the
   * same instance name and zone, from the MIG's current template, keeping its per-instance (stateful) external IP.
   */
  recreateManagedInstance(project: string, region: string, mig: string, instance: string): Json {
    return this.haOps!.recreate(project, region, mig, instance);
  }

  /** Makes the next matching call(s) fail. */
  inject(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** The request log's method ids, e.g. to assert a run made only reads. */
  methods(): string[] {
    return this.requests.map((request) => request.method);
  }

  /** Calls that change something: not GETs, not operation waits, and not the API's read-only POSTs (getHealth, list…). */
  mutations(): LoggedRequest[] {
    return this.requests.filter((request) => request.httpMethod !== 'GET' && !request.method.endsWith('Operations.wait') && !READ_ONLY_POSTS.has(request.method));
  }

  private takeFault(methodId: string): Fault | undefined {
    const index = this.faults.findIndex((fault) => (typeof fault.method === 'string' ? fault.method === methodId : fault.method.test(methodId)) && fault.left > 0);
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    fault.left -= 1;
    if (fault.left <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private route(handler: Handler): void {
    const { spec } = handler;
    this.app.route({
      method: spec.httpMethod,
      url: spec.path,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const logged: LoggedRequest = { method: spec.id, httpMethod: spec.httpMethod, url: request.url, body: request.body };
        this.requests.push(logged);
        const params = request.params as Record<string, string>;
        const fault = this.takeFault(spec.id);
        if (fault?.reset) {
          reply.hijack();
          request.raw.socket.destroy();
          return;
        }
        try {
          if (fault?.status !== undefined) {
            throw new ApiError(fault.status, fault.reason ?? 'backendError', fault.message ?? `injected HTTP ${fault.status} for ${spec.id}`);
          }
          if (spec.bodyType !== undefined) {
            if (request.body === undefined) throw invalid(`Required field '${spec.bodyField}' not specified`);
            const problems = validateMessage(spec.bodyType, request.body, spec.bodyField ?? 'resource');
            if (problems.length > 0) throw new ApiError(400, 'invalid', problems.join('\n'));
          }
          const result = await handler.handle({
            params,
            query: request.query as Record<string, string | undefined>,
            body: (request.body ?? {}) as Json,
            project: params.project!,
            scope: scopeOf(params),
            zone: params.zone ?? '',
            ...(fault === undefined ? {} : { fault }),
          });
          logged.status = 200;
          return reply.code(200).send(result);
        } catch (error) {
          const api = error instanceof ApiError ? error : new ApiError(500, 'backendError', (error as Error).stack ?? String(error));
          logged.status = api.status;
          return reply.code(api.status).send(api.body());
        }
      },
    });
  }

  /** Runs a mutation as the real API does: idempotent per requestId, effect applied, operation returned RUNNING. */
  /** @internal */
  mutate(ctx: Ctx, operationType: string, targetLink: string, apply: () => Json | undefined): Json {
    const requestId = ctx.query.requestId;
    const seen = this.store.operationForRequestId(requestId);
    if (seen !== undefined) return seen;
    if (ctx.fault?.operationError !== undefined) {
      return this.store.createOperation({ project: ctx.project, scope: ctx.scope, operationType, targetLink, error: ctx.fault.operationError, ...(requestId === undefined ? {} : { requestId }) });
    }
    const target = apply();
    return this.store.createOperation({
      project: ctx.project,
      scope: ctx.scope,
      operationType,
      targetLink,
      ...(target?.id === undefined ? {} : { targetId: String(target.id) }),
      ...(requestId === undefined ? {} : { requestId }),
    });
  }

  /** @internal */
  insert(ctx: Ctx, collection: Collection, prepare: (body: Json) => Json): Json {
    const name = ctx.body.name;
    if (!ComputeStore.validName(name)) {
      throw invalid(`Invalid value for field 'resource.name': '${String(name ?? '')}'. Must be a match of regex '${NAME_REGEX}'`);
    }
    const path = ComputeStore.key(ctx.project, ctx.scope, collection, String(name));
    const targetLink = `${API_BASE}${path}`;
    // A retried insert with the same requestId is answered before the duplicate-name check, like the real API.
    const seen = this.store.operationForRequestId(ctx.query.requestId);
    if (seen !== undefined) return seen;
    if (this.store.getByPath(path) !== undefined) throw new ApiError(409, 'alreadyExists', `The resource '${path}' already exists`);
    return this.mutate(ctx, 'insert', targetLink, () => {
      const prepared = ctx.fault?.operationError === undefined ? prepare(ctx.body) : ctx.body;
      return this.store.put(ctx.project, ctx.scope, collection, prepared);
    });
  }

  /** @internal */
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

  /** @internal */
  listOf(ctx: Ctx, collection: Collection, kind: string): Json {
    return {
      kind: `compute#${kind}List`,
      id: `projects/${ctx.project}/${ctx.scope}/${collection}`,
      items: this.store.list(ctx.project, ctx.scope, collection),
      selfLink: `${API_BASE}projects/${ctx.project}/${ctx.scope}/${collection}`,
    };
  }

  /** @internal */
  requireNetwork(ctx: Ctx, reference: unknown, field: string): Json {
    if (typeof reference !== 'string' || reference === '') throw invalid(`Invalid value for field '${field}': ''. The network must be specified.`);
    const path = relativePath(reference, ctx.project, 'global', 'networks');
    const network = this.store.getByPath(path);
    if (network === undefined) throw notFound(path);
    return network;
  }

  private handlers(): Handler[] {
    const h = (service: string, method: string, handle: Handler['handle']): Handler => ({ spec: methodSpec(service, method), handle });
    const s = this.store;
    const op = (ctx: Ctx) => s.pollOperation(ctx.project, ctx.scope, ctx.params.operation!);

    return [
      // ---- read-only seeds ----
      h('Regions', 'Get', (ctx) => s.require(ctx.project, 'global', 'regions', ctx.params.region!)),
      h('Zones', 'Get', (ctx) => s.require(ctx.project, 'global', 'zones', ctx.params.zone!)),
      h('Networks', 'Get', (ctx) => s.require(ctx.project, 'global', 'networks', ctx.params.network!)),
      h('Networks', 'List', (ctx) => this.listOf(ctx, 'networks', 'network')),
      h('Subnetworks', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'subnetworks', ctx.params.subnetwork!)),
      h('Subnetworks', 'List', (ctx) => this.listOf(ctx, 'subnetworks', 'subnetwork')),
      h('Images', 'Get', (ctx) => s.require(ctx.project, 'global', 'images', ctx.params.image!)),
      h('Images', 'GetFromFamily', (ctx) => {
        const image = s.imageFromFamily(ctx.project, ctx.params.family!);
        if (image === undefined) throw notFound(`projects/${ctx.project}/global/images/family/${ctx.params.family}`);
        return image;
      }),

      // ---- operations ----
      h('GlobalOperations', 'Get', op),
      h('GlobalOperations', 'Wait', op),
      h('RegionOperations', 'Get', op),
      h('RegionOperations', 'Wait', op),
      h('ZoneOperations', 'Get', op),
      h('ZoneOperations', 'Wait', op),

      // ---- addresses ----
      h('Addresses', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'addresses', ctx.params.address!)),
      h('Addresses', 'List', (ctx) => this.listOf(ctx, 'addresses', 'address')),
      h('Addresses', 'Insert', (ctx) =>
        this.insert(ctx, 'addresses', (body) => {
          const addressType = String(body.addressType ?? 'EXTERNAL');
          if (addressType !== 'EXTERNAL') throw invalid(`fake: only EXTERNAL addresses are modelled, got ${addressType}`);
          if (body.address !== undefined && !ipaddr.IPv4.isValidFourPartDecimal(String(body.address))) throw invalid(`Invalid value for field 'resource.address': '${String(body.address)}'.`);
          return {
            ...body,
            addressType,
            networkTier: body.networkTier ?? 'PREMIUM',
            ipVersion: 'IPV4',
            address: body.address ?? s.allocateExternalIp(),
            status: 'RESERVED',
            labels: body.labels ?? {},
            labelFingerprint: ComputeStore.fingerprint(body.labels ?? {}),
          };
        }),
      ),
      h('Addresses', 'Delete', (ctx) =>
        this.remove(ctx, 'addresses', ctx.params.address!, (address) => {
          const users = (address.users as string[] | undefined) ?? [];
          if (users.length > 0) {
            throw new ApiError(400, 'resourceInUseByAnotherResource', `The address resource '${lastSegment(address.selfLink)}' is already being used by '${users[0]}'`);
          }
        }),
      ),
      h('Addresses', 'SetLabels', (ctx) => {
        const address = s.require(ctx.project, ctx.scope, 'addresses', ctx.params.resource!);
        if (ctx.body.labelFingerprint !== address.labelFingerprint) throw new ApiError(412, 'conditionNotMet', 'Labels fingerprint either invalid or resource labels have changed');
        return this.mutate(ctx, 'setLabels', String(address.selfLink), () =>
          s.update(ctx.project, ctx.scope, 'addresses', ctx.params.resource!, (resource) => {
            resource.labels = ctx.body.labels ?? {};
            resource.labelFingerprint = ComputeStore.fingerprint(resource.labels);
          }),
        );
      }),

      // ---- firewalls ----
      h('Firewalls', 'Get', (ctx) => s.require(ctx.project, 'global', 'firewalls', ctx.params.firewall!)),
      h('Firewalls', 'List', (ctx) => this.listOf(ctx, 'firewalls', 'firewall')),
      h('Firewalls', 'Insert', (ctx) =>
        this.insert(ctx, 'firewalls', (body) => {
          const network = this.requireNetwork(ctx, body.network ?? 'global/networks/default', 'resource.network');
          checkFirewall(body);
          return { direction: 'INGRESS', priority: 1000, disabled: false, logConfig: { enable: false }, ...body, network: network.selfLink };
        }),
      ),
      h('Firewalls', 'Patch', (ctx) => {
        const name = ctx.params.firewall!;
        const current = s.require(ctx.project, 'global', 'firewalls', name);
        if (ctx.body.name !== undefined && ctx.body.name !== name) throw invalid(`Invalid value for field 'resource.name': '${String(ctx.body.name)}'. Resource name cannot be changed.`);
        checkFirewall({ ...current, ...ctx.body });
        return this.mutate(ctx, 'patch', String(current.selfLink), () =>
          s.update(ctx.project, 'global', 'firewalls', name, (resource) => {
            for (const [key, value] of Object.entries(ctx.body)) if (key !== 'network') resource[key] = value;
          }),
        );
      }),
      h('Firewalls', 'Delete', (ctx) => this.remove(ctx, 'firewalls', ctx.params.firewall!)),

      // ---- routes ----
      h('Routes', 'Get', (ctx) => s.require(ctx.project, 'global', 'routes', ctx.params.route!)),
      h('Routes', 'List', (ctx) => this.listOf(ctx, 'routes', 'route')),
      h('Routes', 'Insert', (ctx) =>
        this.insert(ctx, 'routes', (body) => {
          const network = this.requireNetwork(ctx, body.network, 'resource.network');
          const destRange = String(body.destRange ?? '');
          if (!ipaddr.IPv4.isValidCIDR(destRange)) throw invalid(`Invalid value for field 'resource.destRange': '${destRange}'. Should be a CIDR range.`);
          const hops = ['nextHopInstance', 'nextHopIp', 'nextHopGateway', 'nextHopIlb', 'nextHopVpnTunnel'].filter((key) => body[key] !== undefined);
          if (hops.length !== 1) throw invalid(`Invalid value for field 'resource': exactly one next hop must be specified, got ${hops.length}`);
          let nextHopIlb: string | undefined;
          if (body.nextHopIlb !== undefined) {
            // A forwarding rule URL, or its IP address (then kept as given, like the real API).
            const hop = String(body.nextHopIlb);
            const rule = /^\d+\.\d+\.\d+\.\d+$/.test(hop)
              ? s.all('forwardingRules').find((entry) => entry.resource.IPAddress === hop)?.resource
              : s.getByPath(relativePath(hop, ctx.project, 'global', 'forwardingRules'));
            if (rule === undefined) throw invalid(`Invalid value for field 'resource.nextHopIlb': '${hop}'. The forwarding rule was not found.`);
            if (rule.loadBalancingScheme !== 'INTERNAL') throw invalid(`Invalid value for field 'resource.nextHopIlb': '${hop}'. Only internal passthrough load balancers can be a next hop.`);
            nextHopIlb = /^\d/.test(hop) ? hop : String(rule.selfLink);
          }
          let nextHopInstance: string | undefined;
          if (body.nextHopInstance !== undefined) {
            const path = relativePath(String(body.nextHopInstance), ctx.project, 'global', 'instances');
            if (s.getByPath(path) === undefined) throw notFound(path);
            nextHopInstance = `${API_BASE}${path}`;
          }
          const priority = body.priority === undefined ? 1000 : Number(body.priority);
          if (priority < 0 || priority > 65535) throw invalid(`Invalid value for field 'resource.priority': '${priority}'. Must be between 0 and 65535.`);
          return {
            ...body,
            network: network.selfLink,
            priority,
            routeType: 'STATIC',
            ...(nextHopInstance === undefined ? {} : { nextHopInstance }),
            ...(nextHopIlb === undefined ? {} : { nextHopIlb }),
            ...(body.nextHopGateway === undefined ? {} : { nextHopGateway: `${API_BASE}${relativePath(String(body.nextHopGateway), ctx.project, 'global', 'routes')}` }),
          };
        }),
      ),
      h('Routes', 'Delete', (ctx) => this.remove(ctx, 'routes', ctx.params.route!)),

      // ---- instances ----
      h('Instances', 'Get', (ctx) => s.require(ctx.project, ctx.scope, 'instances', ctx.params.instance!)),
      h('Instances', 'List', (ctx) => this.listOf(ctx, 'instances', 'instance')),
      h('Instances', 'Insert', (ctx) => this.insert(ctx, 'instances', (body) => this.prepareInstance(ctx, body))),
      h('Instances', 'Delete', (ctx) =>
        // The instance's static address goes back to RESERVED when the instance goes.
        this.remove(ctx, 'instances', ctx.params.instance!, (instance) => this.releaseInstance(ctx.project, ctx.scope, instance)),
      ),
      h('Instances', 'SetMetadata', (ctx) => {
        const instance = s.require(ctx.project, ctx.scope, 'instances', ctx.params.instance!);
        const metadata = instance.metadata as Json;
        if (ctx.body.fingerprint !== metadata.fingerprint) throw new ApiError(412, 'conditionNotMet', 'Supplied fingerprint does not match current metadata fingerprint.');
        checkMetadata(ctx.body);
        return this.mutate(ctx, 'setMetadata', String(instance.selfLink), () =>
          s.update(ctx.project, ctx.scope, 'instances', ctx.params.instance!, (resource) => {
            const items = (ctx.body.items as Json[] | undefined) ?? [];
            resource.metadata = { kind: 'compute#metadata', items, fingerprint: ComputeStore.fingerprint(items) };
          }),
        );
      }),
      h('Instances', 'SetLabels', (ctx) => {
        const instance = s.require(ctx.project, ctx.scope, 'instances', ctx.params.instance!);
        if (ctx.body.labelFingerprint !== instance.labelFingerprint) throw new ApiError(412, 'conditionNotMet', 'Labels fingerprint either invalid or resource labels have changed');
        return this.mutate(ctx, 'setLabels', String(instance.selfLink), () =>
          s.update(ctx.project, ctx.scope, 'instances', ctx.params.instance!, (resource) => {
            resource.labels = ctx.body.labels ?? {};
            resource.labelFingerprint = ComputeStore.fingerprint(resource.labels);
          }),
        );
      }),
      h('Instances', 'SetTags', (ctx) => {
        const instance = s.require(ctx.project, ctx.scope, 'instances', ctx.params.instance!);
        if (ctx.body.fingerprint !== (instance.tags as Json).fingerprint) throw new ApiError(412, 'conditionNotMet', 'Supplied fingerprint does not match current tags fingerprint.');
        return this.mutate(ctx, 'setTags', String(instance.selfLink), () =>
          s.update(ctx.project, ctx.scope, 'instances', ctx.params.instance!, (resource) => {
            const items = (ctx.body.items as string[] | undefined) ?? [];
            resource.tags = { items, fingerprint: ComputeStore.fingerprint(items) };
          }),
        );
      }),
      h('Instances', 'GetGuestAttributes', (ctx) => {
        const instance = s.require(ctx.project, ctx.scope, 'instances', ctx.params.instance!);
        const items = ((instance.metadata as Json).items as { key: string; value: string }[] | undefined) ?? [];
        if (!items.some((item) => item.key === 'enable-guest-attributes' && item.value.toUpperCase() === 'TRUE')) {
          throw new ApiError(400, 'badRequest', 'Guest attributes are disabled for this instance. Set metadata enable-guest-attributes=TRUE.');
        }
        const attributes = s.guestAttributesOf(ctx.project, ctx.zone, ctx.params.instance!);
        const selfLink = `${String(instance.selfLink)}/guestAttributes/`;
        if (ctx.query.variableKey !== undefined) {
          const value = attributes.get(ctx.query.variableKey);
          if (value === undefined) throw notFound(`${String(instance.selfLink).replace(API_BASE, '')}/guestAttributes/${ctx.query.variableKey}`);
          return { kind: 'compute#guestAttributes', variableKey: ctx.query.variableKey, variableValue: value, selfLink };
        }
        const queryPath = ctx.query.queryPath ?? '';
        const matching = [...attributes.entries()].filter(([path]) => path.startsWith(queryPath));
        if (matching.length === 0) throw notFound(`${String(instance.selfLink).replace(API_BASE, '')}/guestAttributes/${queryPath}`);
        return {
          kind: 'compute#guestAttributes',
          queryPath,
          queryValue: { items: matching.map(([path, value]) => ({ namespace: path.split('/')[0], key: path.split('/').slice(1).join('/'), value })) },
          selfLink,
        };
      }),
      h('Instances', 'GetSerialPortOutput', (ctx) => {
        const instance = s.require(ctx.project, ctx.scope, 'instances', ctx.params.instance!);
        const contents = s.serialOutputOf(ctx.project, ctx.zone, ctx.params.instance!);
        const start = Math.max(0, Number(ctx.query.start ?? 0));
        return { kind: 'compute#serialPortOutput', contents: contents.slice(start), start: String(start), next: String(contents.length), selfLink: `${String(instance.selfLink)}/serialPort` };
      }),

      // ---- HA: instance templates, health checks, managed instance groups, backend services, forwarding rules ----
      ...haHandlers(this, h),
    ];
  }

  /** Internal IPs in use (VMs and forwarding rules), so a new one is never handed out twice. */
  usedInternalIps(): Set<string> {
    const used = new Set(this.store.all('instances').map((entry) => String(((entry.resource.networkInterfaces as Json[])[0] as Json).networkIP)));
    for (const entry of this.store.all('forwardingRules')) used.add(String(entry.resource.IPAddress));
    return used;
  }

  /** What deleting a VM does to its static address: back to RESERVED when no one else uses it. Also drops its guest attributes. */
  releaseInstance(project: string, scope: Scope, instance: Json): void {
    const s = this.store;
    for (const address of s.all('addresses')) {
      const users = (address.resource.users as string[] | undefined) ?? [];
      if (users.includes(String(instance.selfLink))) {
        address.resource.users = users.filter((user) => user !== instance.selfLink);
        if ((address.resource.users as string[]).length === 0) {
          delete address.resource.users;
          address.resource.status = 'RESERVED';
        }
      }
    }
    s.guestAttributes.delete(ComputeStore.key(project, scope, 'instances', String(instance.name)));
  }

  /** @internal */
  prepareInstance(ctx: Ctx, body: Json): Json {
    const s = this.store;
    const zone = ctx.scope.replace(/^zones\//, '');
    const zoneResource = s.get(ctx.project, 'global', 'zones', zone);
    if (zoneResource === undefined) throw notFound(`projects/${ctx.project}/zones/${zone}`);
    const region = lastSegment(zoneResource.region);
    const machineType = String(body.machineType ?? '');
    if (!/^(https:\/\/.*\/)?(projects\/[^/]+\/)?zones\/[^/]+\/machineTypes\/[a-z0-9-]+$|^[a-z0-9-]+$/.test(machineType)) {
      throw invalid(`Invalid value for field 'resource.machineType': '${machineType}'. Invalid machine type.`);
    }
    const disks = (body.disks as Json[] | undefined) ?? [];
    const boot = disks.find((disk) => disk.boot === true);
    if (boot === undefined) throw invalid(`Invalid value for field 'resource.disks': ''. Boot disk must be specified.`);
    const sourceImage = String((boot.initializeParams as Json | undefined)?.sourceImage ?? '');
    const imagePath = relativePath(sourceImage, ctx.project, 'global', 'images');
    const family = /^projects\/([^/]+)\/global\/images\/family\/([^/]+)$/.exec(imagePath);
    const image = family !== null ? s.imageFromFamily(family[1]!, family[2]!) : s.getByPath(imagePath);
    if (image === undefined) throw notFound(imagePath);
    checkMetadata((body.metadata as Json | undefined) ?? {});

    const interfaces = (body.networkInterfaces as Json[] | undefined) ?? [];
    if (interfaces.length !== 1) throw invalid(`fake: exactly one network interface is modelled, got ${interfaces.length}`);
    const nic = interfaces[0]!;
    let subnet: Json | undefined;
    if (nic.subnetwork !== undefined) {
      const path = relativePath(String(nic.subnetwork), ctx.project, `regions/${region}`, 'subnetworks');
      subnet = s.getByPath(path);
      if (subnet === undefined) throw notFound(path);
      if (!path.includes(`/regions/${region}/`)) throw invalid(`Invalid value for field 'resource.networkInterfaces[0].subnetwork': '${String(nic.subnetwork)}'. Subnetwork must be in region ${region}.`);
    } else {
      const network = this.requireNetwork(ctx, nic.network ?? 'global/networks/default', 'resource.networkInterfaces[0].network');
      subnet = s.list(ctx.project, `regions/${region}`, 'subnetworks').find((candidate) => candidate.network === network.selfLink);
      if (subnet === undefined) throw invalid(`Invalid value for field 'resource.networkInterfaces[0].network': no subnetwork in region ${region}.`);
    }
    const networkIP = s.allocateInternalIp(String(subnet.ipCidrRange), this.usedInternalIps());
    const selfLink = `${API_BASE}${ComputeStore.key(ctx.project, ctx.scope, 'instances', String(body.name))}`;

    const accessConfigs = ((nic.accessConfigs as Json[] | undefined) ?? []).map((config, index) => {
      const natIP = config.natIP === undefined ? s.allocateExternalIp() : String(config.natIP);
      if (config.natIP !== undefined) {
        const address = s.list(ctx.project, `regions/${region}`, 'addresses').find((candidate) => candidate.address === natIP);
        if (address === undefined) {
          throw invalid(`Invalid value for field 'resource.networkInterfaces[0].accessConfigs[${index}].natIP': '${natIP}'. The specified external IP address '${natIP}' was not found in region '${region}'.`);
        }
        if (address.status === 'IN_USE') throw invalid(`IP address '${natIP}' is already being used by another resource.`);
        address.status = 'IN_USE';
        address.users = [selfLink];
      }
      return { kind: 'compute#accessConfig', type: 'ONE_TO_ONE_NAT', name: 'External NAT', networkTier: 'PREMIUM', ...config, natIP };
    });
    const metadataItems = ((body.metadata as Json | undefined)?.items as Json[] | undefined) ?? [];
    const tagItems = ((body.tags as Json | undefined)?.items as string[] | undefined) ?? [];
    s.appendSerialOutput(ctx.project, zone, String(body.name), `[    0.000000] Linux version 6.12.0-cloud-amd64 (fake)\n${String(body.name)} google_metadata_script_runner[1]: Starting startup scripts.\n`);
    return {
      ...body,
      machineType: `${API_BASE}projects/${ctx.project}/zones/${zone}/machineTypes/${lastSegment(machineType)}`,
      status: 'RUNNING',
      canIpForward: body.canIpForward ?? false,
      cpuPlatform: 'Intel Broadwell',
      labels: body.labels ?? {},
      labelFingerprint: ComputeStore.fingerprint(body.labels ?? {}),
      fingerprint: ComputeStore.fingerprint(body.name),
      metadata: { kind: 'compute#metadata', items: metadataItems, fingerprint: ComputeStore.fingerprint(metadataItems) },
      tags: { items: tagItems, fingerprint: ComputeStore.fingerprint(tagItems) },
      disks: disks.map((disk, index) => ({
        kind: 'compute#attachedDisk',
        type: 'PERSISTENT',
        mode: 'READ_WRITE',
        source: `${API_BASE}projects/${ctx.project}/zones/${zone}/disks/${String(body.name)}${index === 0 ? '' : `-${index}`}`,
        deviceName: (disk.deviceName as string | undefined) ?? 'persistent-disk-0',
        index,
        boot: disk.boot ?? false,
        autoDelete: disk.autoDelete ?? false,
        interface: 'SCSI',
        diskSizeGb: String((disk.initializeParams as Json | undefined)?.diskSizeGb ?? image.diskSizeGb ?? '10'),
        licenses: [],
      })),
      networkInterfaces: [
        {
          kind: 'compute#networkInterface',
          name: 'nic0',
          network: subnet.network,
          subnetwork: subnet.selfLink,
          networkIP,
          stackType: 'IPV4_ONLY',
          fingerprint: ComputeStore.fingerprint(networkIP),
          accessConfigs,
        },
      ],
    };
  }

  async listen(): Promise<{ url: string; port: number }> {
    await this.app.listen({ host: '127.0.0.1', port: 0 });
    const address = this.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('fake compute: no TCP address');
    return { url: `http://127.0.0.1:${address.port}`, port: address.port };
  }

  close(): Promise<void> {
    return this.app.close();
  }
}

function checkFirewall(body: Json): void {
  const ranges = (body.sourceRanges as string[] | undefined) ?? [];
  ranges.forEach((range, index) => {
    if (!ipaddr.isValidCIDR(range) && !ipaddr.isValid(range)) throw invalid(`Invalid value for field 'resource.sourceRanges[${index}]': '${range}'. Must be a CIDR address range that is contained in the network.`);
  });
  const allowed = (body.allowed as Json[] | undefined) ?? [];
  const denied = (body.denied as Json[] | undefined) ?? [];
  if (allowed.length === 0 && denied.length === 0) throw invalid(`Invalid value for field 'resource.allowed': ''. Must specify at least one rule.`);
  for (const rule of [...allowed, ...denied]) {
    const protocol = String(rule.IPProtocol ?? '');
    if (!['all', 'tcp', 'udp', 'icmp', 'esp', 'ah', 'sctp', 'ipip'].includes(protocol) && !/^\d+$/.test(protocol)) {
      throw invalid(`Invalid value for field 'resource.allowed[0].IPProtocol': '${protocol}'. Invalid IP protocol specification.`);
    }
    if (rule.ports !== undefined && !['tcp', 'udp', 'sctp'].includes(protocol)) throw invalid(`Invalid value for field 'resource.allowed[0].ports': ports can only be set for tcp, udp or sctp.`);
  }
}

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
    if (size > MAX_METADATA_VALUE) throw invalid(`Value for field 'resource.metadata.items[${index}].value' is too large: maximum size ${MAX_METADATA_VALUE} character(s); actual size ${size}.`);
    total += size + key.length;
  }
  if (total > MAX_METADATA_TOTAL) throw invalid(`Value for field 'resource.metadata' is too large: maximum size ${MAX_METADATA_TOTAL} character(s); actual size ${total}.`);
}

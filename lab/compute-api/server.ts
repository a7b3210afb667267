// The HTTP face of the fake Compute API: routes for the handlers the API modules register (paths and bodies from the
// real client's protos.json), strict body validation, fault injection and a request log. State lives in ComputeStore.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { composeApis, type ComposedApis } from './apis/index.js';
import { HandlerKit, type Fault, type Handler } from './handler-kit.js';
import { validateMessage } from './protos.js';
import { ApiError, invalid, type ComputeStore, type Json, type Scope } from './store.js';

export type { Fault } from './handler-kit.js';

export interface LoggedRequest {
  /** compute.routes.insert, … */
  method: string;
  httpMethod: string;
  url: string;
  body: unknown;
  status?: number;
}

/** POST methods that only read. */
export const READ_ONLY_POSTS = new Set([
  'compute.regionBackendServices.getHealth',
  'compute.regionInstanceGroupManagers.listManagedInstances',
  'compute.regionInstanceGroupManagers.listPerInstanceConfigs',
  'compute.regionInstanceGroupManagers.listErrors',
]);

function scopeOf(params: Record<string, string>): Scope {
  if (params.zone !== undefined) return `zones/${params.zone}`;
  if (params.region !== undefined) return `regions/${params.region}`;
  return 'global';
}

export class FakeComputeApi {
  readonly requests: LoggedRequest[] = [];
  private readonly faults: (Fault & { left: number })[] = [];
  readonly app: FastifyInstance;
  private readonly apis: ComposedApis;

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
    this.apis = composeApis(new HandlerKit(store));
    for (const handler of this.apis.handlers) this.route(handler);
  }

  /**
   * The lab's autohealing hook: recreates one member of a regional MIG — a store `delete` then `insert` event for the
   * same instance name and zone, from the MIG's current template, keeping its per-instance (stateful) external IP.
   */
  recreateManagedInstance(project: string, region: string, mig: string, instance: string): Json {
    return this.apis.migs.recreate(project, region, mig, instance);
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
    return this.requests.filter(
      (request) => request.httpMethod !== 'GET' && !request.method.endsWith('Operations.wait') && !READ_ONLY_POSTS.has(request.method),
    );
  }

  private takeFault(methodId: string, urlPath: string, body: unknown): Fault | undefined {
    const matches = (pattern: string | RegExp | undefined, value: string) =>
      pattern === undefined || (typeof pattern === 'string' ? pattern === value : pattern.test(value));
    const index = this.faults.findIndex(
      (fault) =>
        fault.left > 0 &&
        matches(fault.method, methodId) &&
        matches(fault.path, urlPath) &&
        (fault.body === undefined || fault.body((body ?? {}) as Json)),
    );
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
        const fault = this.takeFault(spec.id, request.url.split('?')[0] ?? '', request.body);
        if (fault?.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
        if (fault?.reset) {
          reply.hijack();
          request.raw.socket.destroy();
          return;
        }
        try {
          if (fault?.status !== undefined) {
            throw new ApiError(
              fault.status,
              fault.reason ?? 'backendError',
              fault.message ?? `injected HTTP ${fault.status} for ${spec.id}`,
            );
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

  async listen(): Promise<{ url: string; port: number }> {
    await this.app.listen({ host: '127.0.0.1', port: 0 });
    const address = this.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('fake compute: no TCP address');
    return { url: `http://127.0.0.1:${address.port}`, port: address.port };
  }

  close(): Promise<void> {
    this.apis.migs.close();
    return this.app.close();
  }
}

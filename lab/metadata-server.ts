// The lab's GCE metadata server. It runs inside the fabric namespace on 169.254.169.254:80, tells VMs apart by source
// address, and takes instructions from the lab over a unix socket (sockets on the filesystem cross namespaces without
// linking any namespace to the root one).
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';

export interface LabInstance {
  name: string;
  zone: string;
  ip: string;
  externalIp?: string;
  attributes: Record<string, string>;
  guestAttributes: Record<string, string>;
  /**
   * Every guest-attribute PUT, newest last (bounded), so the lab hands each write to the fake API with its time: the
   * API may drop writes above GCE's advised rate, and a dropped write must stay dropped until the VM writes again.
   */
  guestAttributeWrites?: GuestAttributeWrite[];
}

export interface GuestAttributeWrite {
  /** Increases with every write on this metadata server. */
  seq: number;
  path: string;
  value: string;
  at: number;
}

const MAX_LOGGED_WRITES = 100;
let writeSeq = 0;

const etagOf = (value: string) => createHash('sha1').update(value).digest('hex').slice(0, 16);

export class MetadataStore extends EventEmitter {
  readonly instances = new Map<string, LabInstance>();

  put(instance: LabInstance): void {
    this.instances.set(instance.ip, instance);
    this.emit('change', instance.ip);
  }

  patchAttributes(ip: string, changes: Record<string, string | null>): LabInstance | undefined {
    const instance = this.instances.get(ip);
    if (instance === undefined) return undefined;
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete instance.attributes[key];
      else instance.attributes[key] = value;
    }
    this.emit('change', ip);
    return instance;
  }
}

function metadataApp(store: MetadataStore): FastifyInstance {
  const app = Fastify({ logger: false });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.addHook('onRequest', async (request, reply) => {
    reply.header('Metadata-Flavor', 'Google');
    if (request.headers['metadata-flavor'] !== 'Google') {
      return reply.code(403).type('text/plain').send('Missing Metadata-Flavor:Google header.\n');
    }
    if (!store.instances.has(request.ip)) return reply.code(404).type('text/plain').send(`no lab VM has address ${request.ip}\n`);
    return undefined;
  });

  const instanceOf = (ip: string) => store.instances.get(ip)!;

  app.get<{ Params: { key: string }; Querystring: { wait_for_change?: string; last_etag?: string; timeout_sec?: string } }>(
    '/computeMetadata/v1/instance/attributes/:key',
    async (request, reply) => {
      const read = () => instanceOf(request.ip).attributes[request.params.key];
      const answer = () => {
        const value = read();
        if (value === undefined) return reply.code(404).type('text/plain').send('not found\n');
        return reply.header('ETag', etagOf(value)).type('application/text').send(value);
      };
      const current = read();
      const lastEtag = request.query.last_etag;
      if (request.query.wait_for_change !== 'true' || lastEtag === undefined || (current === undefined ? '' : etagOf(current)) !== lastEtag)
        return answer();
      const timeoutMs = Math.min(Number(request.query.timeout_sec ?? 60), 3600) * 1000;
      await new Promise<void>((resolve) => {
        const onChange = (ip: string) => {
          const value = read();
          if (ip === request.ip && (value === undefined ? '' : etagOf(value)) !== lastEtag) finish();
        };
        const timer = setTimeout(() => finish(), timeoutMs);
        const onClose = () => finish();
        function finish() {
          clearTimeout(timer);
          store.off('change', onChange);
          request.raw.off('close', onClose);
          resolve();
        }
        store.on('change', onChange);
        request.raw.on('close', onClose);
      });
      return answer();
    },
  );

  app.get('/computeMetadata/v1/instance/attributes/', async (request, reply) => reply.send(instanceOf(request.ip).attributes));
  app.get('/computeMetadata/v1/instance/name', async (request, reply) => reply.type('application/text').send(instanceOf(request.ip).name));
  app.get('/computeMetadata/v1/instance/zone', async (request, reply) =>
    reply.type('application/text').send(`projects/000000000000/zones/${instanceOf(request.ip).zone}`),
  );
  app.get('/computeMetadata/v1/instance/network-interfaces/0/ip', async (request, reply) =>
    reply.type('application/text').send(instanceOf(request.ip).ip),
  );
  app.get('/computeMetadata/v1/instance/network-interfaces/0/access-configs/0/external-ip', async (request, reply) => {
    const externalIp = instanceOf(request.ip).externalIp;
    return externalIp === undefined ? reply.code(404).send('not found\n') : reply.type('application/text').send(externalIp);
  });
  app.put<{ Params: { ns: string; key: string }; Body: string }>(
    '/computeMetadata/v1/instance/guest-attributes/:ns/:key',
    async (request, reply) => {
      const instance = instanceOf(request.ip);
      const path = `${request.params.ns}/${request.params.key}`;
      const value = String(request.body ?? '');
      instance.guestAttributes[path] = value;
      instance.guestAttributeWrites = [...(instance.guestAttributeWrites ?? []), { seq: ++writeSeq, path, value, at: Date.now() }].slice(
        -MAX_LOGGED_WRITES,
      );
      return reply.code(200).send('');
    },
  );
  app.get<{ Params: { ns: string; key: string } }>('/computeMetadata/v1/instance/guest-attributes/:ns/:key', async (request, reply) => {
    const value = instanceOf(request.ip).guestAttributes[`${request.params.ns}/${request.params.key}`];
    return value === undefined ? reply.code(404).send('not found\n') : reply.type('application/text').send(value);
  });
  return app;
}

function controlApp(store: MetadataStore): FastifyInstance {
  const app = Fastify({ logger: false });
  app.put<{ Params: { ip: string }; Body: Omit<LabInstance, 'guestAttributes' | 'ip'> }>('/vms/:ip', async (request) => {
    store.put({ ...request.body, ip: request.params.ip, guestAttributes: {} });
    return { ok: true };
  });
  app.patch<{ Params: { ip: string }; Body: Record<string, string | null> }>('/vms/:ip/attributes', async (request, reply) => {
    const instance = store.patchAttributes(request.params.ip, request.body);
    return instance === undefined ? reply.code(404).send({ error: 'unknown VM' }) : instance.attributes;
  });
  app.get<{ Params: { ip: string } }>(
    '/vms/:ip',
    async (request, reply) => store.instances.get(request.params.ip) ?? reply.code(404).send({ error: 'unknown VM' }),
  );
  app.delete<{ Params: { ip: string } }>('/vms/:ip', async (request) => ({ deleted: store.instances.delete(request.params.ip) }));
  return app;
}

export async function runMetadataServer(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { listen: { type: 'string', default: '169.254.169.254:80' }, control: { type: 'string' } },
  });
  if (values.control === undefined) throw new Error('--control SOCKET is required');
  const store = new MetadataStore();
  const metadata = metadataApp(store);
  const control = controlApp(store);
  const [host, port] = values.listen.split(':');
  rmSync(values.control, { force: true });
  await metadata.listen({ host: host ?? '169.254.169.254', port: Number(port) });
  await control.listen({ path: values.control });
  process.stdout.write('ready\n');
  const stop = () => void Promise.all([metadata.close(), control.close()]).then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

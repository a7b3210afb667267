// The lab's GCE metadata server. It runs inside the fabric namespace on 169.254.169.254:80, tells VMs apart by source
// address, and takes instructions from the lab over a unix socket (sockets on the filesystem cross namespaces without
// linking any namespace to the root one). It serves what GCE's metadata server serves to Google's guest environment
// (google_guest_agent, google_metadata_script_runner) as well as to natgw: the whole tree (`?recursive=true`, camelCase
// keys), every path in it (kebab-case), directory listings, `wait_for_change` long polls on any of them, ETags, and
// guest attributes.
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
  /** The NIC's MAC (the guest agent matches interfaces by it). */
  mac?: string;
  /** Forwarding rules' IPs whose backends include this VM: the guest agent holds each as a local route. */
  forwardedIps?: string[];
  /** The instance's numeric id. */
  id?: string;
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

  setForwardedIps(ip: string, forwardedIps: string[]): LabInstance | undefined {
    const instance = this.instances.get(ip);
    if (instance === undefined) return undefined;
    instance.forwardedIps = [...forwardedIps].sort();
    this.emit('change', ip);
    return instance;
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

interface MetadataQuery {
  recursive?: string;
  alt?: string;
  wait_for_change?: string;
  last_etag?: string;
  timeout_sec?: string;
}

type Tree = string | number | boolean | Tree[] | { [key: string]: Tree };

/** Fixed for the lab: GCE's project number and a numeric instance id derived from the address. */
const PROJECT_NUMBER = '000000000000';

/** The instance's tree as GCE's metadata server serves it with ?recursive=true (camelCase keys). */
export function treeOf(instance: LabInstance): { [key: string]: Tree } {
  const accessConfigs = instance.externalIp === undefined ? [] : [{ externalIp: instance.externalIp, type: 'ONE_TO_ONE_NAT' }];
  const id = instance.id ?? String(instance.ip.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0));
  return {
    instance: {
      id,
      name: instance.name,
      hostname: `${instance.name}.${instance.zone}.c.natgw-lab.internal`,
      zone: `projects/${PROJECT_NUMBER}/zones/${instance.zone}`,
      machineType: `projects/${PROJECT_NUMBER}/machineTypes/e2-small`,
      attributes: { ...instance.attributes },
      tags: [],
      serviceAccounts: {},
      maintenanceEvent: 'NONE',
      networkInterfaces: [
        {
          mac: instance.mac ?? '',
          ip: instance.ip,
          network: `projects/${PROJECT_NUMBER}/networks/default`,
          gateway: '10.10.0.1',
          subnetmask: '255.255.255.0',
          dnsServers: [],
          forwardedIps: [...(instance.forwardedIps ?? [])],
          // The lab's VPC is IPv4-only: GCE lists no IPv6 forwarding rule for such a NIC.
          forwardedIpv6s: [],
          targetInstanceIps: [],
          ipAliases: [],
          accessConfigs,
        },
      ],
    },
    project: { projectId: 'natgw-lab', numericProjectId: Number(PROJECT_NUMBER), attributes: {} },
  };
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
const camel = (segment: string) => segment.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());

/** What GCE answers for a path of the tree: a value as text, a directory as a listing or (recursive) JSON. */
function answer(
  tree: Tree,
  segments: string[],
  directory: boolean,
  query: MetadataQuery,
): { body: string; type: string; etag: string } | undefined {
  let node: Tree | undefined = tree;
  let userKeys = false;
  for (const segment of segments) {
    if (node === undefined || typeof node !== 'object') return undefined;
    if (Array.isArray(node)) node = /^\d+$/.test(segment) ? node[Number(segment)] : undefined;
    else if (userKeys) node = Object.hasOwn(node, segment) ? node[segment] : undefined;
    else node = Object.hasOwn(node, camel(segment)) ? node[camel(segment)] : undefined;
    // Attribute names are the user's: no case conversion below them.
    userKeys = segment === 'attributes';
  }
  if (node === undefined) return undefined;
  const json = query.alt === 'json';
  let body: string;
  if (typeof node !== 'object') {
    body = json ? JSON.stringify(node) : String(node);
  } else if (query.recursive === 'true') {
    body = query.alt === 'text' ? textOf(node) : JSON.stringify(node);
  } else {
    // GCE redirects a directory without its slash; the lab answers it the same.
    void directory;
    const entries = Array.isArray(node)
      ? node.map((child, index) => `${index}${typeof child === 'object' ? '/' : ''}`)
      : Object.entries(node).map(([key, child]) => `${userKeys ? key : kebab(key)}${typeof child === 'object' ? '/' : ''}`);
    body = json ? JSON.stringify(entries) : entries.map((entry) => `${entry}\n`).join('');
  }
  const isJson = json || (typeof node === 'object' && query.recursive === 'true' && query.alt !== 'text');
  return { body, type: isJson ? 'application/json' : 'application/text', etag: etagOf(body) };
}

function textOf(node: Tree, prefix = ''): string {
  if (typeof node !== 'object') return `${prefix}${String(node)}\n`;
  return Object.entries(node)
    .map(([key, child]) => textOf(child, `${prefix}${key}/`))
    .join('');
}

export function metadataApp(store: MetadataStore): FastifyInstance {
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

  app.get<{ Params: { '*': string }; Querystring: MetadataQuery }>('/computeMetadata/v1/*', async (request, reply) => {
    const segments = request.params['*'].split('/').filter((segment) => segment !== '');
    const directory = request.params['*'] === '' || request.params['*'].endsWith('/');
    const answerNow = () => answer(treeOf(instanceOf(request.ip)), segments, directory, request.query);
    let current = answerNow();
    const lastEtag = request.query.last_etag;
    if (request.query.wait_for_change === 'true' && current !== undefined && lastEtag !== undefined && current.etag === lastEtag) {
      const timeoutMs = Math.min(Math.max(Number(request.query.timeout_sec ?? 60), 1), 3600) * 1000;
      await new Promise<void>((resolve) => {
        const onChange = (ip: string) => {
          if (ip !== request.ip || !store.instances.has(ip)) return;
          const next = answerNow();
          if (next?.etag !== lastEtag) finish();
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
      if (!store.instances.has(request.ip)) return reply.code(404).type('text/plain').send('not found\n');
      current = answerNow();
    }
    if (current === undefined) return reply.code(404).type('text/plain').send('not found\n');
    return reply.header('ETag', current.etag).type(current.type).send(current.body);
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
  app.put<{ Params: { ip: string }; Body: string[] }>('/vms/:ip/forwarded-ips', async (request, reply) => {
    const instance = store.setForwardedIps(request.params.ip, request.body);
    return instance === undefined ? reply.code(404).send({ error: 'unknown VM' }) : { forwardedIps: instance.forwardedIps };
  });
  app.delete<{ Params: { ip: string } }>('/vms/:ip', async (request) => {
    const deleted = store.instances.delete(request.params.ip);
    // Long polls of a VM that is gone end now.
    store.emit('change', request.params.ip);
    return { deleted };
  });
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

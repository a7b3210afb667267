// The wire contract of the fake comes from the protos the real client ships, so a body the real API would reject with
// "Unknown name" is rejected here too, instead of the lenient client decoder hiding our mistakes.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

interface ProtoField {
  type: string;
  rule?: string;
  keyType?: string;
}
interface ProtoType {
  fields?: Record<string, ProtoField>;
  values?: Record<string, number>;
  nested?: Record<string, ProtoType>;
  methods?: Record<string, { requestType: string; options?: Record<string, string> }>;
}

const require = createRequire(import.meta.url);
const protosPath = join(dirname(require.resolve('@google-cloud/compute')), '..', 'protos', 'protos.json');
// Through require, not readFileSync: the client modules require the same file, so a process that runs both (every
// provisioner test) parses the 12 MB once. Only read here, never changed: the client builds its types from it.
const root = require(protosPath) as { nested: Record<string, ProtoType> };
const v1 = root.nested.google!.nested!.cloud!.nested!.compute!.nested!.v1!.nested!;

export interface MethodSpec {
  /** e.g. compute.routes.insert: the id the REST reference and IAM permissions use. */
  id: string;
  httpMethod: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** fastify path, e.g. /compute/v1/projects/:project/global/routes/:route */
  path: string;
  /** The message type of the body, when the method takes one. */
  bodyType?: string;
  bodyField?: string;
}

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);

/** Reads one RPC's HTTP binding, e.g. methodSpec('Routes', 'Insert'). */
export function methodSpec(service: string, method: string): MethodSpec {
  const rpc = v1[service]?.methods?.[method];
  if (rpc === undefined) throw new Error(`protos.json has no ${service}.${method}`);
  const options = rpc.options ?? {};
  const verbs = ['get', 'post', 'patch', 'put', 'delete'] as const;
  const verb = verbs.find((candidate) => options[`(google.api.http).${candidate}`] !== undefined);
  if (verb === undefined) throw new Error(`${service}.${method} has no HTTP binding`);
  const template = options[`(google.api.http).${verb}`]!;
  const bodyField = options['(google.api.http).body'];
  const spec: MethodSpec = {
    id: `compute.${lowerFirst(service)}.${lowerFirst(method)}`,
    httpMethod: verb.toUpperCase() as MethodSpec['httpMethod'],
    path: template.replace(/\{([a-zA-Z_]+)\}/g, ':$1'),
  };
  if (bodyField !== undefined && bodyField !== '*') {
    const request = v1[rpc.requestType];
    const camel = bodyField.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
    const field = request?.fields?.[camel];
    if (field === undefined) throw new Error(`${rpc.requestType} has no field ${camel}`);
    spec.bodyType = field.type;
    spec.bodyField = bodyField;
  }
  return spec;
}

function resolveType(name: string, scope: ProtoType | undefined): ProtoType | undefined {
  return scope?.nested?.[name] ?? v1[name];
}

const INTEGER = /^-?\d+$/;

/**
 * Checks a JSON body against a message type the way the real API's JSON parser does: unknown names, wrong JSON types
 * and unknown enum values are errors. Returns the problems, each phrased like the real API's messages.
 */
export function validateMessage(typeName: string, value: unknown, at: string): string[] {
  const type = v1[typeName];
  if (type === undefined) return [`fake: unknown message type ${typeName}`];
  return validateAgainst(type, value, at);
}

function validateAgainst(type: ProtoType, value: unknown, at: string): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [`Invalid JSON payload received. Expected an object at '${at}'.`];
  }
  const problems: string[] = [];
  for (const [key, fieldValue] of Object.entries(value as Record<string, unknown>)) {
    const field = type.fields?.[key];
    if (field === undefined) {
      problems.push(`Invalid JSON payload received. Unknown name "${key}" at '${at}': Cannot find field.`);
      continue;
    }
    if (fieldValue === null) continue;
    const where = `${at}.${key}`;
    if (field.keyType !== undefined) {
      if (typeof fieldValue !== 'object' || Array.isArray(fieldValue)) {
        problems.push(`Invalid JSON payload received. Expected a map at '${where}'.`);
        continue;
      }
      for (const [mapKey, mapValue] of Object.entries(fieldValue as Record<string, unknown>)) {
        problems.push(...validateScalarOrMessage(field.type, mapValue, `${where}[${mapKey}]`, type));
      }
    } else if (field.rule === 'repeated') {
      if (!Array.isArray(fieldValue)) {
        problems.push(`Invalid JSON payload received. Expected a list at '${where}'.`);
        continue;
      }
      for (const [index, item] of fieldValue.entries())
        problems.push(...validateScalarOrMessage(field.type, item, `${where}[${index}]`, type));
    } else {
      problems.push(...validateScalarOrMessage(field.type, fieldValue, where, type));
    }
  }
  return problems;
}

function validateScalarOrMessage(typeName: string, value: unknown, at: string, scope: ProtoType): string[] {
  const bad = (expected: string) => [`Invalid value at '${at}' (${expected}), ${JSON.stringify(value)}`];
  switch (typeName) {
    case 'string':
    case 'bytes':
      return typeof value === 'string' ? [] : bad('TYPE_STRING');
    case 'bool':
      return typeof value === 'boolean' ? [] : bad('TYPE_BOOL');
    case 'int32':
    case 'uint32':
    case 'int64':
    case 'uint64':
      return (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && INTEGER.test(value))
        ? []
        : bad(`TYPE_${typeName.toUpperCase()}`);
    case 'double':
    case 'float':
      return typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
        ? []
        : bad('TYPE_DOUBLE');
    default: {
      if (typeName.startsWith('google.protobuf.')) return [];
      const type = resolveType(typeName, scope);
      if (type === undefined) return [];
      if (type.values !== undefined) {
        return typeof value === 'string' && value in type.values ? [] : bad(`TYPE_ENUM ${typeName}`);
      }
      return validateAgainst(type, value, at);
    }
  }
}

// The registry of the fake's API modules, one per collection group (like provision/gcp/). The server composes them;
// none of them knows the server.
import type { Handler, HandlerKit } from '../handler-kit.js';
import { addressHandlers } from './addresses.js';
import { backendServiceHandlers } from './backend-services.js';
import { catalogHandlers } from './catalog.js';
import { firewallHandlers } from './firewalls.js';
import { forwardingRuleHandlers } from './forwarding-rules.js';
import { healthCheckHandlers } from './health-checks.js';
import { managedInstanceGroups, type ManagedInstanceGroups } from './instance-group-managers.js';
import { instanceTemplateHandlers } from './instance-templates.js';
import { instanceHandlers } from './instances.js';
import { networkHandlers } from './networks.js';
import { operationHandlers } from './operations.js';
import { routeHandlers } from './routes.js';
import { routerHandlers } from './routers.js';

export interface ComposedApis {
  handlers: Handler[];
  migs: ManagedInstanceGroups;
}

export function composeApis(kit: HandlerKit): ComposedApis {
  const migs = managedInstanceGroups(kit);
  const handlers = [
    catalogHandlers,
    networkHandlers,
    operationHandlers,
    addressHandlers,
    firewallHandlers,
    routeHandlers,
    instanceHandlers,
    instanceTemplateHandlers,
    healthCheckHandlers,
    backendServiceHandlers,
    forwardingRuleHandlers,
    routerHandlers,
  ].flatMap((module) => module(kit));
  return { handlers: [...handlers, ...migs.handlers], migs };
}

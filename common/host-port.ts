// HOST:PORT as natgw takes it wherever something listens or is probed: the agent's config (listen, probe targets) and
// the fallback watcher's --metrics-listen.

export const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;

export const isPortNumber = (port: number) => Number.isInteger(port) && port >= 1 && port <= 65535;

export function splitHostPort(value: string): { host: string; port: number } {
  const colon = value.lastIndexOf(':');
  return { host: value.slice(0, colon), port: Number(value.slice(colon + 1)) };
}

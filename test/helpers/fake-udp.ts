// UDP without a network: sockets bound to address:port in one in-memory map, a send delivered on the next turn of the
// event loop. Each socket gets the host's address for its sends (like a socket bound to one address), so the sync
// relays of two "VMs" and a fake conntrackd on each talk through it as they would through the kernel.
import type { RelaySocket, RelaySocketFactory } from '../../agent/sync-relay.js';

type Handler = (datagram: Buffer, from: { address: string; port: number }) => void;

export class FakeUdpNetwork {
  private readonly bound = new Map<string, Handler>();
  /** Every datagram sent, in order: what a capture on the wire would see. */
  readonly sent: { from: string; to: string; datagram: Buffer }[] = [];
  private inFlight = 0;
  /** Datagrams to these address:port are recorded in `sent` but never delivered (to replay them in another order). */
  readonly swallowed = new Set<string>();

  /** A factory for one host: its 127.x addresses are its own, any other address is whichever host bound it. */
  socketsFor(host: string): RelaySocketFactory {
    return () => this.socket(host);
  }

  socket(host: string): RelaySocket {
    let handler: Handler = () => undefined;
    let local: { address: string; port: number } | undefined;
    const socket: RelaySocket = {
      bind: async (address, port) => {
        const key = this.key(host, address, port);
        if (this.bound.has(key)) throw new Error(`bind EADDRINUSE ${address}:${port}`);
        this.bound.set(key, (datagram, from) => handler(datagram, from));
        local = { address, port };
      },
      send: (datagram, port, address) => {
        if (local === undefined) throw new Error('send on an unbound socket');
        this.deliver(host, local, address, port, datagram);
      },
      onMessage: (next) => {
        handler = next;
      },
      close: () => {
        if (local !== undefined) this.bound.delete(this.key(host, local.address, local.port));
        local = undefined;
      },
    };
    return socket;
  }

  /** A datagram from anyone, claiming any source (a forger with canIpForward). */
  inject(from: { address: string; port: number }, toAddress: string, toPort: number, datagram: Buffer, host = 'outside'): void {
    this.deliver(host, from, toAddress, toPort, datagram);
  }

  /** Resolves once nothing is in flight (deliveries may send more). */
  async drained(): Promise<void> {
    while (this.inFlight > 0) await new Promise((resolve) => setImmediate(resolve));
  }

  private deliver(host: string, from: { address: string; port: number }, address: string, port: number, datagram: Buffer): void {
    this.sent.push({ from: `${from.address}:${from.port}`, to: `${address}:${port}`, datagram: Buffer.from(datagram) });
    const key = this.key(host, address, port);
    if (this.swallowed.has(`${address}:${port}`)) return;
    this.inFlight++;
    setImmediate(() => {
      this.inFlight--;
      this.bound.get(key)?.(Buffer.from(datagram), from);
    });
  }

  private key(host: string, address: string, port: number): string {
    return address.startsWith('127.') ? `${host}/${address}:${port}` : `${address}:${port}`;
  }
}

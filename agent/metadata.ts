// The GCE metadata server: the config attribute (with change notification) and guest attributes for readiness.
import { METADATA } from '../common/protocol.js';
export const DEFAULT_METADATA_URL = 'http://169.254.169.254/computeMetadata/v1';
export const CONFIG_ATTRIBUTE = METADATA.config;
const HEADERS = { 'Metadata-Flavor': 'Google' };

export class MetadataUnavailableError extends Error {
  override name = 'MetadataUnavailableError';
}

export class AttributeMissingError extends Error {
  override name = 'AttributeMissingError';
}

export interface AttributeValue {
  value: string;
  etag: string;
}

export class MetadataClient {
  constructor(readonly baseUrl: string = DEFAULT_METADATA_URL) {}

  private url(suffix: string): string {
    return `${this.baseUrl.replace(/\/$/, '')}/${suffix}`;
  }

  /**
   * Reads an instance attribute. With `lastEtag`, blocks until the value changes or `timeoutSeconds` pass (the server
   * then answers with the unchanged value and etag).
   */
  async getAttribute(
    name: string,
    options: { lastEtag?: string; timeoutSeconds?: number; signal?: AbortSignal } = {},
  ): Promise<AttributeValue> {
    const query =
      options.lastEtag === undefined
        ? ''
        : `?wait_for_change=true&last_etag=${encodeURIComponent(options.lastEtag)}&timeout_sec=${options.timeoutSeconds ?? 60}`;
    const url = this.url(`instance/attributes/${name}${query}`);
    let response: Response;
    try {
      const timeout = AbortSignal.timeout(((options.timeoutSeconds ?? 0) + 10) * 1000);
      response = await fetch(url, {
        headers: HEADERS,
        signal: options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]),
      });
    } catch (error) {
      throw new MetadataUnavailableError(`metadata server unreachable at ${url}: ${(error as Error).cause ?? (error as Error).message}`);
    }
    const body = await response.text();
    if (response.status === 404) throw new AttributeMissingError(`instance attribute ${name} is not set (GET ${url} → 404)`);
    if (!response.ok) throw new MetadataUnavailableError(`GET ${url} → HTTP ${response.status}: ${body.slice(0, 200)}`);
    return { value: body, etag: response.headers.get('etag') ?? '' };
  }

  /** Reads a plain value such as `instance/network-interfaces/0/access-configs/0/external-ip`; undefined if absent. */
  async getValue(suffix: string): Promise<string | undefined> {
    try {
      const response = await fetch(this.url(suffix), { headers: HEADERS, signal: AbortSignal.timeout(5000) });
      return response.ok ? (await response.text()).trim() : undefined;
    } catch {
      return undefined;
    }
  }

  async putGuestAttribute(key: string, value: string): Promise<void> {
    const url = this.url(`instance/guest-attributes/${key}`);
    let response: Response;
    try {
      response = await fetch(url, { method: 'PUT', headers: HEADERS, body: value, signal: AbortSignal.timeout(5000) });
    } catch (error) {
      throw new Error(`PUT ${url}: ${String((error as Error).cause ?? (error as Error).message)}`);
    }
    if (!response.ok) throw new Error(`PUT ${url} → HTTP ${response.status}`);
  }
}

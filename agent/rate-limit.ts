/** Token bucket: at most `perSecond` on average, bursts up to one second's worth. */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private perSecond: number,
    now = Date.now(),
  ) {
    this.tokens = perSecond;
    this.last = now;
  }

  setRate(perSecond: number): void {
    this.perSecond = perSecond;
    this.tokens = Math.min(this.tokens, perSecond);
  }

  /** Refilled to the brim: indistinguishable from a new bucket. */
  full(now = Date.now()): boolean {
    return this.refilled(now) >= this.perSecond;
  }

  take(now = Date.now()): boolean {
    this.tokens = this.refilled(now);
    this.last = Math.max(now, this.last);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refilled(now: number): number {
    // A clock step backwards must not drain the bucket.
    return Math.min(this.perSecond, this.tokens + (Math.max(0, now - this.last) / 1000) * this.perSecond);
  }
}

/**
 * One token bucket per key (a source address). Memory stays bounded under a flood from many addresses: buckets that
 * have refilled are forgotten first, since a fresh bucket is the same thing; past that, the oldest go.
 */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, RateLimiter>();

  constructor(
    private readonly perSecond: number,
    private readonly maxKeys = 4096,
  ) {}

  take(key: string, now = Date.now()): boolean {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.forget(now);
      bucket = new RateLimiter(this.perSecond, now);
      this.buckets.set(key, bucket);
    }
    return bucket.take(now);
  }

  get size(): number {
    return this.buckets.size;
  }

  private forget(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.full(now)) this.buckets.delete(key);
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}

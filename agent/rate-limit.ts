/** Token bucket: at most `perSecond` on average, bursts up to one second's worth. */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();

  constructor(private perSecond: number) {
    this.tokens = perSecond;
  }

  setRate(perSecond: number): void {
    this.perSecond = perSecond;
    this.tokens = Math.min(this.tokens, perSecond);
  }

  take(now = Date.now()): boolean {
    // A clock step backwards must not drain the bucket.
    this.tokens = Math.min(this.perSecond, this.tokens + (Math.max(0, now - this.last) / 1000) * this.perSecond);
    this.last = Math.max(now, this.last);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

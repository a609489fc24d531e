/**
 * Time buckets in a fixed ring: bucket `floor(now / bucketMs)` lives in slot `index % size`
 * and is replaced when the ring comes round again. Memory is bounded by `size` whatever the
 * traffic; a window is the last `windowMs / bucketMs` buckets, the current (partial) one included.
 */
export class BucketRing<B> {
  private readonly slots: Array<{ index: number; bucket: B } | undefined>;

  constructor(
    readonly bucketMs: number,
    readonly size: number,
    private readonly create: () => B,
  ) {
    this.slots = new Array<{ index: number; bucket: B } | undefined>(size);
  }

  /** The bucket `now` falls in, created (or recycled) if needed. */
  at(now: number): B {
    const index = Math.floor(now / this.bucketMs);
    const slot = index % this.size;
    const current = this.slots[slot];
    if (current && current.index === index) return current.bucket;
    const fresh = { index, bucket: this.create() };
    this.slots[slot] = fresh;
    return fresh.bucket;
  }

  /** The buckets of the last `windowMs` that hold data, oldest first, with their start times. */
  within(now: number, windowMs: number): Array<{ start: number; bucket: B }> {
    const last = Math.floor(now / this.bucketMs);
    const span = Math.min(this.size, Math.max(1, Math.ceil(windowMs / this.bucketMs)));
    const found: Array<{ start: number; bucket: B }> = [];
    for (let index = last - span + 1; index <= last; index++) {
      const slot = this.slots[((index % this.size) + this.size) % this.size];
      if (slot && slot.index === index) found.push({ start: index * this.bucketMs, bucket: slot.bucket });
    }
    return found;
  }

  /** The longest window this ring can answer. */
  get spanMs(): number {
    return this.bucketMs * this.size;
  }
}

/** Promises that resolve when a condition over the stand-in's state holds (checked on every change). */
export class Waiters {
  private waiting = new Set<{ met: () => boolean; resolve: () => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();

  /** Resolves once `met()` holds; rejects with `timeoutError()` after timeoutMs. */
  until(met: () => boolean, timeoutMs: number, timeoutError: () => Error): Promise<void> {
    if (met()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        met,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiting.delete(waiter);
          reject(timeoutError());
        }, timeoutMs),
      };
      this.waiting.add(waiter);
    });
  }

  /** Something changed: resolve the waiters whose condition now holds. */
  changed(): void {
    for (const waiter of this.waiting) {
      if (!waiter.met()) continue;
      clearTimeout(waiter.timer);
      this.waiting.delete(waiter);
      waiter.resolve();
    }
  }

  /** The end: waiters whose condition holds resolve, the others reject with the error. */
  close(error: Error): void {
    this.changed();
    for (const waiter of this.waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.waiting.clear();
  }
}

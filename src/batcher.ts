/**
 * Gathers items from many concurrent callers into one write (few large
 * ClickHouse inserts, few Redis jobs). A caller's promise settles only when
 * the write holding its items has settled, with the write's results for its
 * own items, in order.
 */
export interface Batcher<T, R = void> {
  add(items: readonly T[]): Promise<R[]>;
  /** Writes what is pending now; used at shutdown. */
  flush(): Promise<void>;
}

interface Waiter<R> {
  from: number;
  to: number;
  resolve: (results: R[]) => void;
  reject: (err: unknown) => void;
}

export function createBatcher<T, R = void>(options: {
  maxItems: number;
  maxWaitMs: number;
  /** Returns one result per item, or nothing when there is nothing to report. */
  write: (items: T[]) => Promise<R[] | void>;
}): Batcher<T, R> {
  let pending: { items: T[]; waiters: Waiter<R>[] } | null = null;
  let timer: NodeJS.Timeout | null = null;

  const flush = async () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = pending;
    pending = null;
    if (!batch) return;
    try {
      const results = (await options.write(batch.items)) ?? [];
      for (const w of batch.waiters) w.resolve(results.slice(w.from, w.to));
    } catch (err) {
      for (const w of batch.waiters) w.reject(err);
    }
  };

  return {
    add(items) {
      return new Promise<R[]>((resolve, reject) => {
        pending ??= { items: [], waiters: [] };
        const from = pending.items.length;
        for (const item of items) pending.items.push(item);
        pending.waiters.push({ from, to: pending.items.length, resolve, reject });
        if (pending.items.length >= options.maxItems) void flush();
        else timer ??= setTimeout(() => void flush(), options.maxWaitMs);
      });
    },
    flush,
  };
}

/**
 * Gathers rows from many concurrent jobs into few large inserts (ClickHouse
 * wants few big parts, not many small ones). A job's promise settles only
 * when the insert holding its rows has settled, so a job completes only once
 * its rows are stored.
 */
export interface Batcher<T> {
  add(items: readonly T[]): Promise<void>;
  /** Flushes what is pending now; used at shutdown. */
  flush(): Promise<void>;
}

interface Pending<T> {
  items: T[];
  settle: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}

export function createBatcher<T>(options: {
  maxItems: number;
  maxWaitMs: number;
  write: (items: T[]) => Promise<void>;
}): Batcher<T> {
  let pending: Pending<T> | null = null;
  let timer: NodeJS.Timeout | null = null;

  const flush = async () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = pending;
    pending = null;
    if (!batch) return;
    try {
      await options.write(batch.items);
      for (const s of batch.settle) s.resolve();
    } catch (err) {
      for (const s of batch.settle) s.reject(err);
    }
  };

  return {
    add(items) {
      return new Promise<void>((resolve, reject) => {
        pending ??= { items: [], settle: [] };
        for (const item of items) pending.items.push(item);
        pending.settle.push({ resolve, reject });
        if (pending.items.length >= options.maxItems) void flush();
        else timer ??= setTimeout(() => void flush(), options.maxWaitMs);
      });
    },
    flush,
  };
}

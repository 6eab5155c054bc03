/**
 * Where the machine's CPU went over a stretch of a benchmark, from /proc: this process's main thread, its other
 * threads by name (chdb's pools, V8's helpers, libuv's), the redis-server processes, the kernel's interrupt work
 * (loopback networking runs there), every other process (the load client, or anything else that ran: a figure
 * taken while something else ran shows it here), and idle. CPU-seconds for a fixed amount of work vary far less
 * between runs than latency percentiles do on two saturated cores, so a change's cost shows here when the
 * percentiles' spread hides it.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Jiffies as /proc counts them: USER_HZ, 100 a second on every Linux build this project runs on. */
const TICKS_PER_SECOND = 100;
/** Threads of this process shown by name; the rest are summed. */
const NAMED_THREADS = 6;

export interface CpuSplit {
  /** CPU-seconds (user + system), each. */
  mainThread: number;
  /** This process's other threads, by thread name (the busiest first), threads that ended meanwhile included under "ended". */
  otherThreads: Array<{ name: string; seconds: number }>;
  redis: number;
  interrupts: number;
  otherProcesses: number;
  idle: number;
}

interface Reading {
  threads: Map<string, { name: string; ticks: number }>;
  process: number;
  redis: number;
  interrupts: number;
  busy: number;
  idle: number;
}

/** The command name and utime + stime (fields 14 and 15) of a /proc stat line; the name may hold spaces. */
function parseStat(line: string): { name: string; ticks: number } {
  const close = line.lastIndexOf(')');
  const fields = line.slice(close + 2).split(' ');
  return { name: line.slice(line.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
}

const readOr = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // a process or thread that ended between the listing and the read
  }
};

function read(): Reading {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu!.trim().split(/\s+/).slice(1).map(Number) as number[];
  let redis = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = readOr(`/proc/${pid}/stat`);
    if (stat?.includes('(redis-server)')) redis += parseStat(stat).ticks;
  }
  const threads = new Map<string, { name: string; ticks: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readOr(`/proc/self/task/${tid}/stat`);
    if (stat) threads.set(tid, parseStat(stat));
  }
  return {
    threads,
    process: parseStat(readFileSync('/proc/self/stat', 'utf8')).ticks,
    redis,
    interrupts: irq! + softirq!,
    busy: user! + nice! + system! + steal!,
    idle: idle! + iowait!,
  };
}

/** Starts counting; the function returned gives the split since then. */
export function startCpuSplit(): () => CpuSplit {
  const before = read();
  return () => {
    const after = read();
    const seconds = (ticks: number) => ticks / TICKS_PER_SECOND;
    const main = String(process.pid);
    const byName = new Map<string, number>();
    let counted = 0;
    for (const [tid, { name, ticks }] of after.threads) {
      if (tid === main) continue;
      const used = ticks - (before.threads.get(tid)?.ticks ?? 0);
      counted += used;
      byName.set(name, (byName.get(name) ?? 0) + used);
    }
    const processTicks = after.process - before.process;
    const mainTicks = after.threads.get(main)!.ticks - before.threads.get(main)!.ticks;
    const ended = processTicks - mainTicks - counted;
    const named = [...byName].sort((a, b) => b[1] - a[1]);
    const rest = named.slice(NAMED_THREADS).reduce((sum, [, t]) => sum + t, 0);
    const otherThreads = [
      ...named.slice(0, NAMED_THREADS).map(([name, t]) => ({ name, seconds: seconds(t) })),
      ...(rest > 0 ? [{ name: 'others', seconds: seconds(rest) }] : []),
      ...(ended > 0 ? [{ name: 'ended', seconds: seconds(ended) }] : []),
    ].filter((t) => t.seconds > 0);
    const redisTicks = after.redis - before.redis;
    return {
      mainThread: seconds(mainTicks),
      otherThreads,
      redis: seconds(redisTicks),
      interrupts: seconds(after.interrupts - before.interrupts),
      otherProcesses: seconds(Math.max(0, after.busy - before.busy - processTicks - redisTicks)),
      idle: seconds(after.idle - before.idle),
    };
  };
}

/**
 * The median CPU time of this process (user + system, in ms) over `runs` runs of `step`, after one run to warm up.
 * CPU time, not wall-clock time: on a machine shared with other work, waiting for a core would otherwise count as cost.
 */
export function medianCpuMs(step: () => unknown, runs: number): number {
  step();
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = process.cpuUsage();
    step();
    const used = process.cpuUsage(started);
    times.push((used.user + used.system) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

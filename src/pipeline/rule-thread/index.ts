import type { Worker } from 'node:worker_threads';
import { withHolidayCalendar } from '../../calendar/index.js';
import type { Logger } from '../../log.js';
import type { Metrics } from '../../metrics/index.js';
import { evaluateCompany, type CompanyEvaluation, type RuleTimer } from '../../rules/engine.js';
import type { RuleSet } from '../../rules/load.js';
import { startThread } from './entry.js';
import type { CompanyToEvaluate, EvaluationReply, EvaluationRequest } from './protocol.js';

export type { CompanyToEvaluate } from './protocol.js';

/** Decides companies with the rules, on a thread of their own when there is one, so the main thread keeps serving. */
export interface CompanyEvaluator {
  /** Each company's evaluation, in the order given. */
  evaluate(set: RuleSet, now: number, names: ReadonlyMap<string, string>, companies: readonly CompanyToEvaluate[], timed: RuleTimer): Promise<CompanyEvaluation[]>;
  close(): Promise<void>;
}

/** A thread that died this many times is not started again: the rules run on the main thread from then on. */
const MAX_THREAD_DEATHS = 3;
/** How long a rule set the thread could not load runs on the main thread before the thread is asked again. */
const REFUSAL_MS = 60_000;

/**
 * With `thread`, the rules run on one worker thread: the main thread sends each chunk's companies (their facts
 * and events, copied) and reconciles what comes back. Without it, or while the thread cannot hold the set asked
 * for, they run here, as before; both give the same evaluations (tests/rule-thread.test.ts).
 */
export function createCompanyEvaluator(options: { thread: boolean; log: Logger; metrics: Metrics }): CompanyEvaluator {
  const { log } = options;
  let worker: Promise<Worker> | null = null;
  let deaths = 0;
  let closing = false;
  let nextId = 0;
  const waiting = new Map<number, { done: (reply: EvaluationReply) => void; failed: (err: Error) => void }>();
  /** Digests the thread said it cannot load, until when they run here. */
  const refused = new Map<string, number>();

  function start(): Promise<Worker> {
    let dead = false;
    const died = (err: Error) => {
      if (dead) return;
      dead = true;
      if (worker === started) worker = null;
      for (const pending of waiting.values()) pending.failed(err);
      waiting.clear();
      if (closing) return;
      deaths += 1;
      log.error({ err: err.message, deaths }, deaths >= MAX_THREAD_DEATHS ? 'rule thread died; the rules run on the main thread from now on' : 'rule thread died; starting another');
    };
    const started = Promise.resolve().then(() => {
      const thread = startThread('./thread', 'qingjian-rules');
      thread.on('message', (reply: EvaluationReply) => {
        waiting.get(reply.id)?.done(reply);
        waiting.delete(reply.id);
        // An idle thread must not keep the process alive; one with work asked of it must.
        if (waiting.size === 0) thread.unref();
      });
      thread.on('error', died);
      thread.on('exit', (code) => died(new Error(`rule thread exited with code ${code}`)));
      thread.unref();
      return thread;
    });
    started.catch(died);
    return started;
  }

  function inProcess(set: RuleSet, now: number, names: ReadonlyMap<string, string>, companies: readonly CompanyToEvaluate[], timed: RuleTimer) {
    options.metrics.ruleChunks.inc({ thread: 'main' });
    const naming = { agencyName: (id: string) => names.get(id) ?? id };
    return withHolidayCalendar(set.calendar, () => companies.map(({ company, events, changed }) => evaluateCompany(set.rules, { company, events, changed, now, naming }, timed)));
  }

  async function ask(request: Omit<EvaluationRequest, 'id'>): Promise<EvaluationReply> {
    const thread = await (worker ??= start());
    const id = nextId++;
    return new Promise((done, failed) => {
      try {
        thread.postMessage({ ...request, id } satisfies EvaluationRequest);
      } catch (err) {
        // Something in the companies cannot be copied to another thread: nothing was sent.
        failed(err as Error);
        return;
      }
      waiting.set(id, { done, failed });
      thread.ref();
    });
  }

  return {
    async evaluate(set, now, names, companies, timed) {
      if (!options.thread || closing || deaths >= MAX_THREAD_DEATHS || (refused.get(set.digest) ?? 0) > Date.now() || companies.length === 0) {
        return inProcess(set, now, names, companies, timed);
      }
      let reply: EvaluationReply;
      try {
        reply = await ask({ digest: set.digest, dir: set.dir, now, names, companies });
      } catch (err) {
        // The thread died under this chunk, could not start, or could not be sent it: decide it here rather than fail the job.
        log.warn({ err: (err as Error).message }, 'rule thread unavailable; evaluating on the main thread');
        return inProcess(set, now, names, companies, timed);
      }
      if ('error' in reply) throw new Error(`rule thread: ${reply.error}`);
      if ('unavailable' in reply) {
        refused.set(set.digest, Date.now() + REFUSAL_MS);
        log.warn({ digest: set.digest, reason: reply.unavailable }, 'the rule thread cannot load the live rule set; its rules run on the main thread');
        return inProcess(set, now, names, companies, timed);
      }
      options.metrics.ruleChunks.inc({ thread: 'rules' });
      for (const [rule, seconds] of reply.timings) timed(rule, seconds);
      return reply.results;
    },
    async close() {
      closing = true;
      const thread = await worker?.catch(() => null);
      worker = null;
      await thread?.terminate();
    },
  };
}

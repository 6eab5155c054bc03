import { parentPort } from 'node:worker_threads';
import { withHolidayCalendar } from '../../calendar/index.js';
import { evaluateCompany } from '../../rules/engine.js';
import { loadRuleSet, type RuleSet } from '../../rules/load.js';
import type { EvaluationReply, EvaluationRequest } from './protocol.js';

/**
 * The rule thread: decides companies with the same engine the main thread would, on a core of its own.
 * It loads the rule set from the files the main thread loaded it from (a compiled set holds functions, which
 * cannot be sent) and evaluates only when its set's digest is the one asked for.
 */
let set: RuleSet | null = null;

async function ruleSet(digest: string, dir: string): Promise<RuleSet | null> {
  if (set?.digest === digest) return set;
  // The main thread tested this set before using it; the thread only has to compile the same files.
  const loaded = await loadRuleSet(dir).catch(() => null);
  if (loaded) set = loaded;
  return loaded?.digest === digest ? loaded : null;
}

async function answer(request: EvaluationRequest): Promise<EvaluationReply> {
  const rules = await ruleSet(request.digest, request.dir);
  if (!rules) return { id: request.id, unavailable: `the files in ${request.dir} no longer make rule set ${request.digest}` };
  const timings: Array<[string, number]> = [];
  const naming = { agencyName: (id: string) => request.names.get(id) ?? id };
  const timed = (rule: string, seconds: number) => { timings.push([rule, seconds]); };
  const results = withHolidayCalendar(rules.calendar, () => request.companies.map(({ company, events, changed }) =>
    evaluateCompany(rules.rules, { company, events, changed, now: request.now, naming }, timed)));
  return { id: request.id, results, timings };
}

const port = parentPort!;
// One request at a time, in order: a rule set loads once however many requests wait for it.
let turn = Promise.resolve();
port.on('message', (request: EvaluationRequest) => {
  turn = turn.then(async () => {
    port.postMessage(await answer(request).catch((err: Error): EvaluationReply => ({ id: request.id, error: err.stack ?? err.message })));
  });
});

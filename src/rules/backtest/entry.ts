import { parentPort, workerData } from 'node:worker_threads';
import { loadRuleSet, type RuleSet } from '../load.js';
import { judgeSlice, type SliceJudge } from './slice.js';
import type { RuleSetAt, SliceAnswer, SliceRequest, SliceThreadSpec, ThreadReady } from './thread.js';

// The backtest's slice thread (./thread.ts): loads the rule sets, then judges each slice it is sent, in order.

const port = parentPort!;
const spec = workerData as SliceThreadSpec;

const load = (at: RuleSetAt): Promise<RuleSet> => loadRuleSet(at.dir, at.sources);

async function prepare(): Promise<SliceJudge> {
  const [current, candidate] = await Promise.all([load(spec.current), spec.candidate ? load(spec.candidate) : null]);
  return { current, candidate, ruleId: spec.ruleId, anchors: spec.anchors, now: spec.now, agencies: new Map(spec.agencies), columns: spec.columns };
}

prepare().then((judge) => {
  port.on('message', (request: SliceRequest) => {
    let answer: SliceAnswer;
    try {
      answer = { id: request.id, outcome: judgeSlice(judge, request.bytes, new Map(request.companies)) };
    } catch (err) {
      answer = { id: request.id, error: (err as Error).message };
    }
    port.postMessage(answer);
  });
  port.postMessage({ ready: true } satisfies ThreadReady);
}, (err: Error) => port.postMessage({ ready: false, error: err.message } satisfies ThreadReady));

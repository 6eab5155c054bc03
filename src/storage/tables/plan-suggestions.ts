import { z } from 'zod';
import { SUGGESTIONS } from '../../plans/model.js';
import type { Storage } from '../port.js';
import { column, columnsOf, namedQuery } from './query.js';

/**
 * `plan_suggestions` (migration 10): a suggestion the coordinating office recorded for a plan
 * (合并/线上/变更/取消). Its id is derived from the request, so a retry folds (ReplacingMergeTree(at), read with
 * FINAL); who made it is in the row and in the audit log.
 */
export const PlanSuggestionRow = z.object({
  id: z.string(),
  plan_id: z.string(),
  action: z.enum(SUGGESTIONS),
  /** merge: the plans to merge this one with. */
  with_plan_ids: z.array(z.string()),
  /** change: the proposed window; null for the other actions. */
  window_start: column.date.nullable(),
  window_end: column.date.nullable(),
  note: z.string(),
  region: z.string(),
  agency_id: z.string(),
  actor: z.string(),
  actor_role: z.string(),
  at: column.time,
});
export type PlanSuggestionRow = z.output<typeof PlanSuggestionRow>;

export const insertPlanSuggestions = (storage: Storage, rows: readonly PlanSuggestionRow[]) => storage.insert('plan_suggestions', rows);

/** The suggestions made for these plans, newest first. */
export const suggestionsOfPlans = namedQuery({
  name: 'plan_suggestions.ofPlans',
  row: PlanSuggestionRow,
  statement: (values: { ids: readonly string[] }) => ({
    sql: `SELECT ${columnsOf(PlanSuggestionRow)} FROM plan_suggestions FINAL WHERE plan_id IN {ids:Array(String)} ORDER BY at DESC, id`,
    values,
  }),
});

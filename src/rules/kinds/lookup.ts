import type { CompanyFacts } from '../events.js';

export interface Lookup<T> {
  by: 'credit_grade' | 'whitelisted';
  values: Record<string, T>;
  default?: T;
}

/** A value chosen by a company attribute; undefined when neither the attribute's value nor a default applies. */
export function lookup<T>(spec: Lookup<T>, company: CompanyFacts): T | undefined {
  const key = spec.by === 'credit_grade' ? company.credit_grade : String(company.whitelisted);
  if (key !== null && key in spec.values) return spec.values[key];
  return spec.default;
}

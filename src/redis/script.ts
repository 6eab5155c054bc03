import type { ChainableCommander, Redis } from 'ioredis';

type Arg = string | number;
type ScriptCall = (numberOfKeys: number, ...keysAndArgs: Arg[]) => Promise<unknown>;

/** A Lua script defined on one connection, called with its keys and then its arguments. */
export interface Script {
  run(keys: readonly string[], ...args: Arg[]): Promise<unknown>;
  /** Adds a call to a pipeline of the same connection. */
  queue(pipeline: ChainableCommander, keys: readonly string[], ...args: Arg[]): void;
}

/**
 * Defines a Lua script on a connection, run by its SHA: ioredis sends the text once per connection (EVAL), then
 * EVALSHA, and the text again after NOSCRIPT (a Redis that restarted without its script cache). `redis.eval` sent
 * the whole text, and Redis hashed it, on every call: lock releases and renewals, counts and feed publishes.
 * `name` must be unique per connection (a command of that name is added to it and to its pipelines).
 */
export function defineScript(redis: Redis, name: string, lua: string): Script {
  redis.defineCommand(name, { lua });
  const on = (target: Redis | ChainableCommander) => (target as unknown as Record<string, ScriptCall>)[name]!.bind(target);
  return {
    run: (keys, ...args) => on(redis)(keys.length, ...keys, ...args),
    queue(pipeline, keys, ...args) {
      void on(pipeline)(keys.length, ...keys, ...args);
    },
  };
}

/**
 * The agent task queue: enqueue with priority, delay, idempotency key and
 * dependencies; claim under a per-claim lease token; heartbeat; complete; fail
 * with backoff into a dead-letter state. `layer` keeps every queue in one Redis
 * Cluster slot and moves tasks with atomic Lua scripts; `layerMemory` has the
 * same semantics on Effect's Clock. Both pass one contract suite.
 */
import { Context, Layer } from "effect"
import type { TasksShape } from "./tasks/TaskModel.ts"
import { makeMemory } from "./tasks/TasksMemory.ts"
import { makeRedis } from "./tasks/TasksRedis.ts"

export type * from "./tasks/TaskModel.ts"

export class Tasks extends Context.Service<Tasks, TasksShape>()("effect-redis-mcp/Tasks") {
  /** Backed by Redis (needs RedisClient and ServerConfig). */
  static readonly layer = Layer.effect(Tasks, makeRedis)

  /** In process memory, timed by Effect's Clock (needs ServerConfig). */
  static readonly layerMemory = Layer.effect(Tasks, makeMemory)
}

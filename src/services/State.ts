/**
 * Versioned shared state for agents: JSON documents per namespace and key, each
 * write bumping a version (compare-and-set with `expectedVersion`), RFC 7396
 * merge patches applied without lost updates, the last versions kept as history,
 * TTLs, locks with fencing tokens, and change events for subscriptions.
 */
import { Context, Layer } from "effect"
import type { StateShape } from "./state/Model.ts"
import * as StateMemory from "./state/StateMemory.ts"
import * as StateRedis from "./state/StateRedis.ts"

export { mergePatch } from "./state/MergePatch.ts"
export type * from "./state/Model.ts"
export { parseStateUri, stateUri } from "./state/Model.ts"

export class State extends Context.Service<State, StateShape>()("effect-redis-mcp/State") {
  /** On Redis: one hash-tagged slot per namespace, Lua for every write, pub/sub for changes. */
  static readonly layer = Layer.effect(State, StateRedis.make)

  /** In process memory: for running without Redis, and for tests. */
  static readonly layerMemory = Layer.effect(State, StateMemory.make)
}

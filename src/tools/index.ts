/**
 * Every feature (toolset) the server knows, in the order `tools/list` shows
 * their tools. Adding a toolset is one line here.
 */
import type { Services } from "../services/Stack.ts"
import { adminFeature } from "./admin.ts"
import { batchFeature } from "./batch.ts"
import { commandFeature } from "./command.ts"
import type { Feature } from "./Feature.ts"
import { hashFeature } from "./hash.ts"
import { keysFeature } from "./keys.ts"
import { listFeature } from "./list.ts"
import { pubsubFeature } from "./pubsub.ts"
import { setFeature } from "./set.ts"
import { stateFeature } from "./state.ts"
import { streamFeature } from "./stream.ts"
import { taskFeature } from "./task.ts"
import { zsetFeature } from "./zset.ts"

export const features: ReadonlyArray<Feature<Services>> = [
  adminFeature,
  keysFeature,
  taskFeature,
  stateFeature,
  hashFeature,
  listFeature,
  setFeature,
  zsetFeature,
  streamFeature,
  pubsubFeature,
  batchFeature,
  commandFeature
]

/** Every tool of every feature, in `tools/list` order. */
export const allTools = features.flatMap((f) => f.tools)

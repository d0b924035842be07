/**
 * Every tool the server knows, in the order `tools/list` shows them. Each toolset
 * file adds one line.
 */
import type { Services } from "../services/Stack.ts"
import { adminTools } from "./admin.ts"
import { batchTools } from "./batch.ts"
import { commandTools } from "./command.ts"
import { hashTools } from "./hash.ts"
import { keysTools } from "./keys.ts"
import { listTools } from "./list.ts"
import { pubsubTools } from "./pubsub.ts"
import { setTools } from "./set.ts"
import { stateTools } from "./state.ts"
import { streamTools } from "./stream.ts"
import type { AnyTool } from "./Tool.ts"
import { taskTools } from "./task.ts"
import { zsetTools } from "./zset.ts"

export const allTools: ReadonlyArray<AnyTool<Services>> = [
  ...adminTools,
  ...keysTools,
  ...taskTools,
  ...stateTools,
  ...hashTools,
  ...listTools,
  ...setTools,
  ...zsetTools,
  ...streamTools,
  ...pubsubTools,
  ...batchTools,
  ...commandTools
]

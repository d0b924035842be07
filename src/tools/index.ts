/**
 * Every tool the server knows, in the order `tools/list` shows them. Each
 * toolset file adds one line.
 */
import type { Services } from "../services/Stack.ts"
import { adminTools } from "./admin.ts"
import type { AnyTool } from "./Tool.ts"

export const allTools: ReadonlyArray<AnyTool<Services>> = [
  ...adminTools
  // (one line per toolset)
]

/**
 * Every tool the server knows, in the order `tools/list` shows them.
 */
import type { Services } from "../services/Stack.ts"
import { adminTools } from "./admin.ts"
import type { AnyTool } from "./Tool.ts"

export const allTools: ReadonlyArray<AnyTool<Services>> = [...adminTools]

/**
 * Server extensions (resources, prompts) that features register on the MCP server.
 * Each feature adds one line.
 */
import type { Services } from "../services/Stack.ts"
import type { ServerExtension } from "./McpServer.ts"
import { stateResources } from "./stateResources.ts"
import { taskResources } from "./taskResources.ts"

export const allExtensions: ReadonlyArray<ServerExtension<Services>> = [stateResources, taskResources]

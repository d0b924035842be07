/**
 * Server extensions: the resources and prompts that features offer on the MCP
 * server (dispatched by `serveExtensions` in Resources.ts). Each feature adds one line.
 */
import type { Services } from "../services/Stack.ts"
import type { ServerExtension } from "./Resources.ts"
import { stateResources } from "./stateResources.ts"
import { taskResources } from "./taskResources.ts"

export const allExtensions: ReadonlyArray<ServerExtension<Services>> = [stateResources, taskResources]

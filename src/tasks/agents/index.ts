/**
 * @packageDocumentation
 *
 * Agents: the handlers that execute a task on this machine. Built-ins (`echo`, `sleep`)
 * run in process; command agents from `config.json` run an argv (never a shell) with the
 * task input as JSON on stdin and their stdout as the output; the opt-in `shell` agent
 * runs `/bin/sh -c <script>`. Every process runs in its own process group, and timeout
 * or cancel stops the whole group. `run()` never rejects: every failure is an outcome
 * with an exit code and one clear error line. `AgentRegistry` holds the enabled agents.
 */
export type {
  Agent, AgentFailureReason, AgentOutcome, AgentRunOptions, AgentsConfig, CommandAgentConfig
} from './types.js'
export { defaultAgentsConfig, parseAgentsConfig } from './config.js'
export { AgentRegistry } from './registry.js'
export { AgentNotServedError, notServed } from './errors.js'
export { createEchoAgent, createSleepAgent } from './builtin.js'
export { CommandAgent, ShellAgent, type ShellAgentInit } from './command.js'
export { hashOutput } from './outcome.js'
export * from './constants.js'

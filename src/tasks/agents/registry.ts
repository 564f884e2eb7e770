/**
 * The agents this machine serves, built once from the validated config.
 */
import { createEchoAgent, createSleepAgent } from './builtin.js'
import { CommandAgent, ShellAgent } from './command.js'
import { DEFAULT_BUILTIN_TIMEOUT_MS } from './constants.js'
import type { Agent, AgentsConfig } from './types.js'

export class AgentRegistry {
  private readonly agents = new Map<string, Agent>()

  /** Builds the enabled agents; starts nothing. */
  constructor (config: AgentsConfig) {
    if (config.echo.enabled) this.agents.set('echo', createEchoAgent(config.echo.timeoutMs ?? DEFAULT_BUILTIN_TIMEOUT_MS))
    if (config.sleep.enabled) this.agents.set('sleep', createSleepAgent(config.sleep.timeoutMs ?? DEFAULT_BUILTIN_TIMEOUT_MS))
    if (config.shell.enabled) this.agents.set('shell', new ShellAgent({ timeoutMs: config.shell.timeoutMs }))
    for (const [name, command] of Object.entries(config.commands)) this.agents.set(name, new CommandAgent(name, command))
  }

  /** the enabled agent called `name` */
  get (name: string): Agent | undefined {
    return this.agents.get(name)
  }

  has (name: string): boolean {
    return this.agents.has(name)
  }

  /** sorted names of the enabled agents: what this daemon advertises */
  names (): string[] {
    return [...this.agents.keys()].sort()
  }
}

/** `paired daemon ...`: run the daemon in the foreground until SIGINT or SIGTERM. */
import { flag, intOption, stringList, stringOption } from '../args.js'
import type { CommandArgs, CommandContext, CommandOptions } from '../context.js'
import { exitCodeFor } from '../exit-codes.js'

export const usage = 'daemon [--listen MA]... [--bootstrap MA]... [--api-port P] [--no-mdns] [--name N]'
export const summary = 'run the daemon in the foreground (SIGINT/SIGTERM stop it)'
export const details = [
  '  --listen MA      a libp2p listen multiaddr (repeatable)',
  '  --bootstrap MA   a peer to dial at start (repeatable)',
  '  --api-port P     TCP port of the local API on 127.0.0.1 (0: any free port)',
  '  --no-mdns        no local-network discovery',
  '  --name N         this machine\'s name in the team (kept in the home\'s config.json)',
  'The log goes to stderr, one line per event: "<ISO time> <text>"; with --json, one JSON',
  'object per line: {"time", "msg"}, and a failure to start as {"time", "level": "error", "error": {"name", "message"}}.'
].join('\n')
export const options: CommandOptions = {
  listen: { type: 'string', multiple: true },
  bootstrap: { type: 'string', multiple: true },
  'api-port': { type: 'string' },
  'no-mdns': { type: 'boolean' },
  name: { type: 'string' }
}

export async function run (args: CommandArgs, ctx: CommandContext): Promise<number | undefined> {
  const listen = stringList(args, 'listen')
  const bootstrap = stringList(args, 'bootstrap')
  const options = {
    home: ctx.home,
    listen: listen.length > 0 ? listen : undefined,
    bootstrap: bootstrap.length > 0 ? bootstrap : undefined,
    apiPort: intOption(args, 'api-port', 0, 65535),
    mdns: flag(args, 'no-mdns') ? false : undefined,
    name: stringOption(args, 'name')
  }
  // loaded here, not at the top: other commands must not pay for loading libp2p
  const { runDaemon } = await import('../../app.js')
  if (!ctx.json) return await runDaemon(options)
  const json = (doc: Record<string, unknown>): void => { ctx.err(JSON.stringify({ time: new Date().toISOString(), ...doc })) }
  try {
    return await runDaemon({ ...options, log: msg => { json({ msg }) } })
  } catch (err) {
    const { name, message } = err as Partial<Error>
    json({ level: 'error', error: { name: typeof name === 'string' ? name : 'Error', message: String(message ?? err) } })
    return exitCodeFor(err)
  }
}

import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** The files a home folder holds (DESIGN §7). */
export interface HomePaths {
  home: string
  /** the machine's Ed25519 key, protobuf-encoded, mode 0600 */
  key: string
  config: string
  /** LevelDB folder */
  db: string
  apiToken: string
  apiSocket: string
  /** pid lock file held while a daemon runs */
  lock: string
  /** the team's private state: network key, team key (founder), own certificate; 0600 */
  team: string
}

/** `--home DIR`, else `$PAIRED_HOME`, else `~/.paired`. */
export function resolveHome (flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag != null && flag !== '') return resolve(flag)
  if (env.PAIRED_HOME != null && env.PAIRED_HOME !== '') return resolve(env.PAIRED_HOME)
  return join(homedir(), '.paired')
}

export function homePaths (home: string): HomePaths {
  return {
    home,
    key: join(home, 'key'),
    config: join(home, 'config.json'),
    db: join(home, 'db'),
    apiToken: join(home, 'api.token'),
    apiSocket: join(home, 'api.sock'),
    lock: join(home, 'daemon.lock'),
    team: join(home, 'team.json')
  }
}

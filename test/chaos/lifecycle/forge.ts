/**
 * A member that lies: with its daemon stopped, the test opens the member's own home (its
 * key, its `team.json`, its LevelDB op log) and authors one op the member has no right to
 * write, signed with the member's real key, exactly as a modified daemon would. When the
 * daemon starts again, anti-entropy hands the op to every member, and each member's own
 * checks decide what it does with it.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadOrCreateIdentity } from '../../../src/identity/index.js'
import type { OpDraft } from '../../../src/state/ops/index.js'
import { openStore } from '../../../src/state/store/db.js'
import { OpStore } from '../../../src/state/store/op-log.js'
import { hashJson } from '../../../src/tasks/receipt.js'
import { signerFromSeed } from '../../../src/team/index.js'
import type { TeamFile } from '../../../src/daemon/team-file.js'
import type { ForgedKind } from './schedule.js'

/** the op a forger signs to end another member's task */
export function forgedDraft (op: ForgedKind, taskId: string, attempt: number, forger: string): OpDraft {
  if (op === 'fail') return { kind: 'task:fail', body: { taskId } }
  const output = { forgedBy: forger }
  return { kind: 'task:result', body: { taskId, attempt, exitCode: 0, outputHash: hashJson(output), output } }
}

/**
 * Authors `draft` in the op log of the (stopped) daemon at `home`, signed with its key.
 * Resolves with the seq it got, or the name of the error its own store refused it with.
 */
export async function forgeInHome (home: string, draft: OpDraft): Promise<{ seq?: number, refused?: string }> {
  const team = JSON.parse(await readFile(join(home, 'team.json'), 'utf8')) as TeamFile
  const { identity } = await loadOrCreateIdentity(join(home, 'key'))
  const signer = signerFromSeed(identity.peerId.toString(), identity.seed)
  const db = await openStore(join(home, 'db'))
  try {
    const store = new OpStore({ db }, { teamId: team.team.teamId, signer })
    try {
      const [batch] = await store.write([draft])
      return { seq: batch.toSeq }
    } catch (err) {
      return { refused: `${(err as Error).name}: ${(err as Error).message}` }
    } finally {
      await store.stop()
    }
  } finally {
    await db.close()
  }
}

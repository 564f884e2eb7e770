/** Stores in fresh temp dirs (under os.tmpdir()), removed after each test file. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { openStore, type PairedDb } from '../../../../src/state/store/db.js'
import { OpStore, type OpStoreInit } from '../../../../src/state/store/op-log.js'

import { TEAM } from '../ops/helpers.js'

export { TEAM }

const dirs: string[] = []
const open: PairedDb[] = []

afterAll(async () => {
  for (const db of open) await db.close().catch(() => {})
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

export async function tempDir (label = 'store'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `paired-${label}-`))
  dirs.push(dir)
  return dir
}

export interface TestStore {
  store: OpStore
  db: PairedDb
  path: string
  /** closes the database and opens it again with a new OpStore, as a restart would */
  restart: (init?: Partial<OpStoreInit>) => Promise<TestStore>
  close: () => Promise<void>
}

export async function tempStore (init: Partial<OpStoreInit> = {}, path?: string): Promise<TestStore> {
  const at = path ?? join(await tempDir(), 'db')
  const db = await openStore(at)
  open.push(db)
  const store = new OpStore({ db }, { teamId: TEAM, ...init })
  await store.start()
  const t: TestStore = {
    store,
    db,
    path: at,
    restart: async (next = init) => {
      await store.stop()
      await db.close()
      return tempStore(next, at)
    },
    close: async () => {
      await store.stop()
      await db.close()
    }
  }
  return t
}

/** Every record `store` holds, per author, oldest first, as they would cross the wire. */
export async function allRecords (store: OpStore): Promise<unknown[]> {
  const out: unknown[] = []
  for (const author of Object.keys(await store.versionVector())) {
    for await (const record of store.opsSince(author, 1)) out.push(JSON.parse(JSON.stringify(record)))
  }
  return out
}

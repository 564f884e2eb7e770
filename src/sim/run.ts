/** One whole simulation: the membership world, then the load-balance run, from one seed. */
import { runLoad } from './load.js'
import { buildReport, type SimReport } from './report.js'
import { Rng } from './rng.js'
import type { Scenario } from './scenario.js'
import { World } from './world.js'

export function simulate (sc: Scenario): SimReport {
  const world = new World(sc).run()
  const load = runLoad(sc.load, new Rng(sc.seed ^ 0x5eed))
  return buildReport(sc, world, load)
}

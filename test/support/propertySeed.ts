import fc from "fast-check";

/**
 * Runs before every test file (vitest.config.mts, setupFiles). fast-check's properties draw from one fixed
 * seed, so each run sees the same samples and a failure replays as it was; FC_SEED=<integer> draws others
 * (to explore, or to replay the seed a failure printed). On a failure fast-check reports the seed and the
 * path of the counterexample (`{ seed: ..., path: "..." }`): FC_SEED=<seed> replays it.
 */
const defaultSeed = 20_261_130;
const fromEnvironment = process.env["FC_SEED"]?.trim();
const seed = fromEnvironment ? Number(fromEnvironment) : defaultSeed;
if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(fromEnvironment)}`);
fc.configureGlobal({ seed });

/**
 * The scenarios `--scenario NAME` picks from (e2e/local.ts, e2e/README.md), apart from the command
 * line so that a unit test can read the list without starting a run.
 */
import { crossStack } from "./crossStack";
import { kindScenario } from "./kind";
import { scale } from "./scale";
import { upgrade } from "./upgrade";
import { singleStack } from "./singleStack";

/** Every scenario by its `--scenario` name; each returns the run's exit status. */
export const scenarios: Record<string, () => Promise<number>> = {
    "single-stack": () => singleStack(),
    "cross-stack": crossStack,
    kind: kindScenario,
    scale,
    upgrade,
};

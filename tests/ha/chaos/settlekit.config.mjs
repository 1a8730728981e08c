// `settlekit worker --config tests/ha/chaos/settlekit.config.mjs`: the chaos run's worker processes.
import { chaosSystem } from "./system.mjs";

export default ({ store }) => chaosSystem(store);

/**
 * The scenario registry: the runner runs these in this order (`--only id,id` picks some). Add a
 * scenario by exporting a `Scenario` (lib/scenario.ts) from a module here and listing it.
 */
import type { Scenario } from "../lib/scenario.js";
import { sendThroughput } from "./sendThroughput.js";
import { sendLatency } from "./sendLatency.js";
import { historyPaging } from "./historyPaging.js";
import { fanOut } from "./fanOut.js";
import { idleConnections } from "./idleConnections.js";
import { startup } from "./startup.js";

export const SCENARIOS: readonly Scenario[] = [sendThroughput, sendLatency, historyPaging, fanOut, idleConnections, startup];

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { PaymentProvider, PaymentSystem, WorkerOptions } from "@settlekit/core";
import { createPaymentSystem, PspError } from "@settlekit/core";
import type { OpenDatabase } from "./database.js";
import { CliUsageError } from "./exit-codes.js";
import type { CliIo } from "./io.js";

/**
 * What a `settlekit.config.mjs` exports (default export, or a named `createSystem`): the host's own
 * wiring of the payment system on the store the CLI opened — its PSPs with their credentials,
 * fees, payout settings.
 *
 * ```js
 * // settlekit.config.mjs
 * import { createPaymentSystem } from "@settlekit/core";
 * import { sandboxProvider } from "@settlekit/psp-sandbox";
 * export default ({ store }) =>
 *   createPaymentSystem({ store, providers: [sandboxProvider({ baseUrl: "…", webhookSecret: "…" })] });
 * ```
 */
export type CreateSystem = (context: {
  readonly store: OpenDatabase["store"];
  readonly knex: OpenDatabase["knex"];
  readonly databaseUrl: string;
}) => PaymentSystem | Promise<PaymentSystem>;

export const DEFAULT_CONFIG = "settlekit.config.mjs";

/**
 * What `settlekit worker` adds to its worker from the config module's optional `worker` export:
 * the daily tasks and the nightly reconciliation (see `WorkerOptions`), or a function of the
 * system returning them.
 *
 * ```js
 * export const worker = ({ system }) => ({
 *   reconciliation: { schedule: { cron: "30 2 * * *", timeZone: "Europe/Berlin" } },
 * });
 * ```
 */
export type WorkerConfig =
  | Pick<WorkerOptions, "dailyTasks" | "reconciliation">
  | ((context: {
      readonly system: PaymentSystem;
    }) =>
      | Pick<WorkerOptions, "dailyTasks" | "reconciliation">
      | Promise<Pick<WorkerOptions, "dailyTasks" | "reconciliation">>);

/** The config module's `worker` export, if it has one (see {@link WorkerConfig}). */
export async function loadWorkerConfig(
  option: string | undefined,
  io: CliIo,
): Promise<WorkerConfig | undefined> {
  const loaded = await importConfig(option, io);
  const worker = loaded?.module.worker;
  if (worker === undefined) return undefined;
  if (typeof worker !== "function" && (typeof worker !== "object" || worker === null)) {
    throw new CliUsageError(`Config file ${loaded?.path}: \`worker\` must be an object or a function.`);
  }
  return worker as WorkerConfig;
}

/** The config module of a command (see {@link loadConfig}), imported once (Node caches it). */
async function importConfig(
  option: string | undefined,
  io: CliIo,
): Promise<
  { path: string; module: { default?: unknown; createSystem?: unknown; worker?: unknown } } | undefined
> {
  const named = option ?? io.env.SETTLEKIT_CONFIG;
  const path = resolve(io.cwd, named ?? DEFAULT_CONFIG);
  if (!existsSync(path)) {
    if (named !== undefined) throw new CliUsageError(`Config file ${path} does not exist.`);
    return undefined;
  }
  try {
    return { path, module: (await import(pathToFileURL(path).href)) as Record<string, unknown> };
  } catch (error) {
    throw new CliUsageError(`Config file ${path} failed to load: ${(error as Error).message}`);
  }
}

/** The config file of a command: `--config`, else `SETTLEKIT_CONFIG`, else `./settlekit.config.mjs` if it exists. */
export async function loadConfig(option: string | undefined, io: CliIo): Promise<CreateSystem | undefined> {
  const loaded = await importConfig(option, io);
  if (!loaded) return undefined;
  const factory = loaded.module.createSystem ?? loaded.module.default;
  if (typeof factory !== "function") {
    throw new CliUsageError(
      `Config file ${loaded.path} must export a function (default or createSystem) returning a PaymentSystem.`,
    );
  }
  return factory as CreateSystem;
}

/**
 * A provider for commands that touch no PSP (dead letters): every PSP call fails, so a system
 * without the host's config can read and replay the queue but never pays anyone.
 */
function offlineProvider(): PaymentProvider {
  const refuse = async (): Promise<never> => {
    throw new PspError(
      "PSP_REQUEST_REJECTED",
      "fatal",
      "The settlekit CLI has no PSP configured (pass --config).",
    );
  };
  return {
    id: "settlekit-cli-offline",
    capabilities: {
      methods: [],
      currencies: [],
      refunds: false,
      partialRefunds: false,
      payouts: false,
      settlementReports: false,
      cancelHostedPayments: false,
    },
    createHostedPayment: refuse,
    retrievePayment: refuse,
    parseWebhook: refuse,
    refund: refuse,
    retrieveRefund: refuse,
  };
}

/** The host's system from its config; without one, `required` commands fail with exit code 2. */
export async function systemFor(
  db: OpenDatabase,
  createSystem: CreateSystem | undefined,
  required: string | undefined,
): Promise<PaymentSystem> {
  if (createSystem) return createSystem({ store: db.store, knex: db.knex, databaseUrl: db.url });
  if (required) {
    throw new CliUsageError(
      `${required} needs your payment system: pass --config <file> (see settlekit --help).`,
    );
  }
  return createPaymentSystem({ store: db.store, providers: [offlineProvider()], logger: quietLogger });
}

const quietLogger = { warn: () => undefined, error: () => undefined };

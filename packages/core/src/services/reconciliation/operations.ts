import type { Deps } from "../../deps.js";
import type {
  ReconciliationClass,
  ReconciliationItem,
  ReconciliationRun,
} from "../../domain/reconciliation.js";
import { isDiscrepancy, RECONCILIATION_CLASSES } from "../../domain/reconciliation.js";
import { ErrorCodes, SettlekitError } from "../../errors.js";
import { postJournal } from "../../ledger/post-journal.js";
import type { JournalInput } from "../../ledger/types.js";
import type { Page } from "../../results.js";
import { pageOf } from "../../results.js";

const limitOf = (limit: number | undefined) => {
  const l = limit ?? 50;
  if (!Number.isInteger(l) || l < 1 || l > 1000) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "limit must be a whole number in [1, 1000].", {
      param: "limit",
    });
  }
  return l;
};

export async function getReconciliation(deps: Deps, id: string): Promise<ReconciliationRun> {
  const run = await deps.store.transaction((tx) => tx.reconciliation.getRun(id), { readOnly: true });
  if (!run || run.status === "running") {
    throw new SettlekitError(ErrorCodes.NOT_FOUND, `No reconciliation run ${id}.`, { param: "id" });
  }
  return run;
}

export interface ReconciliationListQuery {
  readonly limit?: number;
  /** The last run of the previous page (`nextCursor`). */
  readonly beforeId?: string;
  readonly provider?: string;
}

/** Runs newest first. */
export async function listReconciliations(
  deps: Deps,
  query: ReconciliationListQuery = {},
): Promise<Page<ReconciliationRun>> {
  const limit = limitOf(query.limit);
  const rows = await deps.store.transaction(
    (tx) =>
      tx.reconciliation.listRuns({
        limit: limit + 1,
        ...(query.beforeId ? { beforeId: query.beforeId } : {}),
        ...(query.provider ? { pspId: query.provider } : {}),
      }),
    { readOnly: true },
  );
  return pageOf(rows, limit);
}

export interface ReconciliationItemsQuery {
  readonly class?: ReconciliationClass;
  /** `nextCursor` of the previous page (an item's `seq`). */
  readonly cursor?: string;
  readonly limit?: number;
}

/** A run's items in file order (then the ledger's and the bank's), optionally of one class. */
export async function listReconciliationItems(
  deps: Deps,
  runId: string,
  query: ReconciliationItemsQuery = {},
): Promise<Page<ReconciliationItem>> {
  const limit = limitOf(query.limit);
  if (query.class !== undefined && !RECONCILIATION_CLASSES.includes(query.class)) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, `Unknown class ${JSON.stringify(query.class)}.`, {
      param: "class",
    });
  }
  const after = query.cursor === undefined ? undefined : Number(query.cursor);
  if (after !== undefined && !Number.isSafeInteger(after)) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "cursor is not one this list gave.", {
      param: "cursor",
    });
  }
  await getReconciliation(deps, runId);
  const rows = await deps.store.transaction(
    (tx) =>
      tx.reconciliation.listItems({
        runId,
        limit: limit + 1,
        ...(query.class ? { class: query.class } : {}),
        ...(after === undefined ? {} : { afterSeq: after }),
      }),
    { readOnly: true },
  );
  const data = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { data, hasMore, nextCursor: hasMore ? String(data.at(-1)?.seq) : null };
}

export interface ResolveItemInput {
  readonly runId: string;
  readonly seq: number;
  /** Who resolved it (an operator's id or email). */
  readonly resolvedBy: string;
  /** Why: what was found, what was done. */
  readonly note: string;
  /** A correcting journal, posted in the same transaction (idempotent by its reference). */
  readonly journal?: JournalInput;
}

/**
 * Resolves a discrepancy: records who and why, and posts the correcting journal when one is
 * given, in one transaction. Matched and pending items cannot be resolved (`VALIDATION_FAILED`),
 * nor one resolved already (`INVALID_STATE_TRANSITION`).
 */
export async function resolveReconciliationItem(
  deps: Deps,
  input: ResolveItemInput,
): Promise<ReconciliationItem> {
  if (!input.resolvedBy?.trim() || !input.note?.trim()) {
    throw new SettlekitError(ErrorCodes.VALIDATION_FAILED, "resolvedBy and note are required.", {
      param: input.resolvedBy?.trim() ? "note" : "resolvedBy",
    });
  }
  return deps.store.transaction(async (tx) => {
    const item = await tx.reconciliation.getItem(input.runId, input.seq);
    if (!item) {
      throw new SettlekitError(
        ErrorCodes.NOT_FOUND,
        `No item ${input.seq} in reconciliation run ${input.runId}.`,
        {
          param: "seq",
        },
      );
    }
    if (!isDiscrepancy(item.class)) {
      throw new SettlekitError(
        ErrorCodes.VALIDATION_FAILED,
        `Item ${input.seq} is ${item.class}: nothing to resolve.`,
        {
          param: "seq",
        },
      );
    }
    if (item.resolution) {
      throw new SettlekitError(
        ErrorCodes.INVALID_STATE_TRANSITION,
        `Item ${input.seq} of run ${input.runId} was resolved by ${item.resolution.resolvedBy}.`,
        { param: "seq" },
      );
    }
    const journal = input.journal ? (await postJournal(tx, input.journal, deps)).journal : undefined;
    const resolution = {
      resolvedBy: input.resolvedBy.trim(),
      note: input.note.trim(),
      ...(journal ? { journalReference: journal.reference } : {}),
      resolvedAt: deps.clock.now(),
    };
    if (!(await tx.reconciliation.resolveItem(input.runId, input.seq, resolution))) {
      throw new SettlekitError(ErrorCodes.STORE_CONFLICT, `Item ${input.seq} changed concurrently; retry.`);
    }
    return { ...item, resolution };
  });
}

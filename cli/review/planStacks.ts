import type { ConfigIssue } from "../../infra/model/issues";
import type { StackModel } from "../../infra/model/model";
import { buildPlan, type PlanDocument, type PlanOptions } from "./plan";

/**
 * `rotor plan --stacks a,b` / `--all-stacks`: every stack's plan at one instant, in one document. A stack
 * whose config is invalid is there with its errors and does not hide the others.
 */
export interface StacksPlan {
    readonly schemaVersion: 1;
    /** The instant every plan is computed for. */
    readonly at: string;
    readonly stacks: readonly StackPlanEntry[];
}

export type StackPlanEntry =
    | { readonly stack: string; readonly tenantId: string | null; readonly plan: PlanDocument; readonly errors: null }
    | { readonly stack: string; readonly tenantId: null; readonly plan: null; readonly errors: readonly { readonly path: string; readonly message: string }[]; readonly source: string };

/** One stack's outcome: its model, or the config errors that stopped it. */
export type StackOutcome = { readonly stack: string; readonly model: StackModel } | { readonly stack: string; readonly issues: readonly ConfigIssue[]; readonly source: string };

export function planStacks(outcomes: readonly StackOutcome[], at: string, options: PlanOptions = {}): StacksPlan {
    return {
        schemaVersion: 1,
        at,
        stacks: outcomes.map((outcome): StackPlanEntry => {
            if ("model" in outcome) return { stack: outcome.stack, tenantId: outcome.model.tenantId ?? null, plan: buildPlan(outcome.model, options), errors: null };
            const errors = outcome.issues.filter((issue) => issue.severity === "error").map(({ path, message }) => ({ path, message }));
            return { stack: outcome.stack, tenantId: null, plan: null, errors, source: outcome.source };
        }),
    };
}

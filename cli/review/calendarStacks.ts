import { dateToIsoSeconds } from "../../rotation/instants";
import { buildCalendar, type CalendarEvent, type CalendarHandoff, type ScheduledCredential, scheduledCredentials } from "./calendar";
import type { StackOutcome } from "./planStacks";

/**
 * `rotor calendar --stacks a,b` / `--all-stacks`: every stack's rotations in one list, by date, the stack
 * first. A stack whose config is invalid is listed with its errors and does not hide the others.
 */
export interface StacksCalendar {
    readonly schemaVersion: 1;
    readonly from: string;
    /** Exclusive. */
    readonly to: string;
    readonly stacks: readonly { readonly stack: string; readonly errors: readonly { readonly path: string; readonly message: string }[] | null }[];
    readonly events: readonly (CalendarEvent & { readonly stack: string })[];
    /** Only when a stack has a manual consumer: every stack's hand-offs open in the range, by deadline. */
    readonly handoffs?: readonly (CalendarHandoff & { readonly stack: string })[];
}

export function buildStacksCalendar(outcomes: readonly StackOutcome[], from: Date, to: Date): StacksCalendar {
    const events: (CalendarEvent & { stack: string })[] = [];
    const handoffs: (CalendarHandoff & { stack: string })[] = [];
    let manual = false;
    for (const outcome of outcomes) {
        if (!("model" in outcome)) continue;
        const calendar = buildCalendar(outcome.model, from, to);
        for (const event of calendar.events) events.push({ stack: outcome.stack, ...event });
        // Present only for a stack with a manual consumer (buildCalendar decides).
        if (calendar.handoffs) manual = true;
        for (const h of calendar.handoffs ?? []) handoffs.push({ stack: outcome.stack, ...h });
    }
    // By date; on one date, the stacks in the order given (the sort is stable).
    events.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
    handoffs.sort((a, b) => (a.deadline < b.deadline ? -1 : a.deadline > b.deadline ? 1 : 0));
    return {
        schemaVersion: 1,
        from: dateToIsoSeconds(from),
        to: dateToIsoSeconds(to),
        stacks: outcomes.map((outcome) => ({ stack: outcome.stack, errors: "model" in outcome ? null : outcome.issues.filter((i) => i.severity === "error").map(({ path, message }) => ({ path, message })) })),
        events,
        ...(manual ? { handoffs } : {}),
    };
}

/** The rotating credentials of every stack for one chart: each section named `stack/app/credential`. */
export function stacksScheduledCredentials(outcomes: readonly StackOutcome[]): ScheduledCredential[] {
    return outcomes.flatMap((outcome) => ("model" in outcome ? scheduledCredentials(outcome.model).map((c) => ({ ...c, app: `${outcome.stack}/${c.app}` })) : []));
}

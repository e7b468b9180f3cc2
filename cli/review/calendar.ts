import { handoffsBetween, openHandoffs } from "../../infra/model/handoffs";
import type { StackModel } from "../../infra/model/model";
import { type RotationPolicy, rotationEvents } from "../../rotation/schedule";
import { dateToIsoSeconds } from "../../rotation/instants";

/** One scheduled replacement: on `date`, the run replaces `slot` of a credential, retiring one generation for the next. */
export interface CalendarEvent {
    readonly date: string;
    readonly app: string;
    readonly credential: string;
    readonly slot: 0 | 1;
    readonly retiredGeneration: number;
    readonly createdGeneration: number;
}

/**
 * A hand-off open in the range: a manual consumer copies generation `generation` of a credential, served from
 * `servedFrom`, before `deadline`, when the value it held until then stops working (infra/model/handoffs.ts).
 */
export interface CalendarHandoff {
    readonly id: string;
    readonly app: string;
    readonly credential: string;
    readonly generation: number;
    readonly consumer: string;
    readonly owner: string;
    readonly servedFrom: string;
    readonly deadline: string;
}

/** The calendar JSON (`rotor calendar --format json`); stable like the plan's. */
export interface CalendarDocument {
    readonly schemaVersion: 1;
    readonly project: string;
    readonly stack: string;
    readonly from: string;
    /** Exclusive. */
    readonly to: string;
    readonly events: readonly CalendarEvent[];
    /** Only when a credential of the stack has a manual consumer: every hand-off open in the range, by deadline. */
    readonly handoffs?: readonly CalendarHandoff[];
}

/** Whether a credential of the stack has a manual consumer, and so hand-offs. */
export function hasManualConsumers(model: StackModel): boolean {
    return model.apps.some((app) => app.credentials.some((c) => c.consumers.some((consumer) => consumer.reads === "manual")));
}

/**
 * Every hand-off whose deadline or service meets [from, to): the one open just before `from` (its deadline may be
 * `from` itself), and each whose generation is served before `to`; by deadline, then id. The chart marks the same
 * deadlines. Pure.
 */
export function calendarHandoffs(model: StackModel, from: Date, to: Date): CalendarHandoff[] {
    const seen = new Set<string>();
    const handoffs: CalendarHandoff[] = [];
    for (const h of [...openHandoffs(model, new Date(from.getTime() - 1)), ...handoffsBetween(model, from, to)]) {
        if (seen.has(h.id)) continue;
        seen.add(h.id);
        handoffs.push({ id: h.id, app: h.app, credential: h.credential, generation: h.generation, consumer: h.consumer, owner: h.owner, servedFrom: h.servedFrom, deadline: h.deadline });
    }
    return handoffs.sort((a, b) => a.deadline.localeCompare(b.deadline) || a.id.localeCompare(b.id));
}

/** Every rotation of every rotating credential in [from, to), by date, then app and credential. Pure. */
export function buildCalendar(model: StackModel, from: Date, to: Date): CalendarDocument {
    const events: CalendarEvent[] = [];
    for (const app of model.apps) {
        for (const credential of app.credentials) {
            for (const event of rotationEvents(from, to, credential.policy, credential.phase)) {
                events.push({ date: event.date, app: app.name, credential: credential.name, slot: event.slot, retiredGeneration: event.retiredGeneration, createdGeneration: event.createdGeneration });
            }
        }
    }
    events.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.app < b.app ? -1 : a.app > b.app ? 1 : a.credential < b.credential ? -1 : a.credential > b.credential ? 1 : 0));
    const handoffs = hasManualConsumers(model) ? { handoffs: calendarHandoffs(model, from, to) } : {};
    return { schemaVersion: 1, project: model.project, stack: model.stack, from: dateToIsoSeconds(from), to: dateToIsoSeconds(to), events, ...handoffs };
}

/** A rotating credential and what decides its schedule: what the calendar's chart draws. */
export interface ScheduledCredential {
    readonly app: string;
    readonly credential: string;
    readonly policy: RotationPolicy;
    readonly phase: number;
    /** Its manual consumers, when it has any: the chart marks each generation's hand-off deadline. */
    readonly handoffConsumers?: readonly string[];
}

/** Every rotating credential of the stack, in the config's order (`rotor calendar --format mermaid`). Pure. */
export function scheduledCredentials(model: StackModel): ScheduledCredential[] {
    return model.apps.flatMap((app) =>
        app.credentials.map((c) => {
            const manual = c.consumers.filter((consumer) => consumer.reads === "manual").map((consumer) => consumer.name);
            return { app: app.name, credential: c.name, policy: c.policy, phase: c.phase, ...(manual.length > 0 ? { handoffConsumers: manual } : {}) };
        }),
    );
}

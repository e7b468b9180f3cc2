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

/** The calendar JSON (`rotor calendar --format json`); stable like the plan's. */
export interface CalendarDocument {
    readonly schemaVersion: 1;
    readonly project: string;
    readonly stack: string;
    readonly from: string;
    /** Exclusive. */
    readonly to: string;
    readonly events: readonly CalendarEvent[];
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
    return { schemaVersion: 1, project: model.project, stack: model.stack, from: dateToIsoSeconds(from), to: dateToIsoSeconds(to), events };
}

/** A rotating credential and what decides its schedule: what the calendar's chart draws. */
export interface ScheduledCredential {
    readonly app: string;
    readonly credential: string;
    readonly policy: RotationPolicy;
    readonly phase: number;
}

/** Every rotating credential of the stack, in the config's order (`rotor calendar --format mermaid`). Pure. */
export function scheduledCredentials(model: StackModel): ScheduledCredential[] {
    return model.apps.flatMap((app) => app.credentials.map((c) => ({ app: app.name, credential: c.name, policy: c.policy, phase: c.phase })));
}

import { capitalize, markdownTable, type OutputFormat, plural, textTable } from "../output/table";
import type { CalendarDocument } from "./calendar";

export function renderCalendar(calendar: CalendarDocument, format: OutputFormat): string {
    if (format === "json") return JSON.stringify(calendar, null, 2) + "\n";
    const header = ["DATE", "APP", "CREDENTIAL", "SLOT", "RETIRES", "CREATES"];
    const rows = calendar.events.map((e) => [e.date, e.app, e.credential, String(e.slot), `g${e.retiredGeneration}`, `g${e.createdGeneration}`]);
    const title = `${calendar.project} / ${calendar.stack}: ${plural(calendar.events.length, "rotation")} from ${calendar.from} to ${calendar.to}`;
    if (format === "markdown") return [`## Rotation calendar: ${calendar.project} / ${calendar.stack}`, "", title, "", rows.length ? markdownTable(header.map(capitalize), rows) : "_No rotation in this range._", ""].join("\n");
    return [title, "", rows.length ? textTable(header, rows) : "  no rotation in this range", ""].join("\n");
}

import { describe, expect, it } from "vitest";
import type { CalendarDocument } from "../cli/review/calendar";
import type { PlanDocument } from "../cli/review/plan";
import type { PlanDiff } from "../cli/review/planDiff";
import { ganttLimits, mermaidTaskName, mermaidText, renderGantt, type GanttCredential } from "../cli/review/renderGantt";
import { renderPlanDiff } from "../cli/review/renderPlanDiff";
import { projectDir, rotor } from "./support/cli";
import { mermaidBlocks, parseGantt, type ParsedGantt } from "./support/mermaid";
import { repoRoot } from "./support/program";

/** `rotor calendar --format mermaid`, parsed by Mermaid's own parser. */
async function chart(from: string, to: string, cwd = repoRoot, stack = "dev"): Promise<{ text: string; stderr: string; parsed: ParsedGantt }> {
    const run = await rotor(["calendar", "--stack", stack, "--from", from, "--to", to, "--format", "mermaid"], { cwd });
    expect(run.code).toBe(0);
    return { text: run.stdout, stderr: run.stderr, parsed: await parseGantt(run.stdout) };
}

const policy = { rotateEveryDays: 30, lifetimeDays: 90, epoch: "2024-01-01T00:00:00Z" };
const utc = (iso: string) => iso.slice(0, 19).replace("T", " ");

describe("rotor calendar --format mermaid", () => {
    it("prints a raw gantt chart of the sample stack that Mermaid parses, with the calendar's dates", async () => {
        const { text, stderr, parsed } = await chart("2027-01-01", "2027-04-01");
        expect(stderr).toBe("");
        // Raw, for piping: no markdown fence.
        expect(text.startsWith("gantt\n")).toBe(true);
        expect(text).not.toContain("```");
        expect(parsed.title).toBe("entra-rotor / dev rotations from 2027-01-01 to 2027-04-01");
        expect(parsed.dateFormat).toBe("YYYY-MM-DD HH:mm:ss");
        expect(parsed.config).toEqual({});
        // One section per rotating credential, in the config's order; federated credentials and files do not rotate.
        expect(parsed.sections).toEqual(["mail-sender/main", "device-inventory/importer", "calendar-sync/web"]);

        const importer = parsed.tasks.filter((t) => t.section === "device-inventory/importer").map((t) => `${t.name} | ${t.start} -> ${t.end}${t.milestone ? " milestone" : ""}${t.active ? " active" : ""}`);
        expect(importer).toEqual([
            "g34 in slot 0, expires 2027-02-04 | 2027-01-01 00:00:00 -> 2027-01-05 00:00:00",
            "g35 in slot 1, expires 2027-03-06 | 2027-01-01 00:00:00 -> 2027-02-04 00:00:00",
            "g35 served | 2027-01-01 00:00:00 -> 2027-01-05 00:00:00 active",
            "g36 replaces g34 in slot 0 | 2027-01-05 00:00:00 -> 2027-01-05 00:00:00 milestone",
            "g36 in slot 0, expires 2027-04-05 | 2027-01-05 00:00:00 -> 2027-03-06 00:00:00",
            "g36 served | 2027-01-05 00:00:00 -> 2027-02-04 00:00:00 active",
            "g37 replaces g35 in slot 1 | 2027-02-04 00:00:00 -> 2027-02-04 00:00:00 milestone",
            "g37 in slot 1, expires 2027-05-05 | 2027-02-04 00:00:00 -> 2027-04-01 00:00:00",
            "g37 served | 2027-02-04 00:00:00 -> 2027-03-06 00:00:00 active",
            "g38 replaces g36 in slot 0 | 2027-03-06 00:00:00 -> 2027-03-06 00:00:00 milestone",
            "g38 in slot 0, expires 2027-06-04 | 2027-03-06 00:00:00 -> 2027-04-01 00:00:00",
            "g38 served | 2027-03-06 00:00:00 -> 2027-04-01 00:00:00 active",
        ]);
    });

    it("has a milestone for every rotation the calendar lists, and the plan's slots and expiry dates", async () => {
        const from = "2027-01-01";
        const to = "2027-07-01";
        const { parsed } = await chart(from, to);
        const calendar = JSON.parse((await rotor(["calendar", "--stack", "dev", "--from", from, "--to", to, "--format", "json"], { cwd: repoRoot })).stdout) as CalendarDocument;
        const milestones = parsed.tasks.filter((t) => t.milestone);
        expect(parsed.sections).toHaveLength(3);
        expect(calendar.events.length).toBeGreaterThan(0);
        expect(milestones).toHaveLength(calendar.events.length);
        const asMilestones = calendar.events.map((e) => `${e.app}/${e.credential} g${e.createdGeneration} replaces g${e.retiredGeneration} in slot ${e.slot} ${utc(e.date)}`);
        expect(milestones.map((t) => `${t.section} ${t.name} ${t.start}`).sort()).toEqual(asMilestones.sort());
        // Served spans never overlap within a credential and cover the range without a gap.
        for (const section of parsed.sections) {
            const served = parsed.tasks.filter((t) => t.section === section && t.active);
            expect(served[0]!.start, section).toBe("2027-01-01 00:00:00");
            expect(served.at(-1)!.end, section).toBe("2027-07-01 00:00:00");
            for (let i = 1; i < served.length; i++) expect(served[i]!.start).toBe(served[i - 1]!.end);
        }
        // The slots the plan shows at the start of the range: the same generations, slots and end dates.
        const plan = JSON.parse((await rotor(["plan", "--stack", "dev", "--at", from, "--format", "json"], { cwd: repoRoot })).stdout) as PlanDocument;
        for (const app of plan.apps) {
            for (const credential of app.credentials) {
                for (const slot of credential.slots) {
                    const held = parsed.tasks.find((t) => t.section === `${app.name}/${credential.name}` && t.name.startsWith(`g${slot.generation} in slot`));
                    expect(held?.name).toBe(`g${slot.generation} in slot ${slot.slot}, expires ${slot.end.slice(0, 10)}`);
                }
                const served = credential.slots.find((s) => s.served)!;
                expect(parsed.tasks.find((t) => t.section === `${app.name}/${credential.name}` && t.active && t.start === "2027-01-01 00:00:00")?.name).toBe(`g${served.generation} served`);
            }
        }
    });

    it("counts its bars from the schedule: per generation held, one served span, one rotation", async () => {
        const { parsed } = await chart("2027-01-01", "2028-01-01");
        for (const section of parsed.sections) {
            const tasks = parsed.tasks.filter((t) => t.section === section);
            const held = tasks.filter((t) => / in slot \d, expires /.test(t.name));
            const generations = held.map((t) => Number(/^g(\d+)/.exec(t.name)![1]));
            // Consecutive generations, each held bar ending when its slot is reused (two rotations later) or at the range's end.
            expect(generations).toEqual(generations.map((_, i) => generations[0]! + i));
            expect(tasks.filter((t) => t.milestone).length + tasks.filter((t) => t.active).length + held.length).toBe(tasks.length);
        }
        // The monthly importer: generations 34 to 48 meet 2027 (g34 is held until 2027-01-05); a year of it fits the limit.
        expect(parsed.tasks.filter((t) => t.section === "device-inventory/importer" && / in slot \d, expires /.test(t.name))).toHaveLength(15);
        expect(15).toBeLessThanOrEqual(ganttLimits.generationsPerCredential);
    });

    it("writes instants with a time as they are, and keeps the table and JSON formats", async () => {
        const { parsed } = await chart("2027-01-05T06:30:15Z", "2027-01-20T00:00:00Z");
        expect(parsed.title).toBe("entra-rotor / dev rotations from 2027-01-05 to 2027-01-20");
        const importer = parsed.tasks.filter((t) => t.section === "device-inventory/importer");
        expect(importer[0]).toMatchObject({ name: "g35 in slot 1, expires 2027-03-06", start: "2027-01-05 06:30:15", end: "2027-01-20 00:00:00" });
        const table = await rotor(["calendar", "--stack", "dev", "--from", "2027-01-01", "--to", "2027-02-01"], { cwd: repoRoot });
        expect(table.stdout).toMatch(/^entra-rotor \/ dev: 2 rotations from 2027-01-01T00:00:00Z to 2027-02-01T00:00:00Z\n\n {2}DATE/);
        const bad = await rotor(["calendar", "--stack", "dev", "--format", "svg"], { cwd: repoRoot });
        expect(bad.code).toBe(1);
        expect(bad.stderr).toContain("Allowed choices are table, markdown, json, mermaid.");
    });

    it("bounds a century of daily rotations: at most 16 generations per credential and 120 in all, and says so", async () => {
        const apps = Array.from({ length: 30 }, (_, i) => ({
            name: `app-${String(i).padStart(3, "0")}`,
            permissions: [{ api: "Microsoft Graph", application: ["User.Read.All"] }],
            credentials: [{ name: "daily", type: "secret", rotateEveryDays: 1, lifetimeDays: 9 }],
        }));
        const dir = projectDir({ many: { config: { "entra-rotor:keyVault": { name: "kv-many", resourceGroup: "rg" }, "entra-rotor:apps": apps } } });
        const { text, stderr, parsed } = await chart("2027-01-01", "2126-01-01", dir, "many");
        expect(stderr).toMatch(/^rotor: note: the chart is truncated: 120 of \d+ generations \(8 of 30 credentials\) are drawn: at most 16 per credential and 120 in all; narrow --from and --to/);
        expect(parsed.title).toMatch(/^entra-rotor \/ many rotations from 2027-01-01 to 2126-01-01 \(truncated, 120 of \d+ generations\)$/);
        expect(parsed.sections).toHaveLength(8);
        expect(parsed.tasks.filter((t) => / in slot \d, expires /.test(t.name))).toHaveLength(120);
        for (const section of parsed.sections) expect(parsed.tasks.filter((t) => t.section === section && / in slot \d, expires /.test(t.name)).length).toBeLessThanOrEqual(16);
        expect(text.length).toBeLessThan(50_000);
    });
});

describe("renderGantt", () => {
    it("stays small for 5,000 credentials over 100 years, with the longest names (its time: npm run bench)", async () => {
        const credentials: GanttCredential[] = Array.from({ length: 5_000 }, (_, i) => ({
            app: `a${String(i).padStart(4, "0")}`.padEnd(40, "x"),
            credential: "c".padEnd(32, "y"),
            label: "before",
            policy: { rotateEveryDays: 1, lifetimeDays: 9, epoch: "2024-01-01T00:00:00Z" },
            phase: 0,
            marks: [{ name: "this change replaces both slots", at: Date.parse("2027-01-01T00:00:00Z"), crit: true }],
        }));
        // No time bound here: drawing 180 million generations one by one would outlast the test's timeout.
        const wide = renderGantt({ title: "t", from: new Date("2027-01-01T00:00:00Z"), to: new Date("2127-01-01T00:00:00Z"), credentials });
        expect(wide.generations.shown).toBe(ganttLimits.generations);
        expect(wide.generations.total).toBeGreaterThan(5_000 * 36_000);
        expect(wide.credentials).toEqual({ shown: 8, total: 5_000 });
        // The most sections a chart can have: a range so short that each credential holds two generations in it.
        const narrow = renderGantt({ title: "t", from: new Date("2027-01-01T00:00:00Z"), to: new Date("2027-01-01T00:00:01Z"), credentials });
        expect(narrow.credentials.shown).toBe(60);
        for (const c of [wide, narrow]) {
            const text = c.lines.join("\n");
            // Mermaid's default maxTextSize, which GitHub keeps: above it the chart is not drawn.
            expect(text.length).toBeLessThan(50_000);
            const parsed = await parseGantt(text);
            expect(parsed.tasks.filter((t) => / in slot \d, expires /.test(t.name))).toHaveLength(120);
        }
    });

    it("cannot be broken by names: Mermaid reads one section and the same bars whatever the names hold", async () => {
        const hostile = [
            "app: x, 2027-01-01, 1d",
            "a#b;c",
            "a%%{init: {'theme': 'forest', 'securityLevel': 'loose'}}%%",
            "x\nsection injected\nclick x href \"javascript:alert(1)\"",
            "```\n</pre><script>alert(1)</script>",
            "title taken over",
            "Click x call alert()",
            "section b",
            "2027-01-01, 2027-02-01",
            "2027-01-01 and \u202eevil\u0000",
            "",
        ];
        const benign = await parseGantt(renderGantt({ title: "t", from: new Date("2027-01-01T00:00:00Z"), to: new Date("2027-04-01T00:00:00Z"), credentials: [{ app: "app", credential: "cred", policy, phase: 0 }] }).lines.join("\n"));
        for (const name of hostile) {
            const lines = renderGantt({
                title: name,
                from: new Date("2027-01-01T00:00:00Z"),
                to: new Date("2027-04-01T00:00:00Z"),
                credentials: [{ app: name, credential: name, label: name, policy, phase: 0, marks: [{ name, at: Date.parse("2027-02-01T00:00:00Z"), crit: true }] }],
            }).lines;
            const parsed = await parseGantt(lines.join("\n"));
            expect(parsed.config, JSON.stringify(name)).toEqual({});
            expect(parsed.sections, JSON.stringify(name)).toEqual([mermaidText(`${name}/${name} ${name}`)]);
            expect(parsed.title).toBe(mermaidText(name));
            // The mark, then exactly the benign chart's bars with the same dates.
            expect(parsed.tasks[0]).toMatchObject({ name: mermaidTaskName(name), milestone: true, crit: true, start: "2027-02-01 00:00:00" });
            expect(parsed.tasks.slice(1).map((t) => [t.name, t.start, t.end, t.milestone, t.active])).toEqual(benign.tasks.map((t) => [t.name, t.start, t.end, t.milestone, t.active]));
            // Every line one statement of the chart's own forms; no name can add `:`, `#`, `;`, `%` or braces.
            for (const line of lines) expect(line).toMatch(/^(gantt|    (title|section) [^:#;%{}`<>&]+|    dateFormat .+|    axisFormat .+|    %% .+|    [^:#;%{}`<>&]+ :[^#;%{}]+)$/);
        }
        expect(mermaidText("a:b#c;d%e{f}g`h<i>j&k\nl\u202em")).toBe("a_b_c_d_e_f_g_h_i_j_k_l_m");
        expect(mermaidTaskName("title x")).toBe("_title x");
        expect(mermaidTaskName("g36 served")).toBe("g36 served");
    });
});

describe("rotor plan --base markdown's timeline", () => {
    const schedule = { rotateEveryDays: 30, lifetimeDays: 90, epoch: "2024-01-01T00:00:00Z", phaseDays: 20 };
    const diff = (app: string): PlanDiff => ({
        schemaVersion: 1,
        project: "entra-rotor",
        stack: "dev",
        at: "2027-03-01T06:00:00Z",
        base: "main",
        appsAdded: [],
        appsRemoved: [],
        permissions: [],
        credentials: [
            { app, credential: "importer", type: "secret", change: "changed", detail: "rotation", slotsReplaced: 2, breaking: true, rotation: { before: schedule, after: { ...schedule, lifetimeDays: 80 } } },
        ],
        breaking: [`${app}/importer: both slots are replaced at once`],
        hasChanges: true,
        baseProblem: null,
        errors: [],
    });

    it("keeps a hostile app name inside its fence and out of the chart's syntax", async () => {
        const app = "evil\n```\n## Approved\n%%{init: {'securityLevel':'loose'}}%%";
        const markdown = renderPlanDiff(diff(app), "markdown");
        const blocks = mermaidBlocks(markdown);
        expect(blocks).toHaveLength(1);
        expect(markdown.match(/^```/gm)).toHaveLength(2);
        expect(markdown).not.toMatch(/^## Approved/m);
        const parsed = await parseGantt(blocks[0]!);
        expect(parsed.config).toEqual({});
        expect(parsed.sections).toEqual([mermaidText(`${app}/importer before`), mermaidText(`${app}/importer after`)]);
    });
});

/**
 * A one-line progress indicator on stderr for scans that take more than a moment. Only on a terminal:
 * in a pipeline log, carriage returns are noise. Nothing is printed for scans shorter than `delayMs`.
 */
export interface Progress {
    /** Counts `n` more items of `what`. */
    tick(what: string, n?: number): void;
    /** Clears the line. */
    done(): void;
}

export const silentProgress: Progress = { tick: () => undefined, done: () => undefined };

export function terminalProgress(stream: NodeJS.WriteStream, delayMs = 500): Progress {
    if (!stream.isTTY) return silentProgress;
    const started = Date.now();
    const counts = new Map<string, number>();
    let shown = false;
    let last = 0;
    return {
        tick(what, n = 1) {
            counts.set(what, (counts.get(what) ?? 0) + n);
            const now = Date.now();
            if (now - started < delayMs || now - last < 100) return;
            last = now;
            shown = true;
            stream.write(`\r\x1b[K  reading: ${[...counts].map(([k, v]) => `${v} ${k}`).join(", ")}`);
        },
        done() {
            if (shown) stream.write("\r\x1b[K");
        },
    };
}

import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Reading a file a stack names, or a stack's own files: they may come from a pull request, and the docs
 * promise that everything is read from the project directory. Nothing outside it is opened or even looked
 * at (so a message cannot tell whether /etc/shadow exists); symbolic links are followed only when they end
 * inside the project; only a regular file is read (not a FIFO that would block, not /proc or a device), and
 * no more than a size cap.
 */

export interface ProjectFileRules {
    /** The most bytes read. */
    readonly maxBytes: number;
    /** What the file is, for messages: `a certificate file`. */
    readonly what: string;
    /** The fix when it lies outside the project. */
    readonly outsideFix: string;
    /** The message for a file over the cap. */
    readonly tooLarge: (bytes: number) => string;
}

/** The bytes of `file` (relative to `projectDir` unless absolute) when it lies inside the project, or why not. */
export function readInsideProject(file: string, projectDir: string, rules: ProjectFileRules): { bytes: Buffer } | { problem: string } {
    const outside = `is outside the project directory: ${rules.what} is read only from inside the project; ${rules.outsideFix}`;
    const project = path.resolve(projectDir);
    const resolved = path.resolve(project, file);
    if (!isInside(project, resolved)) return { problem: outside };
    const where = resolved === file ? "" : ` (looked for ${resolved})`;

    let real: string;
    try {
        real = fs.realpathSync(resolved);
    } catch (error) {
        return { problem: fileErrorMessage(error, where, projectDir) };
    }
    if (!isInside(realProject(project), real)) return { problem: `${outside} (it is a symbolic link that leads out of it)` };

    let fd: number;
    try {
        // O_NONBLOCK: opening a FIFO for reading does not wait for a writer; O_NOFOLLOW: a link swapped in
        // after realpath is refused rather than followed.
        fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
    } catch (error) {
        return { problem: fileErrorMessage(error, where, projectDir) };
    }
    try {
        const stats = fs.fstatSync(fd);
        if (stats.isDirectory()) return { problem: `is a directory${where}, not ${rules.what}: point at the file itself` };
        if (!stats.isFile()) return { problem: `is not a regular file${where}: point at the file itself` };
        if (stats.size > rules.maxBytes) return { problem: rules.tooLarge(stats.size) };
        // Sized by fstat, with one byte more, which tells a file that grew after fstat; it is then read on up to the cap.
        const chunks: Buffer[] = [];
        let length = 0;
        for (let size = stats.size + 1; length <= rules.maxBytes; size = 64 * 1024) {
            const chunk = Buffer.allocUnsafe(Math.min(size, rules.maxBytes + 1 - length));
            let filled = 0;
            for (let n = -1; n !== 0 && filled < chunk.length; filled += n) n = fs.readSync(fd, chunk, filled, chunk.length - filled, null);
            chunks.push(chunk.subarray(0, filled));
            length += filled;
            if (filled < chunk.length) break;
        }
        if (length > rules.maxBytes) return { problem: rules.tooLarge(length) };
        return { bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length) };
    } catch (error) {
        return { problem: fileErrorMessage(error, where, projectDir) };
    } finally {
        fs.closeSync(fd);
    }
}

/** Whether `target` (a path, links resolved when it exists) lies inside `projectDir` or is it. */
export function insideProject(target: string, projectDir: string): boolean {
    const project = path.resolve(projectDir);
    const resolved = path.resolve(project, target);
    if (resolved !== project && !isInside(project, resolved)) return false;
    let real: string;
    try {
        real = fs.realpathSync(resolved);
    } catch {
        return true; // Not there: nothing is read from it.
    }
    const realRoot = realProject(project);
    return real === realRoot || isInside(realRoot, real);
}

function isInside(dir: string, target: string): boolean {
    const relative = path.relative(dir, target);
    return relative === "" ? false : !relative.startsWith(`..${path.sep}`) && relative !== ".." && !path.isAbsolute(relative);
}

/** The project directory with its own links resolved (a temp dir under a linked /tmp, a checkout under a linked home). */
function realProject(project: string): string {
    try {
        return fs.realpathSync(project);
    } catch {
        return project;
    }
}

function fileErrorMessage(error: unknown, where: string, projectDir: string): string {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    switch (code) {
        case "ENOENT":
        case "ENOTDIR":
            return `no such file${where}: check the path; relative paths are relative to the project directory ${projectDir}`;
        case "EACCES":
        case "EPERM":
            return `cannot be read${where}: permission denied; make the file readable by the user running Pulumi`;
        case "ELOOP":
            return `cannot be read${where}: too many symbolic links; point at the file itself`;
        default:
            return `cannot be read${where}: ${code ?? (error as Error | undefined)?.message ?? String(error)}`;
    }
}

/**
 * Loads a module of the CLI only when a command needs it, so `rotor plan` never pays for the Azure SDKs.
 * The bin runs our TypeScript through tsx's require hook, which cannot serve a dynamic `import()`; the tests
 * run it through vitest, whose `require` cannot load TypeScript. Each gets the mechanism it has.
 */
export async function lazy<T>(viaRequire: () => T, viaImport: () => Promise<T>): Promise<T> {
    return typeof require === "function" && require.extensions?.[".ts"] ? viaRequire() : viaImport();
}

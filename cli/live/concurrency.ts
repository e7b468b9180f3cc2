/**
 * Runs `work` over `items` with at most `limit` in flight, keeping the results in input order. Graph and
 * Key Vault throttle per caller: a bounded number of parallel requests is faster than one at a time and
 * gentler than all at once.
 */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array<R>(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const index = next++;
            results[index] = await work(items[index]!, index);
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
    return results;
}

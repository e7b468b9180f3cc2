import { appNamePattern } from "../../infra/model/schema";

/**
 * Stack names for imported applications: a slug of the display name by the config's rule (3-40 lowercase
 * letters, digits or '-', starting with a letter, ending with a letter or digit), unique in the stack: the
 * second "HR Export" is hr-export-2. The name keys the app's resources and Key Vault secrets for its life.
 */

const maxLength = 40;

/** A display name as a slug that satisfies the rule (before uniqueness). */
export function slugOf(displayName: string): string {
    let slug = displayName
        .normalize("NFKD")
        .replace(/[\u0300-\u036f]/g, "")
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "");
    if (!/^[a-z]/.test(slug)) slug = slug === "" ? "app" : `app-${slug}`;
    slug = trim(slug, maxLength);
    while (slug.length < 3) slug = `${slug}-app`;
    return slug;
}

function trim(slug: string, length: number): string {
    return slug.slice(0, length).replace(/-+$/, "");
}

/** Hands out unique names, in the order asked. */
export class NameAllocator {
    private readonly taken = new Set<string>();

    allocate(displayName: string): string {
        const base = slugOf(displayName);
        let name = base;
        for (let n = 2; this.taken.has(name); n++) {
            const suffix = `-${n}`;
            name = `${trim(base, maxLength - suffix.length)}${suffix}`;
        }
        if (!appNamePattern.test(name)) throw new Error(`internal: the slug ${name} breaks the name rule`);
        this.taken.add(name);
        return name;
    }
}

/**
 * Reads a value that may be unknown during a real preview. CrossGuard's property proxy throws an UnknownValueError
 * on access to a value the provider has not computed yet (a new security group's id, a new vault's name); a rule
 * that reads through `known` skips that one value instead of giving up on the whole resource or stack.
 */
export function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (error) {
        if (error && typeof error === "object" && "unknownTypeSentinel" in error) return undefined;
        throw error;
    }
}

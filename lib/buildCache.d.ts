/** Types of buildCache.js (plain JavaScript: loadTypeScript.js uses it before any TypeScript can load). */
export declare const CACHE_ROOT: string;
export declare function hash(...parts: (string | Uint8Array)[]): string;
export declare function entryName(...parts: string[]): string;
export declare function readCacheEntry(kind: string, name: string): string | undefined;
export declare function writeCacheEntry(kind: string, name: string, text: string): void;

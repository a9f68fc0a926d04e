/** An error the API reports to its caller: an HTTP status and a message that says what is wrong and how to fix it. */
export class ApiError extends Error {
    constructor(
        readonly statusCode: number,
        message: string,
    ) {
        super(message);
        this.name = "ApiError";
    }
}

export const badRequest = (message: string) => new ApiError(400, message);
export const forbidden = (message: string) => new ApiError(403, message);
export const notFound = (message: string) => new ApiError(404, message);
export const conflict = (message: string) => new ApiError(409, message);

/** The name an AWS SDK v3 error carries (`ConditionalCheckFailedException`, `InvalidChangeBatch`, ...). */
export function awsErrorName(error: unknown): string | undefined {
    return typeof error === "object" && error !== null && "name" in error ? String((error as { name: unknown }).name) : undefined;
}

export function errorMessage(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}

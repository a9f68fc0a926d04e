/** Lambda entry point for the route in api/src/routes.ts whose operation is suspendAddress. */
import { lambdaHandler } from "../src/lambda";

export const handler = lambdaHandler("suspendAddress");
